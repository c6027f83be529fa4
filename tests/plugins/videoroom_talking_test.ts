/**
 * VideoRoom `talking` / `stopped-talking` with a real wrtc publisher inside the test network
 * namespace: a 440 Hz tone, then silence, then the tone again, in a room with
 * `audiolevel_event`; the events reach every participant (the speaker too) in the reference's
 * shape (measured on Janus 1.1.2: `{"videoroom":"talking","room":R,"id":P,"mindex":0,
 * "mid":"0","audio-level-dBov-avg":15}`, then `stopped-talking`, 127 after a window of
 * silence), the
 * `talking` flags of `listparticipants` and `joined` follow, a publisher's own
 * `audio_level_average` applies, and a room without `audiolevel_event` stays quiet.
 *
 * Run: `deno run -A tests/_helpers/netns.ts deno test -A tests/plugins/videoroom_talking_test.ts`
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { type ClientPeer, type Wrtc, wrtcTest } from "../media/_client.ts";
import { gateway, sendonlyOffer, VIDEOROOM_ENGINES } from "./_videoroom_media.ts";
import { jsepOf, VideoRoomClient } from "./videoroom_client.ts";

/** Joins `room` and publishes the tone (audio only). */
async function publishAudio(
  wrtc: Wrtc,
  c: VideoRoomClient,
  room: number,
): Promise<{ handle: number; id: number; peer: ClientPeer }> {
  const handle = await c.attach();
  const joined = await c.ask(handle, { request: "join", ptype: "publisher", room, display: "al" });
  const { peer, offer } = await sendonlyOffer(wrtc, { audio: true });
  const event = await c.request(handle, { request: "configure", audio: true }, offer);
  await peer.answer(jsepOf(event).sdp);
  await c.take((e) => e.sender === handle && e.janus === "webrtcup");
  return { handle, id: joined.id as number, peer };
}

function isTalk(d: JsonObject): boolean {
  return d.videoroom === "talking" || d.videoroom === "stopped-talking";
}

for (const engine of VIDEOROOM_ENGINES) {
  wrtcTest(
    `videoroom: talking and stopped-talking from the publisher's audio levels (${engine})`,
    async (
      wrtc,
    ) => {
      await using gw = await gateway(engine);
      await using c = await VideoRoomClient.open(gw.httpUrl);
      const peers: ClientPeer[] = [];
      try {
        const R = 970400;
        const admin = await c.attach();
        await c.sync(admin, {
          request: "create",
          room: R,
          audiolevel_event: true,
          audio_active_packets: 25,
          audio_level_average: 40,
        });
        const bob = await c.attach();
        await c.ask(bob, { request: "join", ptype: "publisher", room: R, display: "bob" });
        const al = await publishAudio(wrtc, c, R);
        peers.push(al.peer);

        // The tone: `talking` to bob and to the speaker, in the reference's shape.
        const heard = await c.takeData(bob, isTalk, 10000);
        // The tone's RMS is 15 dBov under full scale: the reference reports 15 for it.
        const level = heard["audio-level-dBov-avg"];
        assert.ok(typeof level === "number" && Math.abs(level - 15) <= 0.5, JSON.stringify(heard));
        assert.deepEqual(heard, {
          videoroom: "talking",
          room: R,
          id: al.id,
          mindex: 0,
          mid: "0",
          "audio-level-dBov-avg": level,
        });
        assert.deepEqual(Object.keys(heard), [
          "videoroom",
          "room",
          "id",
          "mindex",
          "mid",
          "audio-level-dBov-avg",
        ]);
        assert.deepEqual(await c.takeData(al.handle, isTalk), heard, "the speaker hears it too");
        const parts = await c.sync(admin, { request: "listparticipants", room: R });
        const alice = (parts.participants as JsonObject[]).find((p) => p.id === al.id);
        assert.equal(alice?.talking, true);
        const late = await c.attach();
        const joined = await c.ask(late, { request: "join", ptype: "publisher", room: R });
        const [feed] = joined.publishers as JsonObject[];
        assert.equal(feed?.talking, true, "joined lists the publisher talking");
        assert.equal((feed?.streams as JsonObject[])[0]?.talking, false, "stream flag (reference)");

        // Silence: `stopped-talking` (127 for a window of silence only; a window that still
        // holds some of the tone averages lower, but at or above the threshold).
        al.peer.amplitude = 0;
        const stopped = await c.takeData(bob, isTalk, 10000);
        const silent = stopped["audio-level-dBov-avg"];
        assert.ok(
          typeof silent === "number" && silent >= 40 && silent <= 127,
          JSON.stringify(stopped),
        );
        assert.deepEqual(stopped, {
          videoroom: "stopped-talking",
          room: R,
          id: al.id,
          mindex: 0,
          mid: "0",
          "audio-level-dBov-avg": silent,
        });
        await c.takeData(al.handle, isTalk);
        const quiet = await c.sync(admin, { request: "listparticipants", room: R });
        assert.equal(
          (quiet.participants as JsonObject[]).find((p) => p.id === al.id)?.talking,
          false,
        );

        // The publisher's own threshold: with 5 dBov the tone does not count as talking.
        await c.ask(al.handle, { request: "configure", audio_level_average: 5 });
        al.peer.amplitude = 8000;
        await c.none(bob, isTalk, 2000);
        await c.ask(al.handle, { request: "configure", audio_level_average: 40 });
        assert.equal((await c.takeData(bob, isTalk, 10000)).videoroom, "talking");
      } finally {
        for (const p of peers) p.close();
      }
    },
  );
}

for (const engine of VIDEOROOM_ENGINES) {
  wrtcTest(`videoroom: no talking events without audiolevel_event (${engine})`, async (wrtc) => {
    await using gw = await gateway(engine);
    await using c = await VideoRoomClient.open(gw.httpUrl);
    const peers: ClientPeer[] = [];
    try {
      const R = 970401;
      const admin = await c.attach();
      await c.sync(admin, { request: "create", room: R, audio_active_packets: 25 });
      const bob = await c.attach();
      await c.ask(bob, { request: "join", ptype: "publisher", room: R, display: "bob" });
      const al = await publishAudio(wrtc, c, R);
      peers.push(al.peer);
      await c.none(bob, isTalk, 2000);
      await c.none(al.handle, isTalk, 0);
      const parts = await c.sync(admin, { request: "listparticipants", room: R });
      assert.equal(
        (parts.participants as JsonObject[]).find((p) => p.id === al.id)?.talking,
        false,
      );
    } finally {
      for (const p of peers) p.close();
    }
  });
}
