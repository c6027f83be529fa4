/**
 * The Streaming phase, run inside a private network namespace: starts our gateway with media
 * workers (`../media/gateway_main.ts`), a private reference Janus (start.sh on free ports) and
 * the receiver host (node-datachannel viewers), creates one mountpoint on each server through
 * the API, feeds both from one ffmpeg (`feed.ts`), runs the viewers ramp on each, destroys the
 * mountpoints, stops everything, and prints progress lines then one
 * `BENCH_STREAMING_RESULT {json}` line.
 *
 * Usage: `deno run -A bench/streaming/inside.ts --options='{...}'` (`StreamingBenchOptions`),
 * through `netnsArgv`; `run_streaming.ts` does that.
 *
 * @module
 */
import { assertInsideNetns } from "../../tests/_helpers/netns.ts";
import { phaseOptions, runPhaseMain } from "../inside_main.ts";
import { cleanupOnInterrupt } from "../interrupt.ts";
import { print } from "../print.ts";
import { errorText } from "../media/cpu.ts";
import { PhaseServers } from "../media/phase_servers.ts";
import type { ClientEvents, ReceiverMethods } from "../media/protocol.ts";
import { RpcChild } from "../media/rpc_child.ts";
import type { MediaServer, ReceiverHost } from "../media/server.ts";
import { type Feed, prepareClip, startFeed } from "./feed.ts";
import { type BenchMountpoint, createMountpoint } from "./mountpoint.ts";
import {
  STREAMING_RESULT_PREFIX,
  type StreamingBenchOptions,
  type StreamingBenchResult,
} from "./results.ts";
import { type ViewersResult, viewersRun } from "./viewers.ts";
import { medianRuns } from "../media/median_runs.ts";

const RECEIVER_HOST = new URL("../media/receiver_host.ts", import.meta.url);
/** The bench's mountpoint id on both servers (clear of the stock 1, 2, 3, 123). */
const MOUNTPOINT = 4242;

async function main(): Promise<number> {
  const started = performance.now();
  assertInsideNetns();
  const options = phaseOptions<StreamingBenchOptions>();
  const notes: string[] = [];
  const phase = new PhaseServers();
  let receivers: ReceiverHost | undefined;
  let feed: Feed | undefined;
  let clip: { path: string; remove(): Promise<void> } | undefined;
  const mountpoints: BenchMountpoint[] = [];
  const cleanup = cleanupOnInterrupt("streaming", async () => {
    await feed?.stop().catch(() => {});
    await clip?.remove();
    for (const mp of mountpoints) {
      await mp.destroy().catch((e) => notes.push(`destroy: ${errorText(e)}`));
    }
    await receivers?.stop().catch(() => {});
    await phase.stop();
  });

  let result: StreamingBenchResult | undefined;
  try {
    const { gateway, ours: oursServer, ref: reference } = await phase.start(options, notes);
    const servers: { server: MediaServer; result?: ViewersResult }[] = [{ server: oursServer }];
    if (reference) servers.push({ server: reference.server });
    receivers = await RpcChild.start<ReceiverMethods, ClientEvents>(RECEIVER_HOST, {
      label: "receivers",
    });
    for (const { server } of servers) {
      mountpoints.push(await createMountpoint(server, MOUNTPOINT, options.timeoutMs));
    }
    const { width, height, kbps } = options;
    clip = await prepareClip({ width, height, kbps });
    feed = startFeed(clip.path, mountpoints, print);
    const rounds = Math.max(1, options.rounds);
    print(
      ` Streaming viewers: mountpoint ${MOUNTPOINT} on each server (rtp, VP8 PT 100 + Opus PT ` +
        `111) fed by one ffmpeg (a 10 s clip in a loop: ${width}x${height} 30 fps VP8 ~${kbps} ` +
        `kbit/s with noise, keyframe every 30 frames; pid ${feed.pid}); ` +
        `${options.viewers.join(", ")} viewers, ${options.seconds} s windows, ` +
        `${rounds} round(s) alternating, median kept`,
    );
    const runs = new Map(servers.map((entry) => [entry, [] as ViewersResult[]]));
    const viewersHost = receivers;
    const clientPids = [receivers.pid, feed.pid];
    for (let round = 1; round <= rounds; round++) {
      for (const entry of servers) {
        runs.get(entry)!.push(
          await viewersRun(entry.server, viewersHost, {
            viewers: options.viewers,
            mountpoint: MOUNTPOINT,
            width,
            height,
            seconds: options.seconds,
            settle: options.settle,
            timeoutMs: options.timeoutMs,
            clientPids,
          }, print),
        );
      }
    }
    for (const entry of servers) {
      entry.result = medianRuns(
        runs.get(entry) ?? [],
        (s) => s.viewers,
        (s) => s.cpuPercentPerViewer,
      );
    }
    await feed.stop();
    const after = await gateway.call("info", null);
    const [ours, ref] = servers;
    result = {
      ours: {
        ...(ours?.result ?? emptyResult("no run")),
        pid: gateway.ready.pid,
        workerPids: after.workerPids,
      },
      reference: ref && reference
        ? {
          ...(ref.result ?? emptyResult("no run")),
          pid: reference.pid,
          version: reference.version,
        }
        : undefined,
      referenceStatus: phase.referenceStatus,
      countsAfter: after.counts,
      video: { width, height, kbps },
      notes,
      seconds: 0,
    };
  } finally {
    await cleanup();
  }
  result.seconds = (performance.now() - started) / 1000;
  print(`${STREAMING_RESULT_PREFIX}${JSON.stringify(result)}`);
  return 0;
}

function emptyResult(why: string): ViewersResult {
  return {
    baselineCpuPercent: undefined,
    baselineByProcess: "",
    steps: [],
    errors: 1,
    firstError: why,
  };
}

if (import.meta.main) await runPhaseMain("streaming", main);
