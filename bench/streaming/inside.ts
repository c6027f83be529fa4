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
import { cleanupOnInterrupt } from "../interrupt.ts";
import { print } from "../print.ts";
import { type Reference, startFreshReference, stopStartedReference } from "../reference.ts";
import { errorText, sleep } from "../media/cpu.ts";
import { oursServer, referenceServer } from "../media/inside.ts";
import type {
  ClientEvents,
  GatewayEvents,
  GatewayMethods,
  ReceiverMethods,
} from "../media/protocol.ts";
import { REFERENCE_PREFIX } from "../media/results.ts";
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

const GATEWAY = new URL("../media/gateway_main.ts", import.meta.url);
const RECEIVER_HOST = new URL("../media/receiver_host.ts", import.meta.url);
/** The bench's mountpoint id on both servers (clear of the stock 1, 2, 3, 123). */
const MOUNTPOINT = 4242;

function parseOptions(): StreamingBenchOptions {
  const arg = Deno.args.find((a) => a.startsWith("--options="));
  if (!arg) throw new Error("Missing --options={json}");
  return JSON.parse(arg.slice("--options=".length)) as StreamingBenchOptions;
}

async function main(): Promise<number> {
  const started = performance.now();
  assertInsideNetns();
  const options = parseOptions();
  const notes: string[] = [];
  let gateway: RpcChild<GatewayMethods, GatewayEvents> | undefined;
  let reference: Reference | undefined;
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
    if (reference) await stopStartedReference(reference);
    await gateway?.stop().catch(() => {});
  });

  let referenceStatus = "skipped (--no-ref)";
  let result: StreamingBenchResult | undefined;
  try {
    gateway = await RpcChild.start<GatewayMethods, GatewayEvents>(GATEWAY, {
      args: [`--workers=${options.workers}`],
      label: "gateway",
    });
    const servers: { server: MediaServer; result?: ViewersResult }[] = [
      { server: oursServer(gateway, notes) },
    ];
    print(
      ` Ours: pid ${gateway.ready.pid}, ws ${gateway.ready.ws}, media workers ` +
        `${gateway.ready.workerPids.join(",")}`,
    );
    if (!options.noRef) {
      const fresh = await startFreshReference();
      if ("unreachable" in fresh) {
        referenceStatus = `reference not measured: ${fresh.unreachable}`;
      } else {
        reference = fresh;
        print(`${REFERENCE_PREFIX}${JSON.stringify({ pid: fresh.pid, runDir: fresh.runDir })}`);
        referenceStatus = `private Janus ${fresh.version} (start.sh), pid ${fresh.pid}, ws ` +
          `${fresh.endpoint.wsPort}`;
        servers.push({ server: referenceServer(fresh) });
      }
    }
    print(` Reference: ${referenceStatus}`);
    receivers = await RpcChild.start<ReceiverMethods, ClientEvents>(RECEIVER_HOST, {
      label: "receivers",
    });
    for (const { server } of servers) {
      mountpoints.push(await createMountpoint(server, MOUNTPOINT, options.timeoutMs));
    }
    const { width, height, kbps } = options;
    clip = await prepareClip({ width, height, kbps });
    feed = startFeed(clip.path, mountpoints, print);
    print(
      ` Streaming viewers: mountpoint ${MOUNTPOINT} on each server (rtp, VP8 PT 100 + Opus PT ` +
        `111) fed by one ffmpeg (a 10 s clip in a loop: ${width}x${height} 30 fps VP8 ~${kbps} ` +
        `kbit/s with noise, keyframe every 30 frames; pid ${feed.pid}); ` +
        `${options.viewers.join(", ")} viewers, ${options.seconds} s windows`,
    );
    for (const entry of servers) {
      entry.result = await viewersRun(entry.server, receivers, {
        viewers: options.viewers,
        mountpoint: MOUNTPOINT,
        width,
        height,
        seconds: options.seconds,
        settle: options.settle,
        timeoutMs: options.timeoutMs,
        clientPids: [receivers.pid, feed.pid],
      }, print);
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
          pid: reference.pid ?? 0,
          version: reference.version,
        }
        : undefined,
      referenceStatus,
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

globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  print(`  streaming bench: unhandled rejection: ${String(event.reason)}`);
});

if (import.meta.main) {
  let code = 1;
  try {
    code = await main();
  } catch (e) {
    print(`  streaming bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  }
  await sleep(0);
  Deno.exit(code);
}
