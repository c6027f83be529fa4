/**
 * Streaming simulcast mountpoints with real media: ffmpeg (Debian's) encodes one picture at
 * 160x120, 320x240 and 640x480 into VP8 on the three ports of a `simulcast` video stream, as
 * the reference's `port`/`port2`/`port3`. wrtc viewers decode the substream they aim at:
 * the highest by default, the one `watch` or `configure` names, each switch told by the
 * reference's events (`{mid, substream}` when it happens, `{substream}` at once when already
 * there). Runs in the test network namespace (`deno task test`).
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { httpClient } from "../_helpers/janus_client.ts";
import { handleInfo } from "../_helpers/plugin_handle.ts";
import { waitUntil, wrtcTest } from "../media/_client.ts";
import {
  closeViewers,
  destroyWatched,
  same,
  startStreamingGateway,
  StHandle,
  stopFfmpeg,
  streamingCounts,
  waitFresh,
  watchWrtc,
  type WrtcViewer,
} from "./_streaming.ts";

const SIZES = [[160, 120], [320, 240], [640, 480]] as const;

/** One ffmpeg encoding testsrc at each of `SIZES` to `ports` (VP8, PT 100, keyframe each 10). */
function simulcastSource(ports: readonly number[]): Deno.ChildProcess {
  const outputs = SIZES.flatMap((_, i) => [
    ...["-map", `[s${i}]`, "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8"],
    ...["-b:v", `${200 * (i + 1)}k`, "-g", "10", "-payload_type", "100"],
    ...["-ssrc", String(1000 + i), "-f", "rtp", `rtp://127.0.0.1:${ports[i]}`],
  ]);
  const split = `[0:v]split=3${SIZES.map((_, i) => `[i${i}]`).join("")};` +
    SIZES.map(([w, h], i) => `[i${i}]scale=${w}:${h}[s${i}]`).join(";");
  return new Deno.Command("ffmpeg", {
    args: [
      ...["-hide_banner", "-loglevel", "error", "-re"],
      ...["-f", "lavfi", "-i", "testsrc=size=640x480:rate=20"],
      ...["-filter_complex", split],
      ...outputs,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

/** The viewer's decoded frame size is substream `n`'s, within `timeoutMs`. */
async function showsSubstream(v: WrtcViewer, n: number, timeoutMs = 4000): Promise<void> {
  const [width, height] = SIZES[n]!;
  await waitUntil(
    `${width}x${height} frames`,
    () => v.peer.luma.width === width && v.peer.luma.height === height,
    timeoutMs,
  ).catch((e) => {
    throw new Error(`${e}: showing ${v.peer.luma.width}x${v.peer.luma.height}`);
  });
  // And it goes on: frames keep coming after the switch.
  const frames = v.peer.videoFrames;
  await waitUntil("frames after the switch", () => v.peer.videoFrames >= frames + 5, 3000);
}

/** Unprompted events until the one telling `substream` (each one a substream change). */
async function untilSubstream(v: WrtcViewer, n: number): Promise<void> {
  for (;;) {
    const data = await v.h.next(5000);
    const result = data.result as JsonObject;
    if (result.status === "started") continue;
    assert.equal(result.mid, "v", JSON.stringify(data));
    assert.equal(typeof result.substream, "number", JSON.stringify(data));
    if (result.substream === n) return;
  }
}

wrtcTest(
  "streaming simulcast: viewers get the substream they aim at, switched by configure",
  async (wrtc) => {
    await using gw = await startStreamingGateway();
    await using c = httpClient(gw.httpUrl);
    const admin = await StHandle.open(c);
    const created = await admin.sync({
      request: "create",
      type: "rtp",
      id: 31,
      media: [{ type: "video", mid: "v", port: 0, pt: 100, codec: "vp8", simulcast: true }],
    });
    const port = ((created.stream as JsonObject).ports as JsonObject[])[0]!;
    const ports = [port.port, port.port_2, port.port_3] as number[];
    assert.ok(ports.every((p) => typeof p === "number" && p > 0), JSON.stringify(port));
    const ffmpeg = simulcastSource(ports);
    const viewers: WrtcViewer[] = [];
    try {
      await waitFresh(admin, 31, 8000);
      // By default the highest substream, as the reference aims.
      const high = await watchWrtc(c, wrtc, 31);
      viewers.push(high);
      await untilSubstream(high, 2);
      await showsSubstream(high, 2);
      // `watch` with a target.
      const low = await watchWrtc(c, wrtc, 31, {}, { substream: 0, temporal: 2 });
      viewers.push(low);
      await untilSubstream(low, 0);
      await showsSubstream(low, 0);
      assert.equal(high.peer.luma.width, 640, "the other viewer is unchanged");
      // configure: down to 1, told when the switch happens, shown within the next keyframes.
      same((await high.h.ask({ request: "configure", substream: 1 })).data, {
        streaming: "event",
        result: { event: "configured" },
      });
      await untilSubstream(high, 1);
      await showsSubstream(high, 1);
      // Asked again: told at once (no mid), before `configured`, as the reference.
      same((await high.h.ask({ request: "configure", substream: 1 })).data, {
        streaming: "event",
        result: { event: "configured" },
      });
      same(await high.h.next(1000), { streaming: "event", result: { substream: 1 } });
      // The admin's handle info names where the viewer is and aims, as the reference's.
      same(await handleInfo(gw, high.h), {
        state: "watching",
        mountpoint_id: 31,
        mountpoint_name: "mp-31",
        mountpoint_viewers: 2,
        media: [{
          type: "video",
          mindex: 0,
          mid: "v",
          simulcast: {
            substream: 1,
            "substream-target": 1,
            "temporal-layer": -1,
            "temporal-layer-target": 2,
          },
        }],
        hangingup: 0,
        started: 1,
        dataready: 0,
        paused: 0,
        stopping: 0,
        destroyed: 0,
      });
      // Up again with the streams form's mid.
      same((await low.h.ask({ request: "configure", mid: "v", substream: 2 })).data, {
        streaming: "event",
        result: { event: "configured" },
      });
      await untilSubstream(low, 2);
      await showsSubstream(low, 2);
      // A bad target is refused with the words the reference logs (it answers `configured`).
      same((await low.h.ask({ request: "configure", substream: -1 })).data, {
        streaming: "event",
        error_code: 454,
        error: "Invalid element type (substream should be a positive integer)",
      });
      assert.deepEqual(streamingCounts(gw), {
        mountpoints: 1,
        viewers: 2,
        sessions: 3,
        sources: 1,
      });
      await destroyWatched(gw, admin, 31, viewers);
      assert.deepEqual(streamingCounts(gw), {
        mountpoints: 0,
        viewers: 0,
        sessions: 3,
        sources: 0,
      });
    } finally {
      await stopFfmpeg(ffmpeg);
      await closeViewers(viewers, admin);
    }
  },
);
