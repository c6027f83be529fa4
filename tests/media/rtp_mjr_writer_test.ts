/**
 * The MJR writer against Janus's own tools: RTP captured from ffmpeg (VP8, Opus) written as
 * MJR is converted by `janus-pp-rec` into WebM / Opus that ffprobe reads with the recorded
 * length; a write failure mid-recording leaves a file that still converts; a data recording's
 * frames (8-byte time, then the message) read back and convert to an `.srt`.
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
import { parseMjrData } from "../../core/media/rtp/mjr_reader.ts";
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

Deno.test("mjr: a data recording frames each message after its 8-byte time; janus-pp-rec makes an .srt", async () => {
  await requireTool("janus-pp-rec", "janus-tools");
  const dir = await Deno.makeTempDir({ prefix: "mjr-data-" });
  try {
    const path = join(dir, "chat-data.mjr");
    const t0 = Date.now() * 1000;
    const writer = new MjrWriter(openMjrFile(path), { kind: "data", codec: "text" });
    writer.writeData(new TextEncoder().encode("hello"), 0, t0 + 500_000);
    writer.writeData(new TextEncoder().encode("wörld"), 2000, t0 + 2_500_000);
    writer.writeData(new Uint8Array(0), 2100); // nothing to write: skipped, as the reference
    writer.close();
    const bytes = Deno.readFileSync(path);
    const view = new DataView(bytes.buffer);
    const infoLength = view.getUint16(8);
    const info = JSON.parse(new TextDecoder().decode(bytes.subarray(10, 10 + infoLength)));
    assert.equal(info.t, "d");
    assert.equal(info.c, "text");
    let at = 10 + infoLength;
    const frames: { ms: number; whenUs: number; text: string }[] = [];
    while (at < bytes.length) {
      assert.equal(new TextDecoder().decode(bytes.subarray(at, at + 4)), "MEET");
      const length = view.getUint16(at + 8);
      frames.push({
        ms: view.getUint32(at + 4),
        whenUs: Number(view.getBigUint64(at + 10)),
        text: new TextDecoder().decode(bytes.subarray(at + 18, at + 10 + length)),
      });
      at += 10 + length;
    }
    assert.deepEqual(frames, [
      { ms: 0, whenUs: t0 + 500_000, text: "hello" },
      { ms: 2000, whenUs: t0 + 2_500_000, text: "wörld" },
    ]);
    // Read back as Record&Play plays it: times from the header's creation time.
    const read = parseMjrData(bytes);
    assert.equal(read.codec, "text");
    assert.deepEqual(read.frames.map((f) => new TextDecoder().decode(f.data)), ["hello", "wörld"]);
    assert.ok(Math.abs(read.frames[1]!.atMs - read.frames[0]!.atMs - 2000) < 1e-6);
    assert.throws(() => parseMjrData(new Uint8Array(4)), /No MJR info header/);

    const srt = join(dir, "chat.srt");
    const converted = await janusPpRec(path, srt);
    assert.ok(converted.success, converted.log);
    const text = Deno.readTextFileSync(srt);
    // Each message's line starts at its time after the recording's creation (about t0).
    const cues = [...text.matchAll(/(\d+)\r?\n00:00:(\d\d)[.,](\d{3}) --> [^\n]+\r?\n([^\r\n]*)/g)]
      .map((m) => ({ n: m[1], at: Number(m[2]) + Number(m[3]) / 1000, text: m[4] }));
    assert.deepEqual(cues.map((c) => [c.n, c.text]), [["1", "hello"], ["2", "wörld"]], text);
    assert.ok(Math.abs(cues[0]!.at - 0.5) < 0.05 && Math.abs(cues[1]!.at - 2.5) < 0.05, text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
