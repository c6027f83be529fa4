/**
 * Streaming `recording` with real media: ffmpeg (Debian's) feeds a mountpoint VP8 640x480 and
 * Opus over RTP on loopback; its streams are recorded into MJR files (by mid, and by kind with
 * the deprecated fields), which Janus's own `janus-pp-rec` converts to WebM and Opus that
 * ffprobe reads with the recorded duration. The reference's replies and errors on the way,
 * `info` naming the files, `disable` stopping the recordings, and `destroy` while recording
 * leaving a readable file; a data stream recorded as MJR text that janus-pp-rec turns into
 * subtitles. Runs in the test network namespace (`deno task test`).
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { join } from "node:path";
import type { JsonObject } from "../../core/protocol.ts";
import { httpClient } from "../_helpers/janus_client.ts";
import { wrtcTest } from "../media/_client.ts";
import { ffprobe, janusPpRec, requireTool } from "../media/_mjr_tools.ts";
import {
  createAvMountpoint,
  ffmpegSource,
  same,
  startStreamingGateway,
  stErr,
  StHandle,
  stopFfmpeg,
  waitFresh,
} from "./_streaming.ts";

const ID = 77;

/** The `recording` file names `info` shows (with the secret), by mid. */
async function recorded(h: StHandle, id = ID): Promise<Record<string, unknown>> {
  const info = (await h.sync({ request: "info", id, secret: "s" })).info as {
    media: { mid: string; recording?: string }[];
  };
  return Object.fromEntries(info.media.map((m) => [m.mid, m.recording]));
}

/** A `recording` request on the mountpoint with its secret; its reply. */
function rec(h: StHandle, action: string, fields: JsonObject = {}): Promise<JsonObject> {
  return h.sync({ request: "recording", id: ID, action, secret: "s", ...fields });
}

/** Converts `mjr` with janus-pp-rec into `target`; what ffprobe reads of it. */
async function convert(mjr: string, target: string) {
  const done = await janusPpRec(mjr, target);
  assert.ok(done.success, done.log);
  return await ffprobe(target);
}

wrtcTest(
  "streaming recording: a fed mountpoint recorded to MJR by mid and by kind; janus-pp-rec reads it",
  async () => {
    await requireTool("janus-pp-rec", "janus-tools");
    await requireTool("ffprobe", "ffmpeg");
    const dir = await Deno.makeTempDir();
    await using gw = await startStreamingGateway();
    await using c = httpClient(gw.httpUrl);
    const admin = await StHandle.open(c);
    const [audioPort, videoPort] = await createAvMountpoint(admin, ID, { secret: "s" });
    const ffmpeg = ffmpegSource(videoPort, audioPort);
    try {
      await waitFresh(admin, ID, 8000, "s");
      // The reference's checks, in its order.
      same(
        await admin.sync({ request: "recording", id: ID }),
        stErr(453, "Missing mandatory element (action)"),
      );
      same(
        await admin.sync({ request: "recording", id: ID, action: "pause" }),
        stErr(454, "Invalid action (should be start|stop)"),
      );
      same(
        await admin.sync({ request: "recording", id: 404, action: "start" }),
        stErr(455, "No such mountpoint/stream 404"),
      );
      same(
        await admin.sync({ request: "recording", id: ID, action: "start", audio: "x" }),
        stErr(453, "Missing mandatory element (secret)"),
      );
      same(
        await rec(admin, "start"),
        stErr(452, "Missing audio, video and/or data"),
      );
      same(
        await rec(admin, "start", { video: 5 }),
        stErr(454, "Invalid element type (video should be a string)"),
      );
      // A folder cannot be made under a file.
      await Deno.writeTextFile(join(dir, "file"), "");
      same(
        await rec(admin, "start", { media: [{ mid: "a", filename: join(dir, "file", "a") }] }),
        stErr(459, "Error starting recorder for audio"),
      );

      const video = join(dir, "st-video");
      const audio = join(dir, "st-audio");
      same(
        await rec(admin, "start", { media: [{ mid: "v", filename: video }] }),
        { streaming: "ok" },
      );
      same(
        await rec(admin, "start", { audio }),
        { streaming: "ok" },
      );
      assert.deepEqual(await recorded(admin), { a: "st-audio.mjr", v: "st-video.mjr" });
      // Without the secret, info names no file.
      const open = (await admin.sync({ request: "info", id: ID })).info as JsonLike;
      assert.ok(open.media.every((m) => m.recording === undefined));
      same(
        await rec(admin, "start", { audio }),
        stErr(452, "Recording started for this stream"),
      );
      same(
        await rec(admin, "start", { media: [{ mid: "v", filename: video }] }),
        stErr(452, "Recording for audio, video and/or data already started for this stream"),
      );
      const started = performance.now();
      await new Promise((r) => setTimeout(r, 3000));
      same(
        await rec(admin, "stop"),
        stErr(452, "Missing audio, video and or data"),
      );
      same(
        await rec(admin, "stop", { audio: true, video: true }),
        { streaming: "ok" },
      );
      const seconds = (performance.now() - started) / 1000;
      assert.deepEqual(await recorded(admin), { a: undefined, v: undefined });

      const webm = await convert(`${video}.mjr`, join(dir, "st-video.webm"));
      assert.equal(webm.streams[0]?.codec_name, "vp8");
      assert.equal(webm.streams[0]?.width, 640);
      assert.equal(webm.streams[0]?.height, 480);
      // From the first keyframe (at most a third of a second in) to the stop.
      assert.ok(
        webm.duration > seconds - 1 && webm.duration < seconds + 0.5,
        `video ${webm.duration} s of ${seconds}`,
      );
      const opus = await convert(`${audio}.mjr`, join(dir, "st-audio.opus"));
      assert.equal(opus.streams[0]?.codec_name, "opus");
      assert.ok(
        opus.duration > seconds - 0.6 && opus.duration < seconds + 0.5,
        `audio ${opus.duration} s of ${seconds}`,
      );

      // `disable` stops recordings unless told not to; `destroy` closes them too.
      const kept = join(dir, "st-kept");
      await rec(admin, "start", { video: kept });
      same(
        await admin.sync({ request: "disable", id: ID, secret: "s", stop_recording: false }),
        { streaming: "ok" },
      );
      assert.equal((await recorded(admin)).v, "st-kept.mjr");
      same(await admin.sync({ request: "disable", id: ID, secret: "s" }), { streaming: "ok" });
      assert.equal((await recorded(admin)).v, undefined);
      await admin.sync({ request: "enable", id: ID, secret: "s" });
      const last = join(dir, "st-last");
      await rec(admin, "start", { video: last });
      await new Promise((r) => setTimeout(r, 1500));
      same(await admin.sync({ request: "destroy", id: ID, secret: "s" }), {
        streaming: "destroyed",
        destroyed: ID,
      });
      const tail = await convert(`${last}.mjr`, join(dir, "st-last.webm"));
      assert.ok(tail.duration > 0.5, `the destroyed mountpoint's recording: ${tail.duration} s`);
    } finally {
      await stopFfmpeg(ffmpeg);
      await admin.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

type JsonLike = { media: { recording?: string }[] };

wrtcTest(
  "streaming recording: a data stream's datagrams recorded as MJR text that janus-pp-rec reads",
  async () => {
    await requireTool("janus-pp-rec", "janus-tools");
    const dir = await Deno.makeTempDir();
    await using gw = await startStreamingGateway();
    await using c = httpClient(gw.httpUrl);
    const admin = await StHandle.open(c);
    const created = await admin.sync({
      request: "create",
      type: "rtp",
      id: ID,
      secret: "s",
      media: [{ type: "data", mid: "d", port: 0 }],
    });
    const port = ((created.stream as JsonObject).ports as JsonObject[])[0]!.port as number;
    const socket = dgram.createSocket("udp4");
    try {
      const file = join(dir, "st-data");
      same(await rec(admin, "start", { media: [{ mid: "d", filename: file }] }), {
        streaming: "ok",
      });
      assert.deepEqual(await recorded(admin), { d: "st-data.mjr" });
      const texts = ["first line", "second line", "third line"];
      for (const text of texts) {
        await new Promise((r) => socket.send(text, port, "127.0.0.1", r));
        await new Promise((r) => setTimeout(r, 200));
      }
      same(await rec(admin, "stop", { media: [{ mid: "d" }] }), { streaming: "ok" });
      const srt = join(dir, "st-data.srt");
      const done = await janusPpRec(`${file}.mjr`, srt);
      assert.ok(done.success, done.log);
      const lines = Deno.readTextFileSync(srt).split(/\r?\n/);
      for (const text of texts) assert.ok(lines.includes(text), lines.join("\n"));
      same(await admin.sync({ request: "destroy", id: ID, secret: "s" }), {
        streaming: "destroyed",
        destroyed: ID,
      });
    } finally {
      socket.close();
      await admin.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
