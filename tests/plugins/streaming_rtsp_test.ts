/**
 * Streaming `rtsp` mountpoints against a real RTSP server on loopback (`rtsp_server.ts`), whose
 * PLAY starts ffmpeg (Debian's) sending VP8 640x480 and an Opus 440 Hz tone to the ports the
 * gateway's SETUP named: a wrtc viewer decodes both; Digest credentials are sent once asked;
 * OPTIONS keeps the session alive; a server that stops sending is set up again on the same
 * ports and the viewer's picture comes back; `destroy` sends TEARDOWN. With `rtsp_failcheck`
 * off, a server that is not there yet gives a mountpoint with no media that fills in once it
 * answers. Requests and replies are the reference's (checked against Janus 1.1.2 with this
 * server). Runs in the test network namespace (`deno task test`).
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { httpClient } from "../_helpers/janus_client.ts";
import { type PlayTargets, TestRtspServer } from "../_helpers/rtsp_server.ts";
import { goertzel, waitUntil, wrtcTest } from "../media/_client.ts";
import {
  closeViewers,
  destroyWatched,
  ffmpegSource,
  same,
  startStreamingGateway,
  stErr,
  StHandle,
  stopFfmpeg,
  streamingCounts,
  watchWrtc,
  type WrtcViewer,
} from "./_streaming.ts";

/** ffmpeg to the ports a PLAY names; stopped on TEARDOWN or a dropped connection. */
function playWithFfmpeg(t: PlayTargets): () => Promise<void> {
  const ffmpeg = ffmpegSource(t.video?.rtp ?? 9, t.audio?.rtp ?? 9);
  return () => stopFfmpeg(ffmpeg);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

wrtcTest(
  "streaming rtsp: an RTSP server's VP8 and Opus reach a viewer; keep-alive, reconnect, TEARDOWN",
  async (wrtc) => {
    await using gw = await startStreamingGateway();
    await using c = httpClient(gw.httpUrl);
    const server = TestRtspServer.start({
      onPlay: playWithFfmpeg,
      auth: { user: "cam", password: "pw", scheme: "Digest" },
      timeoutS: 2,
    });
    const admin = await StHandle.open(c);
    const viewers: WrtcViewer[] = [];
    try {
      same(
        await admin.sync({
          request: "create",
          type: "rtsp",
          id: 41,
          url: server.url,
          rtsp_user: "cam",
          rtsp_pwd: "pw",
          audio: true,
          video: true,
          rtsp_reconnect_delay: 1,
        }),
        {
          streaming: "created",
          created: "41",
          permanent: false,
          stream: { id: 41, type: "live", description: "41", is_private: false },
        },
      );
      // The reference's sequence: DESCRIBE, again with the credentials, SETUP video then audio.
      assert.deepEqual(server.methods(), ["DESCRIBE", "DESCRIBE", "SETUP", "SETUP", "PLAY"]);
      const setups = server.requests.filter((r) => r.method === "SETUP");
      assert.deepEqual(setups.map((r) => r.uri), [
        `${server.url}/trackID=1`,
        `${server.url}/trackID=0`,
      ]);
      assert.match(setups[0]!.headers.transport!, /^RTP\/AVP\/UDP;unicast;client_port=\d+-\d+$/);
      assert.equal(setups[1]!.headers.session, "12345678");
      assert.match(server.requests[1]!.headers.authorization!, /^Digest username="cam"/);
      const info = (await admin.sync({ request: "info", id: 41 })).info as JsonObject;
      assert.deepEqual(
        (info.media as JsonObject[]).map((m) => [m.mid, m.label, m.codec, m.pt, m.fmtp]),
        [["a", "RTSP audio", "opus", 111, ""], ["v", "RTSP video", "vp8", 100, ""]],
      );
      assert.equal(info.rtsp, true);
      const v = await watchWrtc(c, wrtc, 41);
      viewers.push(v);
      same(await v.h.next(5000), { streaming: "event", result: { status: "started" } });
      await waitUntil("frames", () => v.peer.videoFrames >= 10, 8000);
      assert.deepEqual([v.peer.luma.width, v.peer.luma.height], [640, 480]);
      await waitUntil("1 s of audio", () => v.peer.audio.length >= v.peer.audioRate, 5000);
      const tone = goertzel(v.peer.audio.slice(-v.peer.audioRate / 2), v.peer.audioRate, 440);
      assert.ok(tone > 0, "the 440 Hz tone is heard");
      // Keep-alive at half the server's 2 s timeout.
      await waitUntil("an OPTIONS", () => server.methods().includes("OPTIONS"), 3000);
      // The server goes silent: after the 1 s delay the session is set up again.
      const before = server.requests.length;
      await server.dropConnections();
      await waitUntil(
        "a new PLAY",
        () => server.requests.slice(before).some((r) => r.method === "PLAY"),
        5000,
      );
      const frames = v.peer.videoFrames;
      await waitUntil("frames again", () => v.peer.videoFrames >= frames + 10, 8000);
      const again = server.requests.slice(before).filter((r) => r.method === "SETUP");
      assert.deepEqual(
        again.map((r) => r.headers.transport),
        setups.map((r) => r.headers.transport),
        "the same ports",
      );
      assert.deepEqual(streamingCounts(gw), {
        mountpoints: 1,
        viewers: 1,
        sessions: 2,
        sources: 1,
      });
      await destroyWatched(gw, admin, 41, viewers);
      assert.equal(server.methods().at(-1), "TEARDOWN");
      assert.equal(streamingCounts(gw).sources, 0);
    } finally {
      await closeViewers(viewers, admin);
      await server.close();
    }
  },
);

wrtcTest(
  "streaming rtsp: a server not there fails create, or (rtsp_failcheck off) is waited for",
  async (wrtc) => {
    await using gw = await startStreamingGateway();
    await using c = httpClient(gw.httpUrl);
    const admin = await StHandle.open(c);
    // A port nothing listens on.
    const probe = TestRtspServer.start({ onPlay: () => () => {} });
    const url = probe.url;
    const port = Number(new URL(url).port);
    await probe.close();
    const base = { request: "create", type: "rtsp", url, audio: true, video: true };
    same(await admin.sync({ ...base, id: 42 }), stErr(456, "Error creating 'RTSP' stream"));
    same(
      await admin.sync({ ...base, id: 42, audio: false, video: false }),
      stErr(456, "Can't add 'rtsp' stream, no audio or video have to be streamed..."),
    );
    assert.equal(streamingCounts(gw).sources, 0);
    same(
      await admin.sync({ ...base, id: 43, rtsp_failcheck: false, rtsp_reconnect_delay: 1 }),
      {
        streaming: "created",
        created: "43",
        permanent: false,
        stream: { id: 43, type: "live", description: "43", is_private: false },
      },
    );
    let info = (await admin.sync({ request: "info", id: 43 })).info as JsonObject;
    assert.deepEqual(info.media, []);
    // The server comes up: the next try describes it and the mountpoint gets its media.
    const server = TestRtspServer.start({ onPlay: playWithFfmpeg, port });
    const viewers: WrtcViewer[] = [];
    try {
      const deadline = performance.now() + 5000;
      for (;;) {
        info = (await admin.sync({ request: "info", id: 43 })).info as JsonObject;
        if ((info.media as JsonObject[]).length === 2) break;
        assert.ok(performance.now() < deadline, `no media yet: ${JSON.stringify(info)}`);
        await sleep(200);
      }
      const v = await watchWrtc(c, wrtc, 43);
      viewers.push(v);
      same(await v.h.next(5000), { streaming: "event", result: { status: "started" } });
      await waitUntil("frames", () => v.peer.videoFrames >= 5, 8000);
      // A codec this gateway does not forward is named.
      const h265 = TestRtspServer.start({ onPlay: () => () => {}, videoRtpmap: "H265/90000" });
      try {
        same(
          await admin.sync({ ...base, id: 44, url: h265.url }),
          stErr(
            456,
            "Can't add 'rtsp' stream: video codec 'h265' is not supported " +
              "(opus, pcmu, pcma, vp8, vp9, h264, av1)",
          ),
        );
      } finally {
        await h265.close();
      }
      await destroyWatched(gw, admin, 43, viewers);
      assert.deepEqual(streamingCounts(gw), {
        mountpoints: 0,
        viewers: 0,
        sessions: 2,
        sources: 0,
      });
    } finally {
      await closeViewers(viewers, admin);
      await server.close();
    }
  },
);
