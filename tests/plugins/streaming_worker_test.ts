/**
 * Streaming mountpoints outlive their media worker (Janus has none): ffmpeg feeds a mountpoint
 * created with `port: 0`, a wrtc viewer decodes it, the rtp media worker is killed (SIGKILL);
 * the viewer's PeerConnection ends (hangup "Worker gone"), the mountpoint keeps its id,
 * description and ports (bound again on a new worker), the stock mountpoints too, and a new
 * viewer decodes video again from the same ffmpeg. Every count back to zero at the end.
 * Runs in the test network namespace (`deno task test`).
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { EngineRouter } from "../../core/media/engine_router.ts";
import type { StreamingPlugin } from "../../plugins/streaming/mod.ts";
import { httpClient, type JanusClient } from "../_helpers/janus_client.ts";
import { processExists } from "../media/_media_setup.ts";
import { waitUntil, type Wrtc, wrtcTest } from "../media/_client.ts";
import {
  closeViewers,
  createAvMountpoint,
  destroyWatched,
  ffmpegSource,
  same,
  startStreamingGateway,
  StHandle,
  stopFfmpeg,
  STREAMING,
  streamingCounts,
  waitFresh,
  watchWrtc,
  type WrtcViewer,
} from "./_streaming.ts";

/** Each mountpoint's ports, as `info` with its secret shows them. */
async function portsOf(h: StHandle, id: number, secret?: string): Promise<number[]> {
  const info = (await h.sync({ request: "info", id, ...(secret ? { secret } : {}) }))
    .info as JsonObject;
  return (info.media as JsonObject[]).map((m) => m.port as number);
}

/** A new viewer of mountpoint `id` (added to `viewers`) that decoded 10 frames. */
async function watchMountpoint(
  wrtc: Wrtc,
  c: JanusClient,
  id: number,
  viewers: WrtcViewer[],
): Promise<WrtcViewer> {
  const v = await watchWrtc(c, wrtc, id);
  viewers.push(v);
  await waitUntil("10 decoded frames", () => v.peer.videoFrames >= 10, 10_000);
  return v;
}

wrtcTest(
  "streaming: a killed rtp media worker ends the viewers (Worker gone); the mountpoints live " +
    "on with their ports on a new worker and a new viewer decodes the same ffmpeg again",
  async (wrtc) => {
    // The stock mountpoints (fixed ports) beside the one made here.
    await using gw = await startStreamingGateway({
      plugins: { [STREAMING]: { mountpoints: undefined } },
    });
    await using c = httpClient(gw.httpUrl);
    const admin = await StHandle.open(c);
    const ports = await createAvMountpoint(admin, 77, { description: "survivor", secret: "s3" });
    const [audioPort, videoPort] = ports;
    const ffmpeg = ffmpegSource(videoPort, audioPort);
    const viewers: WrtcViewer[] = [];
    const watch = () => watchMountpoint(wrtc, c, 77, viewers);
    try {
      await waitFresh(admin, 77, 10_000);
      const before = await watch();
      const stock = {
        1: await portsOf(admin, 1, "adminpwd"),
        123: await portsOf(admin, 123, "adminpwd"),
      };
      assert.deepEqual(stock, { 1: [5002, 5004], 123: [5102, 5104, 5106] });

      const media = gw.media;
      const rtpPids = () =>
        media instanceof EngineRouter ? media.workerPidsOf("rtp") : media.workerPids?.() ?? [];
      const [pid] = rtpPids();
      assert.ok(pid !== undefined, "an rtp media worker");
      const killedAt = performance.now();
      Deno.kill(pid, "SIGKILL");

      // The viewer's PeerConnection was in that worker: its hangup says so.
      const hangup = await before.h.core("hangup", 10_000);
      assert.equal(hangup.reason, "Worker gone");
      before.peer.close();
      await waitUntil("the killed worker reaped", () => !processExists(pid), 10_000);

      // The mountpoints are still there, with their ids, descriptions and ports.
      const list = (await admin.sync({ request: "list" })).list as JsonObject[];
      assert.deepEqual(
        list.map((m) => [m.id, m.description]).sort((a, b) => Number(a[0]) - Number(b[0])),
        [
          [1, "Opus/VP8 live stream coming from external source"],
          [2, "a-law file source (radio broadcast)"],
          [3, "mu-law file source (music)"],
          [77, "survivor"],
          [123, "Multistream test (1 audio, 2 video)"],
        ],
      );
      // ffmpeg never stopped sending: once the ports are bound again, packets arrive again.
      await waitFresh(admin, 77, 15_000);
      // deno-lint-ignore no-console
      console.log(`kill -> RTP read again: ${(performance.now() - killedAt).toFixed(0)} ms`);
      assert.deepEqual(await portsOf(admin, 77, "s3"), ports, "the same ports");
      assert.deepEqual(
        { 1: await portsOf(admin, 1, "adminpwd"), 123: await portsOf(admin, 123, "adminpwd") },
        stock,
      );
      const now = rtpPids();
      assert.equal(now.length, 1);
      assert.ok(!now.includes(pid), "a new worker process");
      const plugin = gw.app.gateway.plugins.get(STREAMING) as StreamingPlugin;
      assert.equal(
        plugin.metrics?.().sources_restored,
        5,
        "five sources (the stock four and 77) bound again",
      );

      // A new viewer watches the same mountpoint id and decodes video again.
      const after = await watch();
      same(await after.h.next(5000), { streaming: "event", result: { status: "started" } });
      assert.deepEqual(
        { width: after.peer.luma.width, height: after.peer.luma.height },
        { width: 640, height: 480 },
      );
      assert.deepEqual(streamingCounts(gw), {
        mountpoints: 5,
        viewers: 1,
        sessions: 3,
        sources: 5,
      });
      await destroyWatched(gw, admin, 77, [after], "s3");
      assert.deepEqual(streamingCounts(gw), {
        mountpoints: 4,
        viewers: 0,
        sessions: 3,
        sources: 4,
      });
    } finally {
      await stopFfmpeg(ffmpeg);
      await closeViewers(viewers, admin);
    }
  },
);

wrtcTest(
  "streaming: a recycled rtp media worker (max_peers_per_worker) keeps the mountpoint's source " +
    "until its last viewer leaves; the source then moves to the new worker with its ports",
  async (wrtc) => {
    await using gw = await startStreamingGateway({ media: { max_peers_per_worker: 1 } });
    await using c = httpClient(gw.httpUrl);
    const admin = await StHandle.open(c);
    const ports = await createAvMountpoint(admin, 78);
    const [audioPort, videoPort] = ports;
    const ffmpeg = ffmpegSource(videoPort, audioPort);
    const media = gw.media;
    const rtpPids = () =>
      media instanceof EngineRouter ? media.workerPidsOf("rtp") : media.workerPids?.() ?? [];
    const viewers: WrtcViewer[] = [];
    try {
      await waitFresh(admin, 78, 10_000);
      const [first] = rtpPids();
      assert.ok(first !== undefined, "an rtp media worker");
      const a = await watchMountpoint(wrtc, c, 78, viewers);
      // Its one peer drained the worker: a new one was started beside it.
      await waitUntil("a second rtp worker", () => rtpPids().length === 2, 10_000);
      same(await a.h.next(5000), { streaming: "event", result: { status: "started" } });
      // The draining worker still reads the source while its viewer watches.
      await waitFresh(admin, 78, 5000);
      same((await a.h.ask({ request: "stop" })).data, {
        streaming: "event",
        result: { status: "stopping" },
      });
      await a.h.core("hangup", 5000);
      a.peer.close();
      await waitUntil("the drained worker gone", () => !rtpPids().includes(first), 10_000);
      await waitFresh(admin, 78, 15_000);
      assert.deepEqual(await portsOf(admin, 78), ports, "the same ports");
      const plugin = gw.app.gateway.plugins.get(STREAMING) as StreamingPlugin;
      assert.equal(plugin.metrics?.().sources_restored, 1, "one source bound again");
      const b = await watchMountpoint(wrtc, c, 78, viewers);
      same(await b.h.next(5000), { streaming: "event", result: { status: "started" } });
      assert.deepEqual(streamingCounts(gw), {
        mountpoints: 1,
        viewers: 1,
        sessions: 3,
        sources: 1,
      });
      await destroyWatched(gw, admin, 78, [b]);
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
