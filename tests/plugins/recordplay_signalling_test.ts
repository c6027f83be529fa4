/**
 * Record&Play signalling over HTTP and WebSocket, without media: `list` reads the folder's
 * `.nfo` files (codecs from the MJR headers, booleans for audio/video/data), `update` rescans,
 * `configure` echoes its settings, and bad requests get the reference's codes and words (sync
 * for a missing or unknown `request`, events for `record`/`play`/`start`, a bare event for
 * `pause`/`resume` without a recording, 418 for a `restart` that is no playout); a recordings folder
 * that cannot be made leaves the plugin unattachable (the reference does not load then).
 *
 * Run: `deno test -A tests/plugins/recordplay_signalling_test.ts`
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { JsonObject } from "../../core/protocol.ts";
import { MjrWriter, openMjrFile } from "../../core/media/rtp/mjr_writer.ts";
import { txn } from "./_signal.ts";
import { openSignal } from "./_signal.ts";
import { dataOf, failure, RECORDPLAY, RecordPlayClient, recordPlayGateway } from "./_recordplay.ts";

/** A tiny recording of one RTP packet per file (and one text with `data`), with its `.nfo`. */
function writeRecording(dir: string, id: number, name: string, data = false): void {
  const packet = new Uint8Array(20);
  packet[0] = 0x80;
  for (const [kind, codec] of [["audio", "opus"], ["video", "vp8"]] as const) {
    const w = new MjrWriter(openMjrFile(join(dir, `r${id}-${kind}.mjr`)), { kind, codec });
    w.writeRtp(packet, packet.length, 0);
    w.close();
  }
  if (data) {
    const w = new MjrWriter(openMjrFile(join(dir, `r${id}-data.mjr`)), {
      kind: "data",
      codec: "text",
    });
    w.writeData(new TextEncoder().encode("hi"), 0);
    w.close();
  }
  Deno.writeTextFileSync(
    join(dir, `${id}.nfo`),
    `[${id}]\r\nname = ${name}\r\ndate = 2014-10-22 14:44:36\r\n` +
      `audio = r${id}-audio.mjr\r\nvideo = r${id}-video.mjr\r\n` +
      (data ? `data = r${id}-data.mjr\r\n` : ""),
  );
}

for (const kind of ["http", "ws"] as const) {
  Deno.test(`recordplay signalling over ${kind}: list, update, configure and errors`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "rp-sig-" });
    writeRecording(dir, 1234, "Lorenzo says hello!");
    // Not a recording: skipped.
    Deno.writeTextFileSync(join(dir, "7.nfo"), "[7]\r\nname = no media\r\n");
    await using gw = await recordPlayGateway(dir, false);
    const c = await RecordPlayClient.open(kind, gw);
    try {
      const entry = {
        id: 1234,
        name: "Lorenzo says hello!",
        date: "2014-10-22 14:44:36",
        audio: true,
        audio_codec: "opus",
        video: true,
        video_codec: "vp8",
        data: false,
      };
      assert.deepEqual(await c.sync({ request: "list" }), { recordplay: "list", list: [entry] });
      writeRecording(dir, 99, "second");
      assert.deepEqual(
        (await c.sync({ request: "list" })).list,
        [entry],
        "a new .nfo waits for update",
      );
      assert.deepEqual(await c.sync({ request: "update" }), { recordplay: "ok" });
      const ids = ((await c.sync({ request: "list" })).list as JsonObject[]).map((e) => e.id);
      assert.deepEqual(ids.sort(), [1234, 99].sort());
      await Deno.remove(join(dir, "99.nfo"));
      await c.sync({ request: "update" });
      assert.deepEqual((await c.sync({ request: "list" })).list, [entry], "a removed one goes");
      // A recording with a data file lists `data` true.
      writeRecording(dir, 98, "with data", true);
      await c.sync({ request: "update" });
      const withData = ((await c.sync({ request: "list" })).list as JsonObject[])
        .find((e) => e.id === 98);
      assert.deepEqual(withData, { ...entry, id: 98, name: "with data", data: true });
      await Deno.remove(join(dir, "98.nfo"));
      await c.sync({ request: "update" });

      assert.deepEqual(
        await c.sync({
          request: "configure",
          "video-bitrate-max": 100000,
          "video-keyframe-interval": 15000,
        }),
        {
          recordplay: "configure",
          status: "ok",
          settings: { "video-keyframe-interval": 15000, "video-bitrate-max": 100000 },
        },
      );
      assert.deepEqual(
        await c.sync({ request: "configure", "video-bitrate-max": "x" }),
        failure(414, "Invalid element type (video-bitrate-max should be a positive integer)"),
      );
      // Sync errors.
      assert.deepEqual(await c.sync({}), failure(415, "Missing mandatory element (request)"));
      assert.deepEqual(await c.sync({ request: "foo" }), failure(413, "Unknown request 'foo'"));
      // Async errors, as events of their transaction.
      const err = async (body: JsonObject, code: number, text: string) =>
        assert.deepEqual(dataOf(await c.request(body)), failure(code, text), JSON.stringify(body));
      await err({ request: "record", name: "x" }, 415, "Missing SDP offer");
      await err({ request: "play" }, 415, "Missing mandatory element (id)");
      await err(
        { request: "play", id: "1234" },
        414,
        "Invalid element type (id should be a positive integer)",
      );
      await err({ request: "play", id: 4242 }, 416, "No such recording");
      await err({ request: "start" }, 418, "Not a playout session, can't start");
      await err(
        { request: "play", id: 1234, restart: true },
        418,
        "Not a playout session, can't restart",
      );
      // Nothing recorded or played: the reference answers pause/resume with a bare event.
      for (const request of ["pause", "resume", "PAUSE"]) {
        assert.deepEqual(dataOf(await c.request({ request })), { recordplay: "event" }, request);
      }
      assert.deepEqual(dataOf(await c.request({ request: "stop" })), {
        recordplay: "event",
        result: { status: "stopped" },
      });
      const offer = {
        type: "offer" as const,
        sdp: "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
          "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n" +
          "a=rtpmap:111 opus/48000/2\r\na=sendonly\r\n",
      };
      const noName = await c.request({ request: "record" }, offer);
      assert.deepEqual(dataOf(noName), failure(415, "Missing mandatory element (name)"));
      const taken = await c.request({ request: "record", name: "x", id: 1234 }, offer);
      assert.deepEqual(dataOf(taken), failure(420, "Recording 1234 already exists"));
      const withSdp = await c.request({ request: "play", id: 1234 }, offer);
      assert.deepEqual(dataOf(withSdp), failure(414, "A play request can't contain an SDP"));
    } finally {
      await c.close();
      await Deno.remove(dir, { recursive: true });
    }
    assert.equal(gw.counts().sessions, 0);
  });
}

Deno.test("recordplay: a recordings folder that cannot be made leaves the plugin unattachable", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rp-bad-" });
  const file = join(dir, "a-file");
  Deno.writeTextFileSync(file, "");
  await using gw = await recordPlayGateway(join(file, "recordings"), false);
  const s = await openSignal("http", gw);
  try {
    const created = await s.request({ janus: "create", transaction: txn("c") });
    const session = (created.data as JsonObject).id as number;
    const attached = await s.request({
      janus: "attach",
      plugin: RECORDPLAY,
      session_id: session,
      transaction: txn("a"),
    });
    assert.equal(attached.janus, "error", JSON.stringify(attached));
    // The reference does not load the plugin (460); ours is loaded and refuses the attach.
    assert.deepEqual(attached.error, {
      code: 461,
      reason: "Couldn't attach to plugin: The recordings folder cannot be made",
    });
    await s.request({ janus: "destroy", session_id: session, transaction: txn("d") });
  } finally {
    await s.close();
    await Deno.remove(dir, { recursive: true });
  }
});
