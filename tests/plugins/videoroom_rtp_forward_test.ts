/**
 * VideoRoom `rtp_forward` and recording with a real wrtc publisher on the rtp engine: its video
 * forwarded to loopback UDP ports comes with the SSRC and payload type asked for and ffmpeg
 * decodes it from an SDP file; `listforwarders` and `stop_rtp_forward` act on it; a recording
 * (`configure` `record`) is converted by Janus's `janus-pp-rec` and ffprobe reads about the
 * recorded time; `enable_recording` records every publisher; a `rec_dir` that cannot be
 * written leaves publishing untouched.
 *
 * Run: `deno task test tests/plugins/videoroom_rtp_forward_test.ts`
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { JsonObject } from "../../core/protocol.ts";
import { freeEvenUdpPort } from "../_helpers/udp_port.ts";
import { type ClientPeer, waitUntil, wrtcTest } from "../media/_client.ts";
import { ffprobe, janusPpRec, requireTool, UdpSink } from "../media/_mjr_tools.ts";
import { gateway, publish } from "./_videoroom_media.ts";
import { VideoRoomClient } from "./videoroom_client.ts";

wrtcTest(
  "videoroom: rtp_forward sends the publisher's RTP to loopback, ffmpeg decodes it",
  async (wrtc) => {
    await requireTool("ffmpeg", "ffmpeg");
    await using gw = await gateway("rtp");
    await using c = await VideoRoomClient.open(gw.httpUrl);
    const peers: ClientPeer[] = [];
    const sinks: UdpSink[] = [];
    const dir = await Deno.makeTempDir({ prefix: "vr-fwd-" });
    try {
      const R = 1234;
      const admin = await c.attach();
      const alice = await publish(wrtc, c, R, "alice");
      peers.push(alice.peer);
      const video = await UdpSink.open();
      const audio = await UdpSink.open();
      sinks.push(video, audio);
      const ffPort = await freeEvenUdpPort();
      const reply = await c.sync(admin, {
        request: "rtp_forward",
        room: R,
        secret: "adminpwd",
        publisher_id: alice.id,
        host: "127.0.0.1",
        streams: [
          { mid: "1", port: video.port, ssrc: 1234, pt: 100 },
          { mid: "0", port: audio.port, ssrc: 5678, pt: 111 },
          { mid: "7", port: 9 },
        ],
      });
      const forwarders = reply.forwarders as JsonObject[];
      assert.equal(forwarders.length, 2, "an unknown mid is skipped");
      assert.deepEqual(reply, {
        videoroom: "rtp_forward",
        room: R,
        publisher_id: alice.id,
        forwarders: [
          {
            stream_id: forwarders[0]!.stream_id as number,
            host: "127.0.0.1",
            port: video.port,
            type: "video",
            pt: 100,
            ssrc: 1234,
          },
          {
            stream_id: forwarders[1]!.stream_id as number,
            host: "127.0.0.1",
            port: audio.port,
            type: "audio",
            pt: 111,
            ssrc: 5678,
          },
        ],
      });
      // A third forwarder of the video, to the port ffmpeg reads with an SDP file.
      const sdp = join(dir, "fwd.sdp");
      await Deno.writeTextFile(
        sdp,
        [
          "v=0",
          "o=- 0 0 IN IP4 127.0.0.1",
          "s=forwarded",
          "c=IN IP4 127.0.0.1",
          "t=0 0",
          `m=video ${ffPort} RTP/AVP 100`,
          "a=rtpmap:100 VP8/90000",
          "",
        ].join("\n"),
      );
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 20_000);
      const ffmpeg = new Deno.Command("ffmpeg", {
        args: [
          "-hide_banner",
          "-loglevel",
          "error",
          "-protocol_whitelist",
          "file,udp,rtp",
          "-i",
          sdp,
          "-map",
          "0:v:0",
          "-frames:v",
          "30",
          "-f",
          "framecrc",
          "-",
        ],
        stdout: "piped",
        stderr: "piped",
        signal: abort.signal,
      }).output();
      // ffmpeg binds its port before the packets come.
      await new Promise((resolve) => setTimeout(resolve, 700));
      const third = await c.sync(admin, {
        request: "rtp_forward",
        room: R,
        secret: "adminpwd",
        publisher_id: alice.id,
        host: "localhost",
        streams: [{ mid: "1", port: ffPort, ssrc: 1234, pt: 100 }],
      });
      const out = await ffmpeg;
      clearTimeout(timer);
      const frames = new TextDecoder().decode(out.stdout).split("\n")
        .filter((l) => l !== "" && !l.startsWith("#"));
      assert.equal(frames.length, 30, new TextDecoder().decode(out.stderr));

      await waitUntil(
        "forwarded packets",
        () => video.received.length > 50 && audio.received.length > 50,
        8000,
      );
      const header = (p: Uint8Array) => ({
        pt: p[1]! & 0x7f,
        ssrc: new DataView(p.buffer, p.byteOffset).getUint32(8),
      });
      for (const { packet } of video.received) {
        assert.deepEqual(header(packet), { pt: 100, ssrc: 1234 });
      }
      for (const { packet } of audio.received) {
        assert.deepEqual(header(packet), { pt: 111, ssrc: 5678 });
      }

      const list = await c.sync(admin, { request: "listforwarders", room: R, secret: "adminpwd" });
      const listed = (list.publishers as JsonObject[])[0]!;
      assert.equal(listed.publisher_id, alice.id);
      assert.equal(listed.display, "alice");
      assert.equal((listed.forwarders as JsonObject[]).length, 3);

      // stop_rtp_forward: the audio forwarder stops, the others go on.
      const audioId = forwarders[1]!.stream_id as number;
      assert.deepEqual(
        await c.sync(admin, {
          request: "stop_rtp_forward",
          room: R,
          secret: "adminpwd",
          publisher_id: alice.id,
          stream_id: audioId,
        }),
        { videoroom: "stop_rtp_forward", room: R, publisher_id: alice.id, stream_id: audioId },
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      const audioBefore = audio.received.length;
      const videoBefore = video.received.length;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(audio.received.length, audioBefore, "no audio after stop_rtp_forward");
      assert.ok(video.received.length > videoBefore + 20, "video goes on");
      const again = await c.sync(admin, {
        request: "stop_rtp_forward",
        room: R,
        secret: "adminpwd",
        publisher_id: alice.id,
        stream_id: audioId,
      });
      assert.equal(again.error_code, 428);
      assert.equal(((third.forwarders as JsonObject[])[0]!).host, "127.0.0.1");

      // Unpublishing ends the forwarders.
      await c.ask(alice.handle, { request: "unpublish" });
      assert.deepEqual(
        await c.sync(admin, { request: "listforwarders", room: R, secret: "adminpwd" }),
        { videoroom: "forwarders", room: R, publishers: [] },
      );
    } finally {
      for (const p of peers) p.close();
      for (const s of sinks) await s.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

wrtcTest(
  "videoroom: a recording converts with janus-pp-rec to about the recorded time",
  async (wrtc) => {
    await requireTool("janus-pp-rec", "janus-tools");
    await requireTool("ffprobe", "ffmpeg");
    await using gw = await gateway("rtp");
    await using c = await VideoRoomClient.open(gw.httpUrl);
    const peers: ClientPeer[] = [];
    const dir = await Deno.makeTempDir({ prefix: "vr-rec-" });
    try {
      const admin = await c.attach();
      const R = 4321;
      const recDir = join(dir, "recordings");
      await c.sync(admin, { request: "create", room: R, rec_dir: recDir, secret: "s" });
      const alice = await publish(wrtc, c, R, "alice");
      peers.push(alice.peer);
      assert.deepEqual(await c.ask(alice.handle, { request: "configure", record: true }), {
        videoroom: "event",
        room: R,
        configured: "ok",
      });
      const started = performance.now();
      await new Promise((resolve) => setTimeout(resolve, 4000));
      await c.ask(alice.handle, { request: "configure", record: false });
      const recorded = (performance.now() - started) / 1000;
      const files = [...Deno.readDirSync(recDir)].map((e) => e.name).sort();
      assert.equal(files.length, 2, files.join());
      const videoFile = files.find((f) => f.endsWith("-video-1.mjr"))!;
      const audioFile = files.find((f) => f.endsWith("-audio-0.mjr"))!;
      assert.match(
        videoFile,
        new RegExp(`^videoroom-${R}-user-${alice.id}-\\d{16}-video-1\\.mjr$`),
      );
      const webm = join(dir, "video.webm");
      const opus = join(dir, "audio.opus");
      const v = await janusPpRec(join(recDir, videoFile), webm);
      assert.ok(v.success, v.log);
      const a = await janusPpRec(join(recDir, audioFile), opus);
      assert.ok(a.success, a.log);
      const vp = await ffprobe(webm);
      const ap = await ffprobe(opus);
      assert.equal(vp.streams[0]?.codec_name, "vp8");
      assert.equal(ap.streams[0]?.codec_name, "opus");
      // Video starts on the first keyframe it asked for, which the publisher's keyframe limiter
      // (one request a second, the publish's own included) may hold back up to a second; audio
      // starts at once.
      assert.ok(
        vp.duration <= recorded + 0.3 && vp.duration > recorded - 1.3,
        `video ${vp.duration} s of ${recorded} s`,
      );
      assert.ok(Math.abs(ap.duration - recorded) < 0.5, `audio ${ap.duration} s of ${recorded} s`);

      // enable_recording: every publisher records from now on, with its own file names.
      assert.deepEqual(
        await c.sync(admin, { request: "enable_recording", room: R, secret: "s", record: true }),
        { videoroom: "success", record: true },
      );
      await waitUntil(
        "room recording files",
        () => [...Deno.readDirSync(recDir)].length === 4,
        3000,
      );
      assert.deepEqual(
        await c.sync(admin, { request: "enable_recording", room: R, secret: "s", record: false }),
        { videoroom: "success", record: false },
      );

      // A rec_dir that cannot be written: publishing works, no recording (as the reference).
      const R2 = 4322;
      await c.sync(admin, {
        request: "create",
        room: R2,
        rec_dir: "/proc/no-such-dir",
        record: true,
      });
      const bob = await publish(wrtc, c, R2, "bob");
      peers.push(bob.peer);
    } finally {
      for (const p of peers) {
        p.close();
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
);
