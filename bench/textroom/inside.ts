/**
 * The TextRoom fan-out phase, run inside a private network namespace: starts our gateway
 * with media workers (`../media/gateway_main.ts`), a private reference Janus (start.sh on
 * free ports) and the client process (`client_host.ts`); on each server in turn, a room of
 * N receivers and one sender, an unmeasured second of sending, then `rounds` measured windows
 * with the server's and the client's CPU; prints progress, then one
 * `BENCH_TEXTROOM_RESULT {json}` line.
 *
 * Usage: `deno run -A bench/textroom/inside.ts --options='{...}'` (`TextRoomBenchOptions`),
 * through `netnsArgv`; `run_textroom.ts` does that.
 *
 * @module
 */
import { assertInsideNetns } from "../../tests/_helpers/netns.ts";
import { phaseOptions, runPhaseMain } from "../inside_main.ts";
import { cleanupOnInterrupt } from "../interrupt.ts";
import { print } from "../print.ts";
import { type Reference, startFreshReference, stopStartedReference } from "../reference.ts";
import { errorText, percentOfCore, perProcessText, sleep, startCpu } from "../media/cpu.ts";
import type { GatewayEvents, GatewayMethods } from "../media/protocol.ts";
import { RpcChild } from "../media/rpc_child.ts";
import {
  TEXTROOM_REFERENCE_PREFIX,
  TEXTROOM_RESULT_PREFIX,
  type TextRoomBenchOptions,
  type TextRoomBenchResult,
  type TextRoomClientEvents,
  type TextRoomClientMethods,
  type TextRoomServerResult,
  type TextRoomWindow,
} from "./protocol.ts";

const GATEWAY = new URL("../media/gateway_main.ts", import.meta.url);
const CLIENT = new URL("./client_host.ts", import.meta.url);

type Client = RpcChild<TextRoomClientMethods, TextRoomClientEvents>;

interface Server {
  name: "ours" | "reference";
  wsUrl: string;
  pids(): Promise<readonly number[]>;
}

/** One server: a room, a warm-up second, `rounds` measured windows, teardown. */
async function measure(
  server: Server,
  client: Client,
  options: TextRoomBenchOptions,
): Promise<TextRoomServerResult> {
  const { connectSeconds } = await client.call("setup", {
    wsUrl: server.wsUrl,
    participants: options.participants,
    timeoutMs: options.timeoutMs,
  });
  print(
    `  ${server.name.padEnd(9)} ${options.participants} participants + 1 sender joined in ` +
      `${connectSeconds.toFixed(2)} s`,
  );
  const windows: TextRoomWindow[] = [];
  try {
    await client.call("blast", { seconds: 1, window: options.window, size: options.size });
    for (let round = 1; round <= options.rounds; round++) {
      const serverCpu = await startCpu(server.pids);
      const clientCpu = await startCpu(() => Promise.resolve([client.pid]));
      const run = await client.call("blast", {
        seconds: options.seconds,
        window: options.window,
        size: options.size,
      });
      // The CPU windows also cover the wait for the last deliveries (short unless a server
      // lags): CPU per delivered message counts them all.
      const s = await serverCpu();
      const c = await clientCpu();
      const deliveredAll = run.acked * options.participants - run.missing;
      const w: TextRoomWindow = {
        ...run,
        serverCpuPercent: percentOfCore(s),
        clientCpuPercent: percentOfCore(c),
        serverCpuText: perProcessText(s),
        serverUsPerDelivered: deliveredAll > 0 ? s.cpuSeconds * 1e6 / deliveredAll : NaN,
      };
      windows.push(w);
      print(
        `  ${server.name.padEnd(9)} round ${round}: ${w.deliveredPerSecond.toFixed(0)} ` +
          `delivered/s (${w.ackedPerSecond.toFixed(0)} acked msg/s, ack p50 ` +
          `${w.ackP50Ms.toFixed(1)} ms p99 ${w.ackP99Ms.toFixed(1)} ms, missing ${w.missing}, ` +
          `errors ${w.errors}); CPU server ${w.serverCpuPercent.toFixed(0)}% ` +
          `(${w.serverUsPerDelivered.toFixed(1)} µs/delivered; ` +
          `${w.serverCpuText}), client ${w.clientCpuPercent.toFixed(0)}%`,
      );
      await sleep(500);
    }
  } finally {
    await client.call("teardown", null);
  }
  const best = windows.reduce<TextRoomWindow | undefined>(
    (a, b) => a === undefined || b.deliveredPerSecond > a.deliveredPerSecond ? b : a,
    undefined,
  );
  return { connectSeconds, windows, best };
}

async function main(): Promise<number> {
  assertInsideNetns();
  const options = phaseOptions<TextRoomBenchOptions>();
  const notes: string[] = [];
  let gateway: RpcChild<GatewayMethods, GatewayEvents> | undefined;
  let reference: Reference | undefined;
  let client: Client | undefined;
  const cleanup = cleanupOnInterrupt("textroom", async () => {
    await client?.stop().catch(() => {});
    if (reference) await stopStartedReference(reference);
    await gateway?.stop().catch(() => {});
  });
  const result: TextRoomBenchResult = {
    options,
    ours: undefined,
    reference: undefined,
    referenceStatus: "skipped (--no-ref)",
    notes,
  };
  try {
    gateway = await RpcChild.start<GatewayMethods, GatewayEvents>(GATEWAY, {
      args: ["--workers=1"],
      label: "gateway",
    });
    const g = gateway;
    const servers: Server[] = [{
      name: "ours",
      wsUrl: `ws://127.0.0.1:${g.ready.ws}`,
      pids: async () => {
        const now = await g.call("info", null);
        return [now.pid, ...now.workerPids];
      },
    }];
    if (!options.noRef) {
      const fresh = await startFreshReference();
      if ("unreachable" in fresh) {
        result.referenceStatus = `reference not measured: ${fresh.unreachable}`;
      } else {
        reference = fresh;
        print(
          `${TEXTROOM_REFERENCE_PREFIX}${JSON.stringify({ pid: fresh.pid, runDir: fresh.runDir })}`,
        );
        result.referenceStatus = `private Janus ${fresh.version} (start.sh), pid ${fresh.pid}`;
        const pid = fresh.pid;
        servers.push({
          name: "reference",
          wsUrl: `ws://127.0.0.1:${fresh.endpoint.wsPort}`,
          pids: () => Promise.resolve(pid === undefined ? [] : [pid]),
        });
      }
    }
    print(` Reference: ${result.referenceStatus}`);
    client = await RpcChild.start<TextRoomClientMethods, TextRoomClientEvents>(CLIENT, {
      label: "textroom client",
    });
    for (const server of servers) {
      try {
        result[server.name] = await measure(server, client, options);
      } catch (e) {
        notes.push(`textroom fan-out on ${server.name} failed: ${errorText(e)}`);
        // A half-set-up room is torn down with a fresh client.
        await client.stop().catch(() => {});
        client = await RpcChild.start<TextRoomClientMethods, TextRoomClientEvents>(CLIENT, {
          label: "textroom client",
        });
      }
    }
    const after = await g.call("info", null);
    const left = Object.entries(after.counts).filter(([k, n]) =>
      ["sessions", "handles", "peers"].includes(k) && n !== 0
    );
    if (left.length > 0) notes.push(`ours still holds ${JSON.stringify(after.counts)}`);
  } finally {
    await cleanup();
  }
  print(`${TEXTROOM_RESULT_PREFIX}${JSON.stringify(result)}`);
  return 0;
}

if (import.meta.main) await runPhaseMain("textroom", main);
