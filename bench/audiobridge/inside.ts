/**
 * The AudioBridge phase, run inside a private network namespace: starts our gateway with media
 * workers (`../media/gateway_main.ts`), a private reference Janus (start.sh on free ports) and
 * a few client hosts (`ndc_client_host.ts` or the wrtc `client_host.ts`), runs each step of the participants ramp on
 * one server then the other (`ramp.ts`), stops everything, and prints progress lines then one
 * `BENCH_AUDIOBRIDGE_RESULT {json}` line.
 *
 * Usage: `deno run -A bench/audiobridge/inside.ts --options='{...}'`
 * (`AudioBridgeBenchOptions`), through `netnsArgv`; `run_audiobridge.ts` does that.
 *
 * @module
 */
import { assertInsideNetns } from "../../tests/_helpers/netns.ts";
import { phaseOptions, runPhaseMain } from "../inside_main.ts";
import { cleanupOnInterrupt } from "../interrupt.ts";
import { PhaseServers } from "../media/phase_servers.ts";
import { RpcChild } from "../media/rpc_child.ts";
import type { MediaServer } from "../media/server.ts";
import { print } from "../print.ts";
import type { ParticipantEvents, ParticipantMethods } from "./protocol.ts";
import { type ParticipantHost, type RoomResult, roomRun } from "./ramp.ts";
import {
  AUDIOBRIDGE_RESULT_PREFIX,
  type AudioBridgeBenchOptions,
  type AudioBridgeBenchResult,
} from "./results.ts";

/** The client process of each kind of participant. */
const CLIENT_HOSTS = {
  ndc: new URL("./ndc_client_host.ts", import.meta.url),
  wrtc: new URL("./client_host.ts", import.meta.url),
};
/** The bench's room id on both servers (clear of the stock 1234). */
const ROOM = 4343;

async function main(): Promise<number> {
  const started = performance.now();
  assertInsideNetns();
  const options = phaseOptions<AudioBridgeBenchOptions>();
  const notes: string[] = [];
  const phase = new PhaseServers();
  const hosts: ParticipantHost[] = [];
  const cleanup = cleanupOnInterrupt("audiobridge", async () => {
    await Promise.all(hosts.map((h) => h.stop().catch(() => {})));
    await phase.stop();
  });

  let result: AudioBridgeBenchResult | undefined;
  try {
    const { gateway, ours: oursServer, ref: reference } = await phase.start(options, notes);
    const servers: { server: MediaServer; result?: RoomResult }[] = [{ server: oursServer }];
    if (reference) servers.push({ server: reference.server });
    for (let i = 0; i < options.hosts; i++) {
      hosts.push(
        await RpcChild.start<ParticipantMethods, ParticipantEvents>(CLIENT_HOSTS[options.clients], {
          label: `participants ${i + 1}`,
        }),
      );
    }
    print(
      ` AudioBridge room ${ROOM} at ${options.rate} Hz on each server; ` +
        `${options.participants.join(", ")} participants (${options.clients}, each sending its ` +
        `own tone as Opus and receiving the mix) over ${options.hosts} client processes ` +
        `(pids ${hosts.map((h) => h.pid).join(",")}); ${options.seconds} s windows`,
    );
    // Step by step, each server in turn: on a shared machine both see the same background.
    for (const n of options.participants) {
      for (const entry of servers) {
        const run = await roomRun(entry.server, hosts, {
          participants: [n],
          room: ROOM,
          rate: options.rate,
          seconds: options.seconds,
          settle: options.settle,
          timeoutMs: options.timeoutMs,
        }, print);
        const r = entry.result ??= { steps: [], errors: 0, firstError: undefined };
        r.steps.push(...run.steps);
        r.errors += run.errors;
        r.firstError ??= run.firstError;
      }
    }
    const after = await gateway.call("info", null);
    const [ours, ref] = servers;
    const none: RoomResult = { steps: [], errors: 1, firstError: "no run" };
    result = {
      ours: { ...(ours?.result ?? none), pid: gateway.ready.pid, workerPids: after.workerPids },
      reference: ref && reference
        ? { ...(ref.result ?? none), pid: reference.pid, version: reference.version }
        : undefined,
      referenceStatus: phase.referenceStatus,
      countsAfter: after.counts,
      rate: options.rate,
      hosts: options.hosts,
      clients: options.clients,
      notes,
      seconds: 0,
    };
  } finally {
    await cleanup();
  }
  result.seconds = (performance.now() - started) / 1000;
  print(`${AUDIOBRIDGE_RESULT_PREFIX}${JSON.stringify(result)}`);
  return 0;
}

if (import.meta.main) await runPhaseMain("audiobridge", main);
