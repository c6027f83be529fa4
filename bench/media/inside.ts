/**
 * The media phases, run inside a private network namespace (design.md, "Networking in
 * tests"): starts our gateway with media workers (`gateway_main.ts`), a private reference
 * Janus (`../shared/ref-janus/start.sh` on free ports), a wrtc client host (`client_host.ts`:
 * EchoTest callers, the VideoRoom publisher) and a receiver host (`receiver_host.ts`:
 * node-datachannel VideoRoom subscribers), runs the EchoTest ramp and the VideoRoom join storm and fan-out against
 * both, stops everything, and prints progress lines then one `BENCH_MEDIA_RESULT {json}` line.
 *
 * Usage: `deno run -A bench/media/inside.ts --options='{"echo":true,...}'` (see
 * `MediaBenchOptions`), through `netnsArgv`; `bench/media/run_media.ts` does that.
 *
 * @module
 */
import { assertInsideNetns } from "../../tests/_helpers/netns.ts";
import { phaseOptions, runPhaseMain } from "../inside_main.ts";
import { cleanupOnInterrupt } from "../interrupt.ts";
import { print } from "../print.ts";
import { type FanoutResult, fanoutRun } from "../videoroom/fanout.ts";
import { medianRuns } from "./median_runs.ts";
import { joinStorm } from "../videoroom/join.ts";
import { errorText } from "./cpu.ts";
import { echoStep } from "./echo.ts";
import { PhaseServers } from "./phase_servers.ts";
import type { ClientEvents, ClientMethods, ReceiverMethods } from "./protocol.ts";
import {
  type MediaBenchOptions,
  type MediaBenchResult,
  type MediaServerResults,
  RESULT_PREFIX,
} from "./results.ts";
import { RpcChild } from "./rpc_child.ts";
import type { ClientHost, MediaServer, ReceiverHost } from "./server.ts";

const CLIENT_HOST = new URL("./client_host.ts", import.meta.url);
const RECEIVER_HOST = new URL("./receiver_host.ts", import.meta.url);

function empty(): MediaServerResults {
  return { echo: [] };
}

/** Join storms of `participants`, alternating servers; each server keeps its fastest round. */
async function storms(
  options: MediaBenchOptions,
  servers: { server: MediaServer; results: MediaServerResults }[],
  participants: number,
  rounds: number,
  key: "join" | "joinOnly" | "joinLarge",
  notes: string[],
): Promise<void> {
  // 0 = everyone arrives at once: the storm then measures the server's throughput, not the
  // round-trip latency of a few client lanes.
  const concurrency = Math.min(options.vrConcurrency || participants, participants);
  const storm = {
    participants,
    concurrency,
    notifyJoining: options.vrNotifyJoining,
    timeoutMs: options.timeoutMs,
    preconnected: key === "joinOnly",
  };
  print(
    ` VideoRoom join storm: ${participants} publishers (signalling only${
      storm.preconnected ? ", join requests alone" : ""
    }), ` +
      `${concurrency} at once, notify_joining ${options.vrNotifyJoining}, ` +
      `${options.vrWarmup} warm-up, best of ${rounds}`,
  );
  for (let round = 1; round <= options.vrWarmup; round++) {
    for (const { server } of servers) {
      await joinStorm(server, storm, () => {}).catch((e) =>
        notes.push(`videoroom warm-up storm on ${server.name} failed: ${errorText(e)}`)
      );
    }
  }
  for (let round = 1; round <= rounds; round++) {
    for (const { server, results } of servers) {
      try {
        const run = await joinStorm(server, storm, print);
        const best = results[key];
        const all = [...(best?.roundSeconds ?? []), run.joinSeconds ?? NaN];
        const faster = best === undefined || best.joined < run.joined ||
          (best.joined === run.joined && (run.joinSeconds ?? Infinity) <
              (best.joinSeconds ?? Infinity));
        results[key] = { ...(faster ? run : best), roundSeconds: all };
      } catch (e) {
        notes.push(`videoroom join storm on ${server.name} failed: ${errorText(e)}`);
      }
    }
  }
}

async function phases(
  options: MediaBenchOptions,
  servers: { server: MediaServer; results: MediaServerResults }[],
  hosts: { publisher: ClientHost; subscribers: ReceiverHost },
  notes: string[],
): Promise<void> {
  const timeoutMs = options.timeoutMs;
  const host = hosts.publisher;
  const { width, height } = options;
  if (options.echo) {
    print(
      ` EchoTest ramp: ${options.echoCalls.join(", ")} concurrent calls, ` +
        `${options.echoSeconds} s windows, ${width}x${height} at 30 fps each way`,
    );
    for (const calls of options.echoCalls) {
      for (const { server, results } of servers) {
        try {
          results.echo.push(
            await echoStep(server, host, calls, {
              width,
              height,
              seconds: options.echoSeconds,
              settle: options.settle,
              timeoutMs,
            }, print),
          );
        } catch (e) {
          notes.push(`echo ${calls} calls on ${server.name} failed: ${errorText(e)}`);
        }
      }
    }
  }
  if (!options.videoroom) return;
  await storms(options, servers, options.vrParticipants, options.vrRounds, "join", notes);
  await storms(options, servers, options.vrParticipants, options.vrRounds, "joinOnly", notes);
  if (options.vrLargeParticipants > 0) {
    await storms(
      options,
      servers,
      options.vrLargeParticipants,
      options.vrLargeRounds,
      "joinLarge",
      notes,
    );
  }
  const rounds = Math.max(1, options.vrFanoutRounds);
  print(
    ` VideoRoom fan-out: 1 publisher (${width}x${height} at 30 fps) to ` +
      `${options.vrSubscribers.join(", ")} subscribers, ${options.vrSeconds} s windows, ` +
      `${rounds} round(s) alternating, median kept`,
  );
  const runs = new Map<MediaServer, FanoutResult[]>(servers.map(({ server }) => [server, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const { server } of servers) {
      try {
        runs.get(server)!.push(
          await fanoutRun(server, hosts, {
            subscribers: options.vrSubscribers,
            width,
            height,
            seconds: options.vrSeconds,
            settle: options.settle,
            timeoutMs,
          }, print),
        );
      } catch (e) {
        notes.push(`videoroom fan-out round ${round} on ${server.name} failed: ${errorText(e)}`);
      }
    }
  }
  for (const { server, results } of servers) {
    const folded = medianRuns(
      runs.get(server) ?? [],
      (s) => s.subscribers,
      (s) => s.cpuPercentPerSubscriber,
    );
    if (folded) results.fanout = folded;
  }
}

async function main(): Promise<number> {
  const started = performance.now();
  assertInsideNetns();
  const options = phaseOptions<MediaBenchOptions>();
  const notes: string[] = [];
  const phase = new PhaseServers();
  let host: ClientHost | undefined;
  let receivers: ReceiverHost | undefined;
  const cleanup = cleanupOnInterrupt("media", async () => {
    await host?.stop().catch(() => {});
    await receivers?.stop().catch(() => {});
    await phase.stop();
  });

  let result: MediaBenchResult | undefined;
  try {
    const { gateway, ours: oursServer, ref: reference } = await phase.start(options, notes, true);
    const ours = { server: oursServer, results: empty() };
    const servers = [ours];
    const ref = reference && { server: reference.server, results: empty() };
    if (ref) servers.push(ref);
    host = await RpcChild.start<ClientMethods, ClientEvents>(CLIENT_HOST, { label: "client" });
    receivers = await RpcChild.start<ReceiverMethods, ClientEvents>(RECEIVER_HOST, {
      label: "receivers",
    });
    await phases(options, servers, { publisher: host, subscribers: receivers }, notes);
    const after = await gateway.call("info", null);
    result = {
      ours: {
        ...ours.results,
        pid: gateway.ready.pid,
        workerPids: after.workerPids,
        countsAfter: after.counts,
      },
      reference: ref && reference
        ? { ...ref.results, pid: reference.pid, version: reference.version }
        : undefined,
      referenceStatus: phase.referenceStatus,
      video: { width: options.width, height: options.height },
      notes,
      seconds: 0,
    };
  } finally {
    await cleanup();
  }
  result.seconds = (performance.now() - started) / 1000;
  print(`${RESULT_PREFIX}${JSON.stringify(result)}`);
  return 0;
}

if (import.meta.main) await runPhaseMain("media", main);
