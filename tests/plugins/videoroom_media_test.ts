/**
 * VideoRoom with real wrtc peers inside the test network namespace: a publisher and a
 * subscriber (decoded pattern frames), three participants each receiving the other two on one
 * multistream subscriber PC, and unpublish / leave as the others see them. Every peer is
 * released at the end (the gateway helper asserts zero counts on stop).
 *
 * Run: `deno run -A tests/_helpers/netns.ts deno test -A tests/plugins/videoroom_media_test.ts`
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { type ClientPeer, waitUntil, wrtcTest } from "../media/_client.ts";
import { directions, gateway, publish, subscribe, VIDEOROOM_ENGINES } from "./_videoroom_media.ts";
import { dataOf, jsepOf, VideoRoomClient } from "./videoroom_client.ts";

/** Inbound video m-lines that decoded at least `n` frames. */
async function decodingVideos(peer: ClientPeer, n: number): Promise<number> {
  let count = 0;
  (await peer.pc.getStats()).forEach((value) => {
    const r = value as { type: string; kind?: string; framesDecoded?: number };
    if (r.type === "inbound-rtp" && r.kind === "video" && (r.framesDecoded ?? 0) >= n) count++;
  });
  return count;
}

for (const engine of VIDEOROOM_ENGINES) {
  wrtcTest(
    `videoroom: a publisher and a subscriber, pattern frames, unpublish and leave (${engine})`,
    async (wrtc) => {
      await using gw = await gateway(engine);
      await using c = await VideoRoomClient.open(gw.httpUrl);
      const peers: ClientPeer[] = [];
      try {
        const R = 1234;
        const bob = await c.attach();
        const bobId =
          (await c.ask(bob, { request: "join", ptype: "publisher", room: R, display: "bob" }))
            .id;
        const alice = await publish(wrtc, c, R, "alice");
        peers.push(alice.peer);
        const announced = await c.takeData(bob, (d) => "publishers" in d);
        assert.deepEqual(announced, {
          videoroom: "event",
          room: R,
          publishers: [{
            id: alice.id,
            display: "alice",
            audio_codec: "opus",
            video_codec: "vp8",
            streams: [
              { type: "audio", mindex: 0, mid: "0", codec: "opus", fec: true },
              { type: "video", mindex: 1, mid: "1", codec: "vp8" },
            ],
          }],
        });
        const sub = await subscribe(wrtc, c, R, [alice.id]);
        peers.push(sub.peer);
        assert.deepEqual(sub.attached.streams, [
          {
            type: "audio",
            active: true,
            mindex: 0,
            mid: "0",
            ready: false,
            send: true,
            feed_id: alice.id,
            feed_display: "alice",
            feed_mid: "0",
            codec: "opus",
          },
          {
            type: "video",
            active: true,
            mindex: 1,
            mid: "1",
            ready: false,
            send: true,
            feed_id: alice.id,
            feed_display: "alice",
            feed_mid: "1",
            codec: "vp8",
          },
        ]);
        await waitUntil("relayed frames", () => sub.peer.videoFrames > 15, 15000);
        assert.ok(
          sub.peer.luma.left > sub.peer.luma.right + 60,
          `pattern survives the relay: ${JSON.stringify(sub.peer.luma)}`,
        );
        const parts = await c.sync(bob, { request: "listparticipants", room: R });
        assert.deepEqual(parts.participants, [
          { id: bobId, display: "bob", publisher: false },
          { id: alice.id, display: "alice", publisher: true, talking: false },
        ]);

        // Unpublish: ok, then the core's hangup; bob hears it (twice); the subscriber gets an
        // `updated` offer with inactive m-lines.
        const gone = await c.ask(alice.handle, { request: "unpublish" });
        assert.deepEqual(gone, { videoroom: "event", room: R, unpublished: "ok" });
        await c.take((e) =>
          e.sender === alice.handle && e.janus === "hangup" && e.reason === "Close PC"
        );
        assert.deepEqual(await c.takeData(bob, (d) => "unpublished" in d), {
          videoroom: "event",
          room: R,
          unpublished: alice.id,
        });
        await c.takeData(bob, (d) => "unpublished" in d);
        const update = await c.take((e) =>
          e.sender === sub.handle && dataOf(e).videoroom === "updated"
        );
        assert.deepEqual(dataOf(update).streams, [
          { type: "audio", active: false, mindex: 0, mid: "0", ready: false, send: true },
          { type: "video", active: false, mindex: 1, mid: "1", ready: false, send: true },
        ]);
        const reoffer = jsepOf(update);
        assert.equal(reoffer.type, "offer");
        assert.deepEqual(directions(reoffer.sdp), ["inactive", "inactive"]);
        await c.none(sub.handle, (d) => "unpublished" in d);

        // Subscriber leave: left, then hangup. Publisher leave: bob hears leaving.
        assert.deepEqual(await c.ask(sub.handle, { request: "leave" }), {
          videoroom: "event",
          room: R,
          left: "ok",
        });
        await c.take((e) => e.sender === sub.handle && e.janus === "hangup");
        assert.deepEqual(await c.ask(alice.handle, { request: "leave" }), {
          videoroom: "event",
          room: R,
          leaving: "ok",
        });
        assert.deepEqual(await c.takeData(bob, (d) => "leaving" in d), {
          videoroom: "event",
          room: R,
          leaving: alice.id,
        });
      } finally {
        for (const p of peers) p.close();
      }
    },
  );
}

for (const engine of VIDEOROOM_ENGINES) {
  wrtcTest(
    `videoroom: three participants each receive the other two on one subscriber PC (${engine})`,
    async (wrtc) => {
      await using gw = await gateway(engine);
      await using c = await VideoRoomClient.open(gw.httpUrl);
      const peers: ClientPeer[] = [];
      try {
        const R = 970200;
        const admin = await c.attach();
        await c.sync(admin, { request: "create", room: R, publishers: 3 });
        const names = ["ann", "ben", "cid"];
        const pubs = [];
        for (const name of names) {
          const p = await publish(wrtc, c, R, name);
          peers.push(p.peer);
          pubs.push(p);
        }
        // The last one to join saw the two others in `joined`.
        const listed = (pubs[2]?.joined.publishers as JsonObject[]).map((p) => p.display);
        assert.deepEqual(listed, ["ann", "ben"]);
        const subs = [];
        for (const [i, me] of pubs.entries()) {
          const others: number[] = pubs.filter((p) => p !== me).map((p) => p.id);
          const sub = await subscribe(wrtc, c, R, others, me.joined.private_id as number);
          peers.push(sub.peer);
          const feeds = (sub.attached.streams as JsonObject[]).map((s) => s.feed_id);
          assert.deepEqual(feeds, [others[0], others[0], others[1], others[1]], names[i]);
          subs.push(sub);
        }
        for (const [i, sub] of subs.entries()) {
          await waitUntil(`${names[i]} decodes two feeds`, () => sub.peer.videoFrames > 30, 20000);
          let decoding = 0;
          const deadline = Date.now() + 10000;
          while ((decoding = await decodingVideos(sub.peer, 5)) < 2 && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 200));
          }
          assert.equal(decoding, 2, `${names[i]} receives both other feeds`);
        }
        // cid leaves while publishing: as on the reference, the two others hear only `leaving`
        // and their subscriptions get no new offer (cid's m-lines go inactive quietly); cid's
        // PeerConnection stays until cid hangs up.
        const [ann, ben, cid] = pubs as [typeof pubs[0], typeof pubs[0], typeof pubs[0]];
        await c.ask(cid.handle, { request: "leave" });
        for (const p of [ann, ben]) {
          assert.deepEqual(await c.takeData(p.handle, (d) => "leaving" in d), {
            videoroom: "event",
            room: R,
            leaving: cid.id,
          });
        }
        await c.send({ janus: "hangup" }, cid.handle);
        await c.take((e) => e.sender === cid.handle && e.janus === "hangup");
        for (const h of [ann.handle, ben.handle, ...subs.slice(0, 2).map((s) => s.handle)]) {
          await c.none(h, (d) => "unpublished" in d || d.videoroom === "updated");
        }
        // The next `update` renegotiates, even one that changes nothing: cid's m-lines are
        // inactive.
        for (const sub of subs.slice(0, 2)) {
          const nothing = { request: "update", unsubscribe: [{ feed: 999999 }] };
          const update = await c.request(sub.handle, nothing);
          assert.equal(dataOf(update).videoroom, "updated");
          const streams = dataOf(update).streams as JsonObject[];
          assert.equal(streams.filter((s) => s.active === false).length, 2);
          assert.equal(streams.filter((s) => s.active === true).length, 2);
          assert.deepEqual(
            directions(jsepOf(update).sdp).filter((d) => d === "inactive").length,
            2,
          );
        }
        await c.sync(admin, { request: "destroy", room: R });
        for (const p of [ann, ben]) await c.takeData(p.handle, (d) => d.videoroom === "destroyed");
      } finally {
        for (const p of peers) p.close();
      }
    },
  );
}
