/**
 * Streaming file mountpoints, as the reference's `live` and `ondemand` types: files made here
 * with ffmpeg (Debian's) — a-law, mu-law and Ogg/Opus tones — played to wrtc viewers. A `live`
 * file is one playout every viewer shares; an `ondemand` one starts from its beginning for each
 * viewer (a viewer joining later still hears the file's first tone) on a source of its own,
 * closed when the viewer leaves. The reference's answers for files: `info`, `list`, and the
 * `recording`/`switch` refusals. Runs in the test network namespace (`deno task test`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { httpClient } from "../_helpers/janus_client.ts";
import { goertzel, waitUntil, wrtcTest } from "../media/_client.ts";
import { requireTool } from "../media/_mjr_tools.ts";
import {
  closeViewers,
  same,
  startStreamingGateway,
  stErr,
  StHandle,
  streamingCounts,
  watchWrtc,
  type WrtcViewer,
} from "./_streaming.ts";

/** Writes a file of `tones` ([Hz, seconds], one after the other) in ffmpeg format `format`. */
async function toneFile(
  path: string,
  format: "alaw" | "mulaw" | "opus",
  tones: [number, number][],
) {
  const rate = format === "opus" ? 48000 : 8000;
  const inputs = tones.flatMap(([hz, s]) => [
    "-f",
    "lavfi",
    "-i",
    `sine=frequency=${hz}:sample_rate=${rate}:duration=${s}`,
  ]);
  const concat = tones.map((_, i) => `[${i}]`).join("") + `concat=n=${tones.length}:v=0:a=1`;
  const codec = format === "opus"
    ? ["-c:a", "libopus", "-b:a", "48k", "-f", "ogg"]
    : ["-ar", "8000", "-ac", "1", "-f", format];
  const out = await new Deno.Command("ffmpeg", {
    args: [
      "-hide_banner",
      "-loglevel",
      "error",
      ...inputs,
      "-filter_complex",
      concat,
      ...codec,
      path,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

/** The strongest of `candidates` (Hz) in `samples`. */
function loudest(samples: number[], rate: number, candidates: number[]): number {
  const power = candidates.map((hz) => goertzel(samples, rate, hz));
  return candidates[power.indexOf(Math.max(...power))]!;
}

/** The first `seconds` of what `v` heard, from its first sound. */
function heardFirst(v: WrtcViewer, seconds: number): number[] {
  const start = v.peer.audio.findIndex((x) => Math.abs(x) > 500);
  return start < 0 ? [] : v.peer.audio.slice(start, start + v.peer.audioRate * seconds);
}

wrtcTest(
  "streaming files: live a-law and Ogg/Opus shared, on-demand mu-law from the start for each viewer",
  async (wrtc) => {
    await requireTool("ffmpeg", "ffmpeg");
    const dir = await Deno.makeTempDir();
    await toneFile(join(dir, "live.alaw"), "alaw", [[440, 20]]);
    await toneFile(join(dir, "tone.opus"), "opus", [[700, 20]]);
    await toneFile(join(dir, "demand.mulaw"), "mulaw", [[600, 1.5], [1200, 8]]);
    await using gw = await startStreamingGateway();
    await using c = httpClient(gw.httpUrl);
    const admin = await StHandle.open(c);
    const viewers: WrtcViewer[] = [];
    try {
      same(
        await admin.sync({
          request: "create",
          type: "live",
          id: 31,
          filename: join(dir, "live.alaw"),
          audio: true,
          secret: "s",
        }),
        {
          streaming: "created",
          created: "mp-31",
          permanent: false,
          stream: { id: 31, type: "live", description: "mp-31", is_private: false },
        },
      );
      await admin.sync({
        request: "create",
        type: "live",
        id: 32,
        filename: join(dir, "tone.opus"),
        audio: true,
        audiocodec: "opus",
        audiopt: 111,
      });
      same(
        await admin.sync({
          request: "create",
          type: "ondemand",
          id: 33,
          filename: join(dir, "demand.mulaw"),
          audio: true,
        }),
        {
          streaming: "created",
          created: "mp-33",
          permanent: false,
          stream: { id: 33, type: "on demand", description: "mp-33", is_private: false },
        },
      );
      same(
        await admin.sync({
          request: "create",
          type: "live",
          id: 34,
          filename: join(dir, "tone.opus"),
          audio: true,
        }),
        stErr(456, "Error creating 'live' stream"),
      );
      same(await admin.sync({ request: "info", id: 31, secret: "s" }), {
        streaming: "info",
        info: {
          id: 31,
          name: "mp-31",
          description: "mp-31",
          secret: "s",
          enabled: true,
          viewers: 0,
          type: "live",
          media: [{ type: "audio", pt: 8, codec: "pcma", rtpmap: "PCMA/8000" }],
          filename: join(dir, "live.alaw"),
        },
      });
      same(await admin.sync({ request: "info", id: 33 }), {
        streaming: "info",
        info: {
          id: 33,
          name: "mp-33",
          description: "mp-33",
          enabled: true,
          viewers: 0,
          type: "on demand",
          media: [{ type: "audio", pt: 0, codec: "pcmu", rtpmap: "PCMU/8000" }],
          filename: join(dir, "demand.mulaw"),
        },
      });
      same(
        await admin.sync({ request: "recording", id: 31, action: "start", audio: "x" }),
        stErr(452, "Recording is only available on RTP-based live streams"),
      );
      const before = streamingCounts(gw).sources;

      const hear = async (id: number) => {
        const v = await watchWrtc(c, wrtc, id);
        viewers.push(v);
        await waitUntil("three seconds of audio", () => v.peer.audio.length > 2.9 * 48000, 8000);
        return v;
      };
      const [alaw, opus, first] = await Promise.all([hear(31), hear(32), hear(33)]);
      assert.equal(loudest(heardFirst(alaw, 1), 48000, [440, 700, 600, 1200]), 440, "a-law");
      assert.equal(loudest(heardFirst(opus, 1), 48000, [440, 700, 600, 1200]), 700, "opus");
      assert.equal(loudest(heardFirst(first, 1), 48000, [600, 1200]), 600, "on demand, first");
      assert.equal(loudest(heardFirst(first, 2.5).slice(-24000), 48000, [600, 1200]), 1200);
      // Seconds later, a new on-demand viewer starts from the beginning again.
      const late = await hear(33);
      assert.equal(loudest(heardFirst(late, 1), 48000, [600, 1200]), 600, "on demand, late");
      // Each on-demand viewer had a source of its own.
      assert.equal(streamingCounts(gw).sources, before + 2);

      const h = viewers[0]!.h;
      same(
        (await h.ask({ request: "switch", id: 31 })).data,
        stErr(458, "Can't switch: not on a live RTP mountpoint"),
      );
      for (const v of viewers.splice(0)) {
        v.peer.close();
        await v.h.close();
      }
      await waitUntil(
        "the viewers' sources closed",
        () => streamingCounts(gw).sources === before,
        5000,
      );
    } finally {
      await closeViewers(viewers, admin);
      await Deno.remove(dir, { recursive: true });
    }
  },
);

wrtcTest(
  "streaming files: a configured file mountpoint whose file is missing is skipped, the gateway starts",
  async () => {
    await using gw = await startStreamingGateway({
      plugins: {
        "janus.plugin.streaming": {
          mountpoints: [
            { type: "live", id: 2, filename: "/no/such/radio.alaw", audio: true },
            { type: "ondemand", id: 3, filename: "/no/such/music.mulaw", audio: true },
          ],
        },
      },
    });
    await using c = httpClient(gw.httpUrl);
    const admin = await StHandle.open(c);
    try {
      same(await admin.sync({ request: "list" }), { streaming: "list", list: [] });
      assert.equal(streamingCounts(gw).sources, 0);
    } finally {
      await admin.close();
    }
  },
);
