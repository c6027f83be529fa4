/**
 * The MJR writer against Janus's own tools: RTP captured from ffmpeg (VP8, Opus) written as
 * MJR is converted by `janus-pp-rec` into WebM / Opus that ffprobe reads with the recorded
 * length; a write failure mid-recording leaves a file that still converts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  mjrInfoJson,
  type MjrSink,
  MjrWriter,
  openMjrFile,
} from "../../core/media/rtp/mjr_writer.ts";
import {
  type Captured,
  decodedFrames,
  ffmpegRtp,
  ffprobe,
  janusPpRec,
  requireTool,
} from "./_mjr_tools.ts";

async function tools(): Promise<void> {
  await requireTool("janus-pp-rec", "janus-tools");
  await requireTool("ffmpeg", "ffmpeg");
}

function writeAll(writer: MjrWriter, packets: Captured[]): void {
  for (const { packet, atMs } of packets) writer.writeRtp(packet, packet.length, atMs);
  writer.close();
}

Deno.test("mjr: the header is Janus's magic and JSON, each frame MEET + time + length", () => {
  const chunks: Uint8Array[] = [];
  const sink: MjrSink = {
    write: (b) => (chunks.push(b.slice()), b.length),
    truncate: () => {},
    close: () => {},
  };
  const w = new MjrWriter(sink, { kind: "video", codec: "vp8" });
  const rtp = new Uint8Array([0x80, 96, 0, 1, 0, 0, 0, 9, 0, 0, 0, 7, 0x10, 0xaa]);
  w.writeRtp(rtp, rtp.length, 1000);
  w.writeRtp(rtp, rtp.length, 1250.7);
  w.close();
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) (all.set(c, at), at += c.length);
  assert.equal(new TextDecoder().decode(all.subarray(0, 8)), "MJR00002");
  const jsonLength = (all[8]! << 8) | all[9]!;
  const info = JSON.parse(new TextDecoder().decode(all.subarray(10, 10 + jsonLength)));
  assert.equal(info.t, "v");
  assert.equal(info.c, "vp8");
  assert.ok(info.u >= info.s && info.s > 1.6e15);
  let p = 10 + jsonLength;
  const times: number[] = [];
  while (p < all.length) {
    assert.equal(new TextDecoder().decode(all.subarray(p, p + 4)), "MEET");
    const view = new DataView(all.buffer, p + 4, 6);
    times.push(view.getUint32(0));
    const len = view.getUint16(4);
    assert.deepEqual(all.subarray(p + 10, p + 10 + len), rtp);
    p += 10 + len;
  }
  assert.deepEqual(times, [0, 250]);
  assert.equal(w.packets, 2);
  // Janus's key order and jansson's spacing.
  assert.equal(
    mjrInfoJson({ kind: "audio", codec: "opus", extensions: new Map([[1, "urn:x"]]) }, 5, 6),
    '{"t": "a", "c": "opus", "x": {"1": "urn:x"}, "s": 5, "u": 6}',
  );
});

Deno.test("mjr: VP8 and Opus recordings convert with janus-pp-rec and ffprobe reads their length", async () => {
  await tools();
  const dir = await Deno.makeTempDir({ prefix: "mjr-test-" });
  try {
    const [video, audio] = await Promise.all([
      ffmpegRtp("video", 3, 96),
      ffmpegRtp("audio", 3, 111),
    ]);
    assert.ok(video.length > 90 && audio.length > 100, `${video.length} / ${audio.length}`);
    const vPath = join(dir, "sub", "rec-video.mjr");
    const aPath = join(dir, "sub", "rec-audio.mjr");
    writeAll(new MjrWriter(openMjrFile(vPath), { kind: "video", codec: "vp8" }), video);
    writeAll(new MjrWriter(openMjrFile(aPath), { kind: "audio", codec: "opus" }), audio);
    const vOut = join(dir, "video.webm");
    const aOut = join(dir, "audio.opus");
    const v = await janusPpRec(vPath, vOut);
    assert.ok(v.success, v.log);
    const a = await janusPpRec(aPath, aOut);
    assert.ok(a.success, a.log);
    const vp = await ffprobe(vOut);
    assert.equal(vp.streams[0]?.codec_name, "vp8");
    assert.equal(vp.streams[0]?.width, 640);
    assert.ok(Math.abs(vp.duration - 3) < 0.3, `video duration ${vp.duration}`);
    assert.ok((await decodedFrames(vOut)) >= 80);
    const ap = await ffprobe(aOut);
    assert.equal(ap.streams[0]?.codec_name, "opus");
    assert.ok(Math.abs(ap.duration - 3) < 0.3, `audio duration ${ap.duration}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mjr: a write that fails mid-recording keeps what was written convertible", async () => {
  await tools();
  const dir = await Deno.makeTempDir({ prefix: "mjr-test-" });
  try {
    const video = await ffmpegRtp("video", 2, 96);
    const path = join(dir, "broken.mjr");
    const file = openMjrFile(path);
    let total = 0;
    const limit = 120_000;
    // Like a disk that fills up: part of the buffer goes out, then the write fails.
    const sink: MjrSink = {
      write: (bytes) => {
        if (total >= limit) throw new Error("No space left on device");
        const n = file.write(bytes.subarray(0, Math.min(bytes.length, limit - total)));
        total += n;
        return n;
      },
      truncate: (n) => file.truncate(n),
      close: () => file.close(),
    };
    const writer = new MjrWriter(sink, { kind: "video", codec: "vp8" }, { flushBytes: 16_000 });
    writeAll(writer, video);
    assert.match(String(writer.error), /No space left/);
    const size = (await Deno.stat(path)).size;
    assert.equal(size, writer.bytesWritten);
    assert.ok(size > 50_000 && size <= limit, `size ${size}`);
    const out = join(dir, "broken.webm");
    const r = await janusPpRec(path, out);
    assert.ok(r.success, r.log);
    const probe = await ffprobe(out);
    assert.equal(probe.streams[0]?.codec_name, "vp8");
    assert.ok(probe.duration > 0.1 && probe.duration < 2, `duration ${probe.duration}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mjr: a folder that cannot be written fails when the recording opens", () => {
  assert.throws(() => openMjrFile("/proc/no-such-folder/x.mjr"));
});
