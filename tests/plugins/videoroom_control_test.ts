/**
 * VideoRoom media control with real wrtc peers inside the test network namespace: a publisher
 * with one audio and two video streams (the second with a mirrored pattern), a subscriber that
 * takes single streams by mid, and `pause` / `start`, `configure` `send`, `moderate`, publisher
 * `streams[].send`, `update`, `switch`, `unsubscribe` and `unpublish`, each checked on the
 * decoded frames and RTP packets of exactly the m-line it addresses.
 *
 * Run: `deno run -A tests/_helpers/netns.ts deno test -A tests/plugins/videoroom_control_test.ts`
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { ClientPeer, waitUntil, type Wrtc, wrtcTest } from "../media/_client.ts";
import { answerOf, gateway, sendonlyOffer, VIDEOROOM_ENGINES } from "./_videoroom_media.ts";
import { dataOf, jsepOf, VideoRoomClient } from "./videoroom_client.ts";

/** Joins `room` and publishes audio plus `videos` video streams. */
async function publish(
  wrtc: Wrtc,
  c: VideoRoomClient,
  room: number,
  display: string,
  options: { videos: number; invert?: boolean },
): Promise<{ handle: number; id: number; peer: ClientPeer }> {
  const handle = await c.attach();
  const joined = await c.ask(handle, { request: "join", ptype: "publisher", room, display });
  const { peer, offer } = await sendonlyOffer(wrtc, {
    audio: true,
    video: true,
    videoStreams: options.videos,
    invert: options.invert ?? false,
  });
  const event = await c.request(handle, { request: "configure", audio: true, video: true }, offer);
  assert.equal(dataOf(event).configured, "ok", JSON.stringify(dataOf(event)));
  await peer.answer(jsepOf(event).sdp);
  await c.take((e) => e.sender === handle && e.janus === "webrtcup");
  return { handle, id: joined.id as number, peer };
}

/** Frames decoded on `mid` during `ms`, after letting frames in flight drain. */
async function framesDuring(peer: ClientPeer, mid: string, ms = 700): Promise<number> {
  await new Promise((r) => setTimeout(r, 300));
  const before = peer.framesOf(mid);
  await new Promise((r) => setTimeout(r, ms));
  return peer.framesOf(mid) - before;
}

async function packetsDuring(peer: ClientPeer, mid: string, ms = 700): Promise<number> {
  await new Promise((r) => setTimeout(r, 300));
  const before = await peer.packetsOf(mid);
  await new Promise((r) => setTimeout(r, ms));
  return (await peer.packetsOf(mid)) - before;
}

function mirrored(peer: ClientPeer, mid: string): boolean | undefined {
  const m = peer.byMid.get(mid);
  if (!m || Math.abs(m.left - m.right) < 60) return undefined;
  return m.right > m.left;
}

/** Live audio/video m-lines of an SDP as `mid:direction`. */
function layout(sdp: string): string[] {
  return sdp.split(/\r\nm=/).slice(1).filter((s) => /^(audio|video)/.test(s)).map((s) =>
    `${/\r\na=mid:(\S+)/.exec(s)?.[1]}:${
      /\r\na=(sendrecv|sendonly|recvonly|inactive)/.exec(s)?.[1]
    }`
  );
}

for (const engine of VIDEOROOM_ENGINES) {
  wrtcTest(
    `videoroom: pause, send, moderate, switch and unsubscribe act on one m-line (${engine})`,
    async (
      wrtc,
    ) => {
      await using gw = await gateway(engine);
      await using c = await VideoRoomClient.open(gw.httpUrl);
      const peers: ClientPeer[] = [];
      try {
        const R = 970300;
        const admin = await c.attach();
        await c.sync(admin, { request: "create", room: R, publishers: 3 });
        const bob = await c.attach();
        await c.ask(bob, { request: "join", ptype: "publisher", room: R, display: "bob" });
        const alice = await publish(wrtc, c, R, "alice", { videos: 2 });
        peers.push(alice.peer);

        // One subscriber handle takes only alice's second video (mid 2) on its m-line 0.
        const sub = await c.attach();
        const joined = await c.request(sub, {
          request: "join",
          ptype: "subscriber",
          room: R,
          streams: [{ feed: alice.id, mid: "2" }],
        });
        const attached = dataOf(joined);
        assert.deepEqual((attached.streams as JsonObject[]).map((s) => [s.mid, s.feed_mid]), [
          ["0", "2"],
        ]);
        assert.deepEqual(layout(jsepOf(joined).sdp), ["0:sendonly"]);
        const viewer = new ClientPeer(wrtc, {});
        peers.push(viewer);
        await c.ask(sub, { request: "start", room: R }, await answerOf(viewer, jsepOf(joined)));
        await waitUntil("alice's second video", () => viewer.framesOf("0") > 10, 15000);
        assert.equal(mirrored(viewer, "0"), true, "the mirrored stream, not the first video");

        // pause / start.
        assert.deepEqual(await c.ask(sub, { request: "pause" }), {
          videoroom: "event",
          room: R,
          paused: "ok",
        });
        assert.ok((await framesDuring(viewer, "0")) <= 2, "paused");
        await c.ask(sub, { request: "start" });
        assert.ok((await framesDuring(viewer, "0")) > 5, "started again");

        // configure send:false / true on the m-line (streams form and legacy top-level mid).
        await c.ask(sub, { request: "configure", streams: [{ mid: "0", send: false }] });
        assert.ok((await framesDuring(viewer, "0")) <= 2, "send:false");
        await c.ask(sub, { request: "configure", mid: "0", send: true });
        assert.ok((await framesDuring(viewer, "0")) > 5, "send:true");

        // moderate: muting another stream of alice leaves ours alone; muting ours stops it.
        const base = { room: R, id: alice.id };
        await c.sync(admin, { request: "moderate", ...base, mid: "1", mute: true });
        assert.ok((await framesDuring(viewer, "0")) > 5, "other stream moderated only");
        await c.sync(admin, { request: "moderate", ...base, mid: "2", mute: true });
        assert.ok((await framesDuring(viewer, "0")) <= 2, "moderated");
        await c.sync(admin, { request: "moderate", ...base, mid: "2", mute: false });
        assert.ok((await framesDuring(viewer, "0")) > 5, "unmuted");
        await c.sync(admin, { request: "moderate", ...base, mid: "1", mute: false });

        // The publisher switches its stream off for everyone (configure streams[].send).
        await c.ask(alice.handle, { request: "configure", streams: [{ mid: "2", send: false }] });
        assert.ok((await framesDuring(viewer, "0")) <= 2, "publisher send:false");
        await c.ask(alice.handle, { request: "configure", streams: [{ mid: "2", send: true }] });
        assert.ok((await framesDuring(viewer, "0")) > 5, "publisher send:true");

        // Subscribe to alice's audio too: a new m-line "1" in an updated offer.
        const upd = await c.request(sub, {
          request: "update",
          subscribe: [{ feed: alice.id, mid: "0" }],
        });
        assert.equal(dataOf(upd).videoroom, "updated");
        assert.deepEqual(layout(jsepOf(upd).sdp), ["0:sendonly", "1:sendonly"]);
        await c.ask(sub, { request: "start" }, await answerOf(viewer, jsepOf(upd)));
        assert.ok((await packetsDuring(viewer, "1")) > 5, "audio relayed on m-line 1");

        // switch m-line 0 to alice's first video: same mid, the other pattern, no offer.
        const switched = await c.ask(sub, {
          request: "switch",
          streams: [{ feed: alice.id, mid: "1", sub_mid: "0" }],
        });
        assert.equal(switched.changes, 1);
        await waitUntil(
          "switched to the first video",
          () => mirrored(viewer, "0") === false,
          10000,
        );

        // unsubscribe that video: m-line 0 goes inactive and its frames stop; audio goes on.
        const unsub = await c.request(sub, {
          request: "unsubscribe",
          streams: [{ feed: alice.id, mid: "1" }],
        });
        assert.deepEqual(layout(jsepOf(unsub).sdp), ["0:inactive", "1:sendonly"]);
        // The inactive m-line keeps its send flag (Janus 1.1.2 lists it with send: true).
        const inactive = (dataOf(unsub).streams as JsonObject[])[0];
        assert.deepEqual([inactive?.active, inactive?.send], [false, true]);
        await c.ask(sub, { request: "start" }, await answerOf(viewer, jsepOf(unsub)));
        assert.ok((await framesDuring(viewer, "0")) <= 2, "unsubscribed video stops");
        assert.ok((await packetsDuring(viewer, "1")) > 5, "audio still flows");

        // Re-subscribing reuses the inactive m-line 0.
        const again = await c.request(sub, { request: "subscribe", streams: [{ feed: alice.id }] });
        const streams = dataOf(again).streams as JsonObject[];
        assert.deepEqual(streams.map((s) => [s.mid, s.feed_mid]), [
          ["0", "1"],
          ["1", "0"],
          ["2", "2"],
        ]);
        await c.ask(sub, { request: "start" }, await answerOf(viewer, jsepOf(again)));
        await waitUntil("re-subscribed video", () => viewer.framesOf("2") > 5, 10000);
        assert.ok((await framesDuring(viewer, "0")) > 5, "m-line 0 flows again");

        // What Janus 1.1.2 refuses or ignores: an empty list is 430; a request that changes
        // nothing gets a bare `updated` and no offer; a switch skips an unknown sub_mid; a switch
        // with neither streams nor feed looks feed 0 up.
        const err = (code: number, error: string) => ({
          videoroom: "event",
          error_code: code,
          error,
        });
        assert.deepEqual(
          await c.ask(sub, { request: "subscribe", streams: [] }),
          err(430, "Empty subscription list"),
        );
        assert.deepEqual(
          await c.ask(sub, { request: "unsubscribe", streams: [] }),
          err(430, "Empty unsubscription list"),
        );
        assert.deepEqual(
          await c.ask(sub, { request: "update", subscribe: [], unsubscribe: [{ feed: 999 }] }),
          err(430, "Empty subscription list"),
        );
        const noop = await c.request(sub, { request: "unsubscribe", streams: [{ feed: 999 }] });
        assert.deepEqual(dataOf(noop), { videoroom: "updated", room: R });
        assert.equal(noop.jsep, undefined, "no offer for no change");
        const skipped = await c.ask(sub, {
          request: "switch",
          streams: [{ feed: alice.id, mid: "1", sub_mid: "9" }],
        });
        assert.equal(skipped.changes, 0);
        assert.deepEqual(await c.ask(sub, { request: "switch" }), err(428, "No such feed (0)"));
        assert.deepEqual(
          await c.ask(sub, { request: "configure", streams: [{ mid: "9", send: false }] }),
          err(428, "No such mid '9' in subscription"),
        );
        // `publish` on a publishing participant is 434 before its fields are looked at.
        assert.deepEqual(
          await c.ask(alice.handle, { request: "publish", audio: "x" }),
          err(434, "Can't publish, already published"),
        );
        assert.deepEqual(
          await c.ask(alice.handle, {
            request: "configure",
            streams: [{ mid: "1" }, { mid: "9" }],
          }),
          err(428, "No such mid '9' published"),
        );

        // New descriptions of a live feed reach the other participants again (the reference);
        // the same ones again change nothing.
        const described = (d: JsonObject) =>
          ((d.publishers ?? []) as JsonObject[]).some((p) =>
            (p.streams as JsonObject[]).some((s) => s.mid === "1" && s.description === "cam")
          );
        const cam = { request: "configure", descriptions: [{ mid: "1", description: "cam" }] };
        await c.ask(alice.handle, cam);
        const announced = await c.takeData(bob, described);
        assert.equal((announced.publishers as JsonObject[])[0]?.id, alice.id);
        await c.ask(alice.handle, cam);
        await c.none(bob, described);

        // unpublish while our offer (an ICE restart) is unanswered: nothing is pushed until the
        // answer, then the update follows with every m-line inactive (and ready, as on Janus
        // 1.1.2).
        if (engine === "rtp") {
          // libdatachannel cannot restart ICE: the engine refuses it clearly, and the unpublish
          // is offered at once.
          const refused = await c.ask(sub, { request: "configure", restart: true });
          assert.match(
            String(refused.error),
            /ICE restart is not supported/,
            JSON.stringify(refused),
          );
          await c.ask(alice.handle, { request: "unpublish" });
          const gone = await c.take((e) => e.sender === sub && dataOf(e).videoroom === "updated");
          assert.deepEqual(layout(jsepOf(gone).sdp), ["0:inactive", "1:inactive", "2:inactive"]);
          await c.ask(sub, { request: "start" }, await answerOf(viewer, jsepOf(gone)));
          assert.ok((await packetsDuring(viewer, "1")) <= 2, "audio stopped with the unpublish");
          return;
        }
        const restart = await c.request(sub, { request: "configure", restart: true });
        await c.ask(alice.handle, { request: "unpublish" });
        const renegotiating = (d: JsonObject) =>
          d.videoroom === "updating" || d.videoroom === "updated";
        await c.none(sub, renegotiating, 1000);
        await c.ask(sub, { request: "start" }, await answerOf(viewer, jsepOf(restart)));
        const gone = await c.take((e) => e.sender === sub && dataOf(e).videoroom === "updated");
        assert.deepEqual(layout(jsepOf(gone).sdp), ["0:inactive", "1:inactive", "2:inactive"]);
        assert.deepEqual(
          (dataOf(gone).streams as JsonObject[]).map((s) => [s.active, s.ready]),
          [[false, true], [false, true], [false, true]],
        );
        assert.ok((await packetsDuring(viewer, "1")) <= 2, "audio stopped with the unpublish");
      } finally {
        for (const p of peers) p.close();
      }
    },
  );
}

for (const engine of VIDEOROOM_ENGINES) {
  wrtcTest(
    `videoroom: legacy switch moves a whole subscription to another feed (${engine})`,
    async (wrtc) => {
      await using gw = await gateway(engine);
      await using c = await VideoRoomClient.open(gw.httpUrl);
      const peers: ClientPeer[] = [];
      try {
        const R = 970301;
        const admin = await c.attach();
        await c.sync(admin, { request: "create", room: R, publishers: 3 });
        const ann = await publish(wrtc, c, R, "ann", { videos: 1 });
        const ben = await publish(wrtc, c, R, "ben", { videos: 1, invert: true });
        peers.push(ann.peer, ben.peer);
        const sub = await c.attach();
        const joined = await c.request(sub, {
          request: "join",
          ptype: "subscriber",
          room: R,
          feed: ann.id,
        });
        const viewer = new ClientPeer(wrtc, {});
        peers.push(viewer);
        await c.ask(sub, { request: "start", room: R }, await answerOf(viewer, jsepOf(joined)));
        await waitUntil("ann's video", () => mirrored(viewer, "1") === false, 15000);
        const switched = await c.ask(sub, { request: "switch", feed: ben.id });
        assert.equal(switched.changes, 2);
        await waitUntil("ben's video", () => mirrored(viewer, "1") === true, 10000);
        assert.ok((await packetsDuring(viewer, "0")) > 5, "ben's audio");
        // ann leaving no longer concerns this subscriber: no update offer comes.
        await c.ask(ann.handle, { request: "leave" });
        await c.none(sub, (d) => d.videoroom === "updated", 500);
        assert.ok((await framesDuring(viewer, "1")) > 5, "still ben");
      } finally {
        for (const p of peers) p.close();
      }
    },
  );
}
