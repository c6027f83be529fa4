/**
 * VideoRoom `rtp_forward` and recording with a real wrtc publisher on the rtp engine: its video
 * forwarded to loopback UDP ports comes with the SSRC and payload type asked for and ffmpeg
 * decodes it from an SDP file; `listforwarders` and `stop_rtp_forward` act on it; an SRTP
 * forwarder (`srtp_suite`/`srtp_crypto`) is decoded by ffmpeg with the key (not with another),
 * and a PLI sent to its RTCP port (`rtcp_port`, latched with two empty RTP headers) reaches
 * the publisher; a recording
 * (`configure` `record`) is converted by Janus's `janus-pp-rec` and ffprobe reads about the
 * recorded time; `enable_recording` records every publisher; a `rec_dir` that cannot be
 * written leaves publishing untouched.
 *
 * Run: `deno task test tests/plugins/videoroom_rtp_forward_test.ts`
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { buildPli } from "../../core/media/rtp/rtcp.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { freeEvenUdpPort } from "../_helpers/udp_port.ts";
import { type ClientPeer, waitUntil, wrtcTest } from "../media/_client.ts";
import {
  ffmpegFromSdp,
  ffprobe,
  framecrcFrames,
  janusPpRec,
  requireTool,
  UdpSink,
  writeStreamSdp,
} from "../media/_mjr_tools.ts";
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
      await writeStreamSdp(sdp, { kind: "video", port: ffPort, rtpmap: "VP8/90000" });
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 20_000);
      const ffmpeg = ffmpegFromSdp(
        sdp,
        ["-map", "0:v:0", "-frames:v", "30", "-f", "framecrc", "-"],
        abort.signal,
      );
      // ffmpeg has bound its port before the packets (and the keyframe asked for) come: a
      // fixed wait was too short on a loaded machine, and the forwarder asks only once.
      await waitForAsync("ffmpeg bound its port", async () => !(await canBind(ffPort)), 10_000);
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
      assert.equal(framecrcFrames(out), 30, new TextDecoder().decode(out.stderr));

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

/**
 * ffmpeg decoding `frames` VP8 frames of (S)RTP from an SDP file for `port`; ended after 15 s
 * or on `stop` (its output so far is then resolved).
 */
async function ffmpegVp8(
  dir: string,
  name: string,
  port: number,
  frames: number,
  crypto?: { suite: string; key: string },
  stop?: AbortSignal,
): Promise<Deno.CommandOutput> {
  const sdp = join(dir, `${name}.sdp`);
  await writeStreamSdp(sdp, { kind: "video", port, rtpmap: "VP8/90000", crypto });
  const timeout = AbortSignal.timeout(15_000);
  return await ffmpegFromSdp(
    sdp,
    ["-map", "0:v:0", "-frames:v", String(frames), "-f", "framecrc", "-"],
    stop ? AbortSignal.any([stop, timeout]) : timeout,
  );
}

/** Polls the async `check` every 50 ms until it holds, for up to `timeoutMs`. */
async function waitForAsync(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether a UDP socket can bind `port` on `host` now (false: someone, e.g. ffmpeg, has it). */
async function canBind(port: number, host = "127.0.0.1"): Promise<boolean> {
  const probe = dgram.createSocket("udp4");
  const ok = await new Promise<boolean>((resolve) => {
    probe.once("error", () => resolve(false));
    probe.bind(port, host, () => resolve(true));
  });
  probe.close();
  return ok;
}

/** PLIs the publishing peer received on its video (its outbound-rtp `pliCount`). */
async function plisReceived(peer: ClientPeer): Promise<number> {
  let n = 0;
  (await peer.pc.getStats()).forEach((value) => {
    const r = value as { type: string; kind?: string; pliCount?: number };
    if (r.type === "outbound-rtp" && r.kind === "video") n += r.pliCount ?? 0;
  });
  return n;
}

wrtcTest(
  "videoroom: SRTP rtp_forward decoded by ffmpeg with its key; a PLI on its RTCP port reaches the publisher",
  async (wrtc) => {
    await requireTool("ffmpeg", "ffmpeg");
    await using gw = await gateway("rtp");
    await using c = await VideoRoomClient.open(gw.httpUrl);
    const peers: ClientPeer[] = [];
    const dir = await Deno.makeTempDir({ prefix: "vr-srtp-" });
    // The receiver's RTCP socket: gets the latching packets, sends the PLI.
    const rtcp = dgram.createSocket("udp4");
    const latched: { packet: Uint8Array; port: number }[] = [];
    rtcp.on("message", (msg: Uint8Array, rinfo: { port: number }) => {
      latched.push({ packet: new Uint8Array(msg), port: rinfo.port });
    });
    await new Promise<void>((resolve) => rtcp.bind(0, "127.0.0.1", () => resolve()));
    const rtcpPort = (rtcp.address() as AddressInfo).port;
    try {
      const R = 1234;
      const admin = await c.attach();
      const alice = await publish(wrtc, c, R, "alice");
      peers.push(alice.peer);
      const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(30))));
      const other = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(30))));
      const port = await freeEvenUdpPort();
      // One ffmpeg with the key, one with another key on the same packets (a second forwarder).
      const port2 = await freeEvenUdpPort();
      const suite = "AES_CM_128_HMAC_SHA1_80";
      const good = ffmpegVp8(dir, "good", port, 30, { suite, key });
      const stopBad = new AbortController();
      const bad = ffmpegVp8(dir, "bad", port2, 1, { suite, key: other }, stopBad.signal);
      // Both have bound their ports before the packets (and the one keyframe asked for) come.
      await waitForAsync(
        "ffmpeg bound its ports",
        async () => !(await canBind(port)) && !(await canBind(port2)),
        10_000,
      );
      const base = { request: "rtp_forward", room: R, secret: "adminpwd", publisher_id: alice.id };
      const reply = await c.sync(admin, {
        ...base,
        host: "127.0.0.1",
        srtp_suite: 80,
        srtp_crypto: key,
        streams: [
          { mid: "1", port, ssrc: 1234, pt: 100, rtcp_port: rtcpPort },
          { mid: "1", port: port2, pt: 100 },
        ],
      });
      const made = reply.forwarders as JsonObject[];
      assert.equal(made.length, 2, JSON.stringify(reply));
      const local = made[0]!.local_rtcp_port as number;
      assert.ok(Number.isInteger(local) && local > 0, JSON.stringify(made[0]));
      assert.deepEqual(made, [
        {
          stream_id: made[0]!.stream_id as number,
          host: "127.0.0.1",
          port,
          type: "video",
          local_rtcp_port: local,
          remote_rtcp_port: rtcpPort,
          pt: 100,
          ssrc: 1234,
          srtp: true,
        },
        {
          stream_id: made[1]!.stream_id as number,
          host: "127.0.0.1",
          port: port2,
          type: "video",
          pt: 100,
          srtp: true,
        },
      ]);
      const goodOut = await good;
      assert.equal(framecrcFrames(goodOut), 30, new TextDecoder().decode(goodOut.stderr));
      // The same packets that gave 30 frames gave the other key not one.
      stopBad.abort();
      assert.equal(framecrcFrames(await bad), 0, "another key decodes nothing");

      // Latching: two empty RTP headers from the forwarder's RTCP port.
      await waitUntil("latching packets", () => latched.length >= 2, 5000);
      for (const l of latched) {
        assert.deepEqual([...l.packet], [0x80, ...new Array(11).fill(0)]);
        assert.equal(l.port, local);
      }
      // A PLI from the receiver reaches the publisher (after the forwarders' own requests
      // have been answered and the keyframe limiter's interval has passed).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const before = await plisReceived(alice.peer);
      rtcp.send(buildPli(0x1111, 1234), local, "127.0.0.1");
      await waitForAsync(
        "the publisher gets a PLI",
        async () => (await plisReceived(alice.peer)) > before,
        8000,
      );

      // A crypto of fewer than 30 bytes skips the forwarder (the reference's reply).
      assert.deepEqual(
        await c.sync(admin, {
          ...base,
          host: "127.0.0.1",
          srtp_suite: 32,
          srtp_crypto: btoa("too short"),
          streams: [{ mid: "1", port: 9 }],
        }),
        { videoroom: "rtp_forward", room: R, publisher_id: alice.id, forwarders: [] },
      );
      const list = await c.sync(admin, { request: "listforwarders", room: R, secret: "adminpwd" });
      assert.deepEqual(
        ((list.publishers as JsonObject[])[0]!.forwarders as JsonObject[]).map((f) => f.srtp),
        [true, true],
      );
      // Stopping the forwarder frees its RTCP port.
      await c.sync(admin, { ...base, request: "stop_rtp_forward", stream_id: made[0]!.stream_id });
      await waitForAsync("the RTCP port freed", () => canBind(local, "0.0.0.0"), 5000);
    } finally {
      for (const p of peers) p.close();
      rtcp.close();
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
