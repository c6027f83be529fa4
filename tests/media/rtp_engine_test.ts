/**
 * The RTP engine's own media detection, through the engine interface with a real wrtc client
 * in the network namespace: `receiving:false` after the no-media timer (and `updateSettings`
 * changing it live), slow links from the loss its receive statistics count (a UDP relay
 * drops 30% of the client's RTP), and the RTP port range. The EchoTest suites
 * (tests/plugins/echotest_*_test.ts) cover calls, echo, data, trickle and worker loss.
 */
import assert from "node:assert/strict";
import { createMediaEngine, RTP_WORKER_MAIN_URL } from "../../core/media/engine.ts";
import { joinSdp, mediaKind, splitSdp } from "../../core/media/sdp.ts";
import type { MediaStateChange, SlowLinkReport } from "../../core/media/types.ts";
import { ClientPeer, waitUntil, wrtcTest } from "./_client.ts";
import { LossyRelay } from "./_lossy_relay.ts";
import { assertSlowLinkStops, connectThroughRelay, sleep } from "./_media_setup.ts";

wrtcTest(
  "rtp engine: receiving:false after the no-media timer, changed live by updateSettings",
  async (wrtc) => {
    const engine = await createMediaEngine({ workerMain: RTP_WORKER_MAIN_URL, noMediaMs: 1000 });
    const client = new ClientPeer(wrtc, { audio: true, video: true });
    const changes: (MediaStateChange & { at: number })[] = [];
    let connected = false;
    try {
      const peer = await engine.createPeer({
        listener: {
          onConnected: () => void (connected = true),
          onMedia: (c) => void changes.push({ ...c, at: performance.now() }),
        },
      });
      client.trickleTo((c) => peer.addRemoteCandidate(c));
      await client.answer(await peer.acceptOffer(await client.offer()));
      await waitUntil("connected", () => connected);
      await waitUntil("receiving on both mids", () => changes.length >= 2);
      assert.deepEqual(
        changes.map(({ mid, kind, receiving }) => ({ mid, kind, receiving })),
        [{ mid: "0", kind: "audio", receiving: true }, {
          mid: "1",
          kind: "video",
          receiving: true,
        }],
      );
      assert.deepEqual(await engine.updateSettings?.({ noMediaMs: 3000 }), [
        { noMediaMs: 3000, slowLinkThreshold: 0 },
      ]);
      const stoppedAt = performance.now();
      client.stopFeeding();
      await waitUntil("receiving:false on both", () => changes.length >= 4, 8000);
      for (const c of changes.slice(2)) {
        assert.equal(c.receiving, false);
        assert.equal(c.seconds, 3, "the timer's seconds, as Janus sends over 1 s");
        const ms = c.at - stoppedAt;
        assert.ok(ms >= 2900 && ms < 3000 + 1500, `receiving:false after ${ms.toFixed(0)} ms`);
      }
      client.resumeFeeding();
      await waitUntil("receiving again", () => changes.length >= 6, 8000);
      assert.ok(changes.slice(4).every((c) => c.receiving));
      await peer.close();
    } finally {
      client.close();
      await engine.close();
    }
    assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
  },
);

wrtcTest(
  "rtp engine: real loss of the client's RTP makes slowLink reports only while the threshold " +
    "is under it",
  async (wrtc) => {
    const engine = await createMediaEngine({ workerMain: RTP_WORKER_MAIN_URL });
    const relay = await LossyRelay.start(0.3);
    const client = new ClientPeer(wrtc, { audio: true });
    const slow: SlowLinkReport[] = [];
    let connected = false;
    try {
      const peer = await engine.createPeer({
        listener: {
          onConnected: () => void (connected = true),
          onSlowLink: (r) => void slow.push(r),
        },
      });
      await connectThroughRelay(client, peer, relay);
      await waitUntil("connected through the relay", () => connected);

      // Counted losses, however slowly a loaded machine sends (30% of ~50 packets/s).
      let lost = 0;
      for (const deadline = Date.now() + 10_000; lost <= 30 && Date.now() < deadline;) {
        await sleep(500);
        const mids = (await peer.info()).stats.mids as Record<string, { inboundLost: number }>;
        lost = mids["0"]?.inboundLost ?? 0;
      }
      assert.ok(relay.dropped > 30 && lost > 30, `dropped ${relay.dropped}, lost ${lost}`);
      assert.equal(slow.length, 0, "no threshold, no report");

      await engine.updateSettings?.({ slowLinkThreshold: 3 });
      await waitUntil("slowLink", () => slow.length > 0, 5000);
      const [report] = slow;
      assert.ok(report);
      assert.deepEqual({ ...report, lost: 0 }, { mid: "0", kind: "audio", uplink: false, lost: 0 });
      assert.ok(report.lost >= 3, `lost ${report.lost}`);

      await assertSlowLinkStops(engine, slow);
      await peer.close();
    } finally {
      client.close();
      relay.close();
      await engine.close();
    }
    assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
  },
);

wrtcTest("rtp engine: rtpPortRange binds every candidate inside the range", async (wrtc) => {
  const engine = await createMediaEngine({
    workerMain: RTP_WORKER_MAIN_URL,
    rtpPortRange: { min: 42000, max: 42100 },
  });
  const client = new ClientPeer(wrtc, { audio: true, video: true });
  try {
    const peer = await engine.createPeer({ listener: {} });
    const answer = await peer.acceptOffer(await client.offer());
    const ports = [...answer.matchAll(/^a=candidate:\S+ \d+ \S+ \d+ \S+ (\d+) typ/gm)]
      .map((m) => Number(m[1]));
    assert.ok(ports.length > 0, "the answer has candidates");
    for (const port of ports) assert.ok(port >= 42000 && port <= 42100, `port ${port}`);
    await peer.close();
  } finally {
    client.close();
    await engine.close();
  }
  assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
});

/** `sdp` with the m-line's payloads of `codec` (and their rtx) moved to the end of its list. */
function lastInOrder(sdp: string, kind: "audio" | "video", codec: string): string {
  const split = splitSdp(sdp);
  split.media = split.media.map((section) => {
    if (mediaKind(section) !== kind) return section;
    const names = new Map(
      section.map((l) => /^a=rtpmap:(\d+) ([^/]+)/.exec(l)).filter((m) => m !== null)
        .map((m) => [m[1]!, m[2]!.toLowerCase()]),
    );
    const own = new Set([...names].filter(([, n]) => n === codec).map(([pt]) => pt));
    for (const l of section) {
      const rtx = /^a=fmtp:(\d+) apt=(\d+)/.exec(l);
      if (rtx && own.has(rtx[2]!)) own.add(rtx[1]!);
    }
    const [head = "", ...rest] = section;
    const parts = head.split(" ");
    const formats = parts.slice(3);
    const reordered = [...formats.filter((p) => !own.has(p)), ...formats.filter((p) => own.has(p))];
    return [[...parts.slice(0, 3), ...reordered].join(" "), ...rest];
  });
  return joinSdp(split);
}

/** The codec names of an answer's live m-lines of `kind` (rtx aside). */
function answered(sdp: string, kind: "audio" | "video"): string[] {
  const names: string[] = [];
  for (const s of splitSdp(sdp).media) {
    if (mediaKind(s) !== kind || /^m=\S+ 0 /.test(s[0] ?? "")) continue;
    for (const l of s) {
      const name = /^a=rtpmap:\d+ ([^/]+)/.exec(l)?.[1]?.toLowerCase();
      if (name !== undefined && name !== "rtx") names.push(name);
    }
  }
  return names;
}

wrtcTest(
  "rtp engine: with no codec asked, the reference's preference (Opus, VP8), not the offer's order",
  async (wrtc) => {
    const engine = await createMediaEngine({ workerMain: RTP_WORKER_MAIN_URL });
    const client = new ClientPeer(wrtc, { audio: true, video: true });
    try {
      const offer = await client.offer();
      assert.ok(answered(offer, "video").includes("vp9"), "the client offers VP9 too");
      // VP8 and Opus offered last: a Safari-like order.
      const reordered = lastInOrder(lastInOrder(offer, "video", "vp8"), "audio", "opus");
      const first = /^m=video \d+ \S+ (\d+)/m.exec(reordered)?.[1];
      assert.doesNotMatch(reordered, new RegExp(`^a=rtpmap:${first} VP8/`, "m"));
      const peer = await engine.createPeer({ listener: {} });
      const answer = await peer.acceptOffer(reordered);
      assert.deepEqual(answered(answer, "video"), ["vp8"]);
      assert.deepEqual(answered(answer, "audio"), ["opus"]);
      await peer.close();
      // A codec asked is answered, whatever the order.
      const asked = await engine.createPeer({ listener: {} });
      const vp9 = await asked.acceptOffer(reordered, { codecs: { video: ["vp9"] } });
      assert.deepEqual(answered(vp9, "video"), ["vp9"]);
      assert.deepEqual(answered(vp9, "audio"), ["opus"]);
      await asked.close();
    } finally {
      client.close();
      await engine.close();
    }
    assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
  },
);
