/**
 * VideoRoom on the RTP engine, which cannot restart ICE (libdatachannel): a subscriber's
 * `configure` with `restart: true` and a publisher's offer with new ICE credentials each get
 * an error event naming the cause, promptly; both calls go on (frames keep arriving) and both
 * handles still answer requests.
 *
 * Run: `deno run -A tests/_helpers/netns.ts deno test -A tests/plugins/videoroom_ice_restart_test.ts`
 */
import assert from "node:assert/strict";
import { type ClientPeer, waitUntil, wrtcTest } from "../media/_client.ts";
import { gateway, gathered, publish, subscribe } from "./_videoroom_media.ts";
import { VideoRoomClient } from "./videoroom_client.ts";

const REFUSED = {
  videoroom: "event",
  error_code: 499,
  error: "ICE restart is not supported by the rtp media engine",
};

/** Asserts that `peer` decodes more video frames on `mid` within 3 s. */
async function framesGoOn(peer: ClientPeer, mid: string, what: string): Promise<void> {
  const before = peer.framesOf(mid);
  await waitUntil(what, () => peer.framesOf(mid) > before + 10, 3000);
}

wrtcTest(
  "videoroom on rtp: ICE restarts of a subscriber (configure restart) and a publisher (new " +
    "ICE credentials) are refused with an error event; media and both handles go on",
  async (wrtc) => {
    await using gw = await gateway("rtp");
    await using c = await VideoRoomClient.open(gw.httpUrl);
    const peers: ClientPeer[] = [];
    try {
      const R = 1234;
      const alice = await publish(wrtc, c, R, "alice");
      peers.push(alice.peer);
      const sub = await subscribe(wrtc, c, R, [alice.id]);
      peers.push(sub.peer);
      await waitUntil("relayed frames", () => sub.peer.framesOf("1") > 5, 15000);

      const t0 = performance.now();
      assert.deepEqual(await c.ask(sub.handle, { request: "configure", restart: true }), REFUSED);
      const subscriberMs = performance.now() - t0;
      await framesGoOn(sub.peer, "1", "frames after the subscriber's refused restart");
      assert.deepEqual(await c.ask(sub.handle, { request: "configure", restart: false }), {
        videoroom: "event",
        room: R,
        configured: "ok",
      });

      const restart = await alice.peer.pc.createOffer({ iceRestart: true });
      await alice.peer.pc.setLocalDescription(restart);
      const offer = { type: "offer" as const, sdp: await gathered(alice.peer) };
      const t1 = performance.now();
      const refused = await c.ask(alice.handle, { request: "configure" }, offer);
      const publisherMs = performance.now() - t1;
      assert.deepEqual(refused, REFUSED);
      await framesGoOn(sub.peer, "1", "frames after the publisher's refused restart");
      assert.deepEqual(await c.ask(alice.handle, { request: "configure", bitrate: 256_000 }), {
        videoroom: "event",
        room: R,
        configured: "ok",
      });
      // deno-lint-ignore no-console
      console.log(
        `refused in ${subscriberMs.toFixed(0)} ms (subscriber), ${publisherMs.toFixed(0)} ms ` +
          "(publisher)",
      );
    } finally {
      for (const p of peers) p.close();
    }
  },
);
