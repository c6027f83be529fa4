/**
 * Streaming SRTP sources (`srtpsuite`/`srtpcrypto`, as the reference's libsrtp ones): ffmpeg
 * (Debian's) sends VP8 and Opus as SRTP to a mountpoint; a wrtc viewer decodes the picture and
 * hears the 440 Hz tone. The same feed to a mountpoint with another key reaches no viewer
 * (every packet fails authentication and is dropped). The reference's create errors for a bad
 * suite and a short crypto. Runs in the test network namespace (`deno task test`).
 */
import assert from "node:assert/strict";
import { httpClient } from "../_helpers/janus_client.ts";
import { goertzel, waitUntil, wrtcTest } from "../media/_client.ts";
import {
  closeViewers,
  createAvMountpoint,
  ffmpegSource,
  same,
  startStreamingGateway,
  stErr,
  StHandle,
  stopFfmpeg,
  waitFresh,
  watchWrtc,
  type WrtcViewer,
} from "./_streaming.ts";

const KEY = "WbTBosdVUZqEb6Htqhn+m3z7wUh4RJVR8nE15GbN";
const OTHER_KEY = "AbTBosdVUZqEb6Htqhn+m3z7wUh4RJVR8nE15GbN";
const SUITE = "AES_CM_128_HMAC_SHA1_80";

wrtcTest(
  "streaming srtp: an SRTP feed decrypted for a wrtc viewer; a wrong key lets nothing through",
  async (wrtc) => {
    await using gw = await startStreamingGateway();
    await using c = httpClient(gw.httpUrl);
    const admin = await StHandle.open(c);
    same(
      await admin.sync({ request: "create", type: "rtp", id: 80, srtpsuite: 33, srtpcrypto: KEY }),
      stErr(456, "Can't add 'rtp' stream, invalid SRTP suite..."),
    );
    same(
      await admin.sync({
        request: "create",
        type: "rtp",
        id: 80,
        srtpsuite: 32,
        srtpcrypto: "c2hvcnQ=",
        media: [{ type: "audio", mid: "a", port: 0, pt: 111, codec: "opus" }],
      }),
      stErr(456, "Error creating 'rtp' stream"),
    );
    const [audioPort, videoPort] = await createAvMountpoint(admin, 81, {
      srtpsuite: 80,
      srtpcrypto: KEY,
    });
    const [otherAudio, otherVideo] = await createAvMountpoint(admin, 82, {
      srtpsuite: 80,
      srtpcrypto: OTHER_KEY,
    });
    const feeds = [
      ffmpegSource(videoPort, audioPort, { suite: SUITE, key: KEY }),
      ffmpegSource(otherVideo, otherAudio, { suite: SUITE, key: KEY }),
    ];
    const viewers: WrtcViewer[] = [];
    try {
      const age = async (id: number) =>
        ((await admin.sync({ request: "info", id })).info as { media: { age_ms: number }[] })
          .media.map((m) => m.age_ms);
      await waitFresh(admin, 81, 8000);
      const v = await watchWrtc(c, wrtc, 81);
      viewers.push(v);
      await waitUntil("decoded frames", () => v.peer.videoFrames > 10, 8000);
      await waitUntil("audio", () => v.peer.audio.length > v.peer.audioRate, 5000);
      const tail = v.peer.audio.slice(-v.peer.audioRate / 2);
      const tone = goertzel(tail, v.peer.audioRate, 440);
      const off = goertzel(tail, v.peer.audioRate, 1000);
      assert.ok(tone > 20 * off, `440 Hz ${tone} against 1000 Hz ${off}`);

      // The other key: packets arrive (the socket reads them) and none is taken.
      const wrong = await watchWrtc(c, wrtc, 82);
      viewers.push(wrong);
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(wrong.peer.videoFrames, 0, "frames decoded through a wrong key");
      assert.ok(
        (await age(82)).every((a) => a > 1500),
        "wrongly keyed packets counted as received",
      );
    } finally {
      for (const f of feeds) await stopFfmpeg(f);
      await closeViewers(viewers, admin);
    }
  },
);
