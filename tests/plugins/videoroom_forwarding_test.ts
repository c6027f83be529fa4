/**
 * What makes VideoRoom an SFU, on each media engine, with real wrtc peers inside the test
 * network namespace: the room `bitrate` caps the publisher's own video sender; a subscriber
 * joining a running feed starts on a keyframe and decodes at once; `switch` and
 * `pause`/`start` show video again quickly, a publisher's renegotiation does not stop it, and
 * the subscriber sees no sequence-number jump (its inbound-rtp `packetsLost` stays small).
 *
 * Run: `deno run -A tests/_helpers/netns.ts deno test -A tests/plugins/videoroom_forwarding_test.ts`
 */
import assert from "node:assert/strict";
import { ClientPeer, waitUntil, type Wrtc, wrtcTest } from "../media/_client.ts";
import { answerOf, gateway, sendonlyOffer, VIDEOROOM_ENGINES } from "./_videoroom_media.ts";
import { dataOf, jsepOf, VideoRoomClient } from "./videoroom_client.ts";

/** The room cap, in bits per second. */
const CAP = 64_000;
/**
 * How far over its target the encoder may send on noisy video: libwebrtc given a REMB of the
 * cap sends a few % over it (measured: 65-68 kb/s for 64).
 */
const OVERSHOOT = 1.15;
/** How long the publisher has to come under the cap, in ms. */
const CAP_WITHIN_MS = 10_000;
/** How soon a subscriber decodes after `start`, in ms. */
const FIRST_FRAME_MS = 1_000;
/** How soon video is back after `switch` or `start` (resume), in ms. */
const BACK_WITHIN_MS = 500;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Joins `room`, publishes audio and video, returns after webrtcup. */
async function publish(
  wrtc: Wrtc,
  c: VideoRoomClient,
  room: number,
  display: string,
  options: { invert?: boolean; noise?: boolean } = {},
): Promise<{ handle: number; id: number; peer: ClientPeer }> {
  const handle = await c.attach();
  const joined = await c.ask(handle, { request: "join", ptype: "publisher", room, display });
  const { peer, offer } = await sendonlyOffer(wrtc, { audio: true, video: true, ...options });
  const event = await c.request(handle, { request: "configure", audio: true, video: true }, offer);
  assert.equal(dataOf(event).configured, "ok", JSON.stringify(dataOf(event)));
  await peer.answer(jsepOf(event).sdp);
  await c.take((e) => e.sender === handle && e.janus === "webrtcup");
  return { handle, id: joined.id as number, peer };
}

/** The video bytes `peer` sent so far (outbound-rtp). */
async function sentVideoBytes(peer: ClientPeer): Promise<number> {
  let bytes = 0;
  (await peer.pc.getStats()).forEach((value) => {
    const r = value as { type: string; kind?: string; bytesSent?: number };
    if (r.type === "outbound-rtp" && r.kind === "video") bytes += r.bytesSent ?? 0;
  });
  return bytes;
}

/** `peer`'s video send rate over the next `ms`, in bits per second. */
async function sendRate(peer: ClientPeer, ms = 1000): Promise<number> {
  const before = await sentVideoBytes(peer);
  const start = performance.now();
  await sleep(ms);
  return ((await sentVideoBytes(peer)) - before) * 8000 / (performance.now() - start);
}

/** The subscriber's inbound-rtp video counters. */
async function inboundVideo(
  peer: ClientPeer,
): Promise<{ packetsLost: number; pliCount: number; keyFramesDecoded: number }> {
  const out = { packetsLost: 0, pliCount: 0, keyFramesDecoded: 0 };
  (await peer.pc.getStats()).forEach((value) => {
    const r = value as {
      type: string;
      kind?: string;
      packetsLost?: number;
      pliCount?: number;
      keyFramesDecoded?: number;
    };
    if (r.type !== "inbound-rtp" || r.kind !== "video") return;
    out.packetsLost += r.packetsLost ?? 0;
    out.pliCount += r.pliCount ?? 0;
    out.keyFramesDecoded += r.keyFramesDecoded ?? 0;
  });
  return out;
}

/** Ms until `peer` decodes a new frame on `mid` that passes `check` (polled every 10 ms). */
async function msUntilFrame(
  peer: ClientPeer,
  mid: string,
  check: () => boolean = () => true,
  limitMs = 5000,
): Promise<number> {
  const start = performance.now();
  const before = peer.framesOf(mid);
  await waitUntil(`a frame on ${mid}`, () => peer.framesOf(mid) > before && check(), limitMs);
  return performance.now() - start;
}

/** Whether the last frame on `mid` has the mirrored pattern (undefined: not decided). */
function mirrored(peer: ClientPeer, mid: string): boolean | undefined {
  const m = peer.byMid.get(mid);
  if (!m || Math.abs(m.left - m.right) < 60) return undefined;
  return m.right > m.left;
}

for (const engine of VIDEOROOM_ENGINES) {
  wrtcTest(
    `videoroom on ${engine}: the room bitrate ${CAP} caps the publisher's own video sender ` +
      `(outbound-rtp, within 15%) within ${CAP_WITHIN_MS / 1000} s; an uncapped one ` +
      "sends far more",
    async (wrtc) => {
      await using gw = await gateway(engine);
      await using c = await VideoRoomClient.open(gw.httpUrl);
      const peers: ClientPeer[] = [];
      try {
        const admin = await c.attach();
        await c.sync(admin, { request: "create", room: 970400, publishers: 2 });
        await c.sync(admin, { request: "create", room: 970401, publishers: 2, bitrate: CAP });
        const free = await publish(wrtc, c, 970400, "free", { noise: true });
        peers.push(free.peer);
        const capped = await publish(wrtc, c, 970401, "capped", { noise: true });
        peers.push(capped.peer);
        // What the publisher sends comes to the cap (the REMB or b=AS it obeys), give or take
        // the encoder's overshoot on noise.
        const since = performance.now();
        const rates: number[] = [];
        let under = false;
        while (performance.now() - since < CAP_WITHIN_MS) {
          const rate = await sendRate(capped.peer);
          rates.push(Math.round(rate));
          if (rate > 0 && rate < CAP * OVERSHOOT) {
            under = true;
            break;
          }
        }
        assert.ok(under, `capped publisher's rates (b/s): ${rates.join(", ")}`);
        const later = await sendRate(capped.peer, 3000);
        assert.ok(
          later < CAP * OVERSHOOT,
          `capped: ${rates.join(", ")}, then ${later.toFixed(0)} b/s over 3 s`,
        );
        const uncapped = await sendRate(free.peer, 2000);
        assert.ok(uncapped > 4 * CAP, `the uncapped publisher sends ${uncapped.toFixed(0)} b/s`);
        // deno-lint-ignore no-console
        console.log(
          `${engine}: capped ${rates.join(", ")} then ${later.toFixed(0)} b/s over 3 s; ` +
            `uncapped ${uncapped.toFixed(0)} b/s`,
        );
      } finally {
        for (const p of peers) p.close();
      }
    },
  );

  wrtcTest(
    `videoroom on ${engine}: a late subscriber starts on a keyframe and decodes within ` +
      `${FIRST_FRAME_MS} ms; switch and resume show video within ${BACK_WITHIN_MS} ms, ` +
      "with no sequence jump",
    async (wrtc) => {
      await using gw = await gateway(engine);
      await using c = await VideoRoomClient.open(gw.httpUrl);
      const peers: ClientPeer[] = [];
      try {
        const R = 970402;
        const admin = await c.attach();
        await c.sync(admin, { request: "create", room: R, publishers: 3 });
        const ann = await publish(wrtc, c, R, "ann");
        const ben = await publish(wrtc, c, R, "ben", { invert: true });
        peers.push(ann.peer, ben.peer);
        // Well past the publishers' first keyframes: the subscriber's must be asked for.
        await sleep(2000);

        const sub = await c.attach();
        const joined = await c.request(sub, {
          request: "join",
          ptype: "subscriber",
          room: R,
          streams: [{ feed: ann.id, mid: "1" }],
        });
        const viewer = new ClientPeer(wrtc, {});
        peers.push(viewer);
        const answer = await answerOf(viewer, jsepOf(joined));
        const startedAt = performance.now();
        await c.ask(sub, { request: "start", room: R }, answer);
        await waitUntil("first frame", () => viewer.framesOf("0") > 0, 5000);
        const firstMs = performance.now() - startedAt;
        const first = await inboundVideo(viewer);
        assert.ok(firstMs < FIRST_FRAME_MS, `first frame ${firstMs.toFixed(0)} ms after start`);
        assert.ok(first.keyFramesDecoded >= 1, JSON.stringify(first));
        assert.equal(mirrored(viewer, "0"), false, "ann's pattern");
        await sleep(1200);

        // switch m-line 0 to ben's video: ben's (mirrored) pattern shows at once.
        const switched = await c.ask(sub, {
          request: "switch",
          streams: [{ feed: ben.id, mid: "1", sub_mid: "0" }],
        });
        assert.equal(switched.changes, 1);
        const switchMs = await msUntilFrame(viewer, "0", () => mirrored(viewer, "0") === true);
        assert.ok(switchMs < BACK_WITHIN_MS, `video after switch in ${switchMs.toFixed(0)} ms`);
        await sleep(1200);

        // pause / start: the frames stop, then come back on a keyframe.
        await c.ask(sub, { request: "pause" });
        await sleep(500);
        const paused = viewer.framesOf("0");
        await sleep(700);
        assert.ok(viewer.framesOf("0") - paused <= 1, "paused");
        await c.ask(sub, { request: "start" });
        const resumeMs = await msUntilFrame(viewer, "0");
        assert.ok(resumeMs < BACK_WITHIN_MS, `video after resume in ${resumeMs.toFixed(0)} ms`);

        // Back to ann, who then renegotiates (a new offer on her live PC): the subscriber's
        // video goes on, its sequence numbers continuous, nothing lost.
        await c.ask(sub, {
          request: "switch",
          streams: [{ feed: ann.id, mid: "1", sub_mid: "0" }],
        });
        await msUntilFrame(viewer, "0", () => mirrored(viewer, "0") === false);
        const reoffer = { type: "offer" as const, sdp: await ann.peer.offer() };
        const renegotiated = await c.request(ann.handle, { request: "configure" }, reoffer);
        assert.equal(dataOf(renegotiated).configured, "ok", JSON.stringify(renegotiated));
        await ann.peer.answer(jsepOf(renegotiated).sdp);
        await sleep(1000);
        const during = viewer.framesOf("0");
        await sleep(700);
        assert.ok(viewer.framesOf("0") - during > 5, "video goes on after ann renegotiated");
        const end = await inboundVideo(viewer);
        assert.ok(end.packetsLost <= 5, `the subscriber lost ${end.packetsLost} packets`);
        // deno-lint-ignore no-console
        console.log(
          `${engine}: first frame ${firstMs.toFixed(0)} ms, switch ${switchMs.toFixed(0)} ms, ` +
            `resume ${resumeMs.toFixed(0)} ms; subscriber ${JSON.stringify(end)}`,
        );
      } finally {
        for (const p of peers) p.close();
      }
    },
  );
}
