/**
 * `deno task soak`: session churn for minutes (default 10 at 20 lifecycles/s) against our
 * gateway (a child process with media workers) and, with `--reference`, a private reference
 * Janus after it; samples the RSS of each server's process tree and prints duration,
 * lifecycles, errors, sessions left after the timeouts, RSS at start / after warm-up / end,
 * and the least-squares RSS slope after warm-up, side by side. Runs itself in a private
 * network namespace (real media goes to loopback only). Exit code 1 when ours misses the
 * target (errors, leaked sessions, |slope| over `--max-slope`).
 *
 * @module
 */
import { insideNetns, runInNetns } from "../tests/_helpers/netns.ts";
import type { Endpoint } from "./janus_client.ts";
import type { ClientEvents, ClientMethods } from "./media/protocol.ts";
import { RpcChild } from "./media/rpc_child.ts";
import type { ClientHost } from "./media/server.ts";
import { print } from "./print.ts";
import { type Reference, startFreshReference, stopStartedReference } from "./reference.ts";
import { parseSoakArgs, type SoakOptions, USAGE } from "./soak/args.ts";
import type { SoakGatewayEvents, SoakGatewayMethods } from "./soak/protocol.ts";
import { soakReport } from "./soak/report.ts";
import { soak, type SoakResult } from "./soak/target.ts";

const GATEWAY = new URL("./soak/gateway.ts", import.meta.url);
const CLIENT_HOST = new URL("./media/client_host.ts", import.meta.url);
const CONFIG = new URL("../deno.json", import.meta.url);

function loopback(httpPort: number, basePath: string, wsPort = 0): Endpoint {
  return { host: "127.0.0.1", httpPort, basePath, wsPort };
}

/** The V8 flags `deno task start` gives the gateway (deno.json), so the soak runs it alike. */
function startTaskV8Flags(): string | undefined {
  const { tasks } = JSON.parse(Deno.readTextFileSync(CONFIG)) as { tasks?: Record<string, string> };
  return /--v8-flags=(\S+)/.exec(tasks?.start ?? "")?.[1];
}

async function soakOurs(options: SoakOptions, host: ClientHost): Promise<SoakResult> {
  // The start task's flags; gc exposed for the heap figures taken before and after the churn
  // (never during it); SOAK_GATEWAY_V8_FLAGS adds V8 flags (comma-separated) for experiments.
  // Media workers get only their own (WORKER_V8_FLAGS; the gateway drops DENO_V8_FLAGS).
  const flags = ["--expose-gc", startTaskV8Flags(), Deno.env.get("SOAK_GATEWAY_V8_FLAGS")];
  Deno.env.set("DENO_V8_FLAGS", flags.filter((f) => f).join(","));
  print(` Ours: V8 flags ${Deno.env.get("DENO_V8_FLAGS")}`);
  const gateway = await RpcChild.start<SoakGatewayMethods, SoakGatewayEvents>(GATEWAY, {
    args: [
      `--session-timeout=${options.sessionTimeout}`,
      `--workers=${options.workers}`,
    ],
    label: "gateway",
  });
  Deno.env.delete("DENO_V8_FLAGS");
  try {
    const ready = gateway.ready;
    print(
      ` Ours: pid ${ready.pid}, http ${ready.http}, ws ${ready.ws}, admin ${ready.adminHttp}, ` +
        `media workers ${ready.workerPids.join(",")}`,
    );
    return await soak(
      {
        name: "ours",
        endpoint: loopback(ready.http, "/janus", ready.ws),
        admin: loopback(ready.adminHttp, "/admin"),
        pid: ready.pid,
        media: {
          name: "ours",
          wsUrl: `ws://127.0.0.1:${ready.ws}`,
          pids: async () => {
            const now = await gateway.call("info", null);
            return [now.pid, ...now.workerPids];
          },
          idle: () => Promise.resolve(),
        },
        info: (gc) => gateway.call(gc ? "gc" : "info", null),
        snapshot: async (path) => (await gateway.call("snapshot", { path })).path,
      },
      host,
      options,
    );
  } finally {
    await gateway.stop();
  }
}

/** The admin HTTP port start.sh wrote into the reference's configuration. */
function referenceAdminPort(reference: Reference): number {
  const text = Deno.readTextFileSync(`${reference.runDir}/etc/janus.transport.http.jcfg`);
  const port = Number(/^\s*admin_port\s*=\s*(\d+)/m.exec(text)?.[1]);
  if (!Number.isInteger(port) || port <= 0) throw new Error("no admin_port in the reference");
  return port;
}

async function soakReference(
  options: SoakOptions,
  host: ClientHost,
): Promise<SoakResult | string> {
  Deno.env.set("REF_SESSION_TIMEOUT", String(options.sessionTimeout));
  const fresh = await startFreshReference();
  if ("unreachable" in fresh) return fresh.unreachable;
  try {
    print(` Reference: Janus ${fresh.version}, pid ${fresh.pid}, ws ${fresh.endpoint.wsPort}`);
    return await soak(
      {
        name: "reference",
        endpoint: fresh.endpoint,
        admin: loopback(referenceAdminPort(fresh), "/admin"),
        pid: fresh.pid ?? 0,
        media: {
          name: "reference",
          wsUrl: `ws://127.0.0.1:${fresh.endpoint.wsPort}`,
          pids: () => Promise.resolve(fresh.pid === undefined ? [] : [fresh.pid]),
          idle: () => Promise.resolve(),
        },
      },
      host,
      options,
    );
  } finally {
    await stopStartedReference(fresh);
  }
}

async function inside(options: SoakOptions): Promise<number> {
  print(
    `Soak: ${options.minutes} min per server at ${options.rate} lifecycles/s ` +
      `(HTTP + WS, EchoTest and VideoRoom, 10% abandoned), a real-media call every ` +
      `${options.mediaEvery} s, session timeout ${options.sessionTimeout} s, RSS every ` +
      `${options.sampleSeconds} s, slope after ${options.warmupMinutes} min; ` +
      `${navigator.hardwareConcurrency} CPUs, Deno ${Deno.version.deno}`,
  );
  const host = await RpcChild.start<ClientMethods, ClientEvents>(CLIENT_HOST, {
    label: "client",
  });
  let ours: SoakResult | undefined;
  let reference: SoakResult | string | undefined;
  try {
    ours = await soakOurs(options, host);
    if (options.reference) reference = await soakReference(options, host);
  } finally {
    await host.stop();
  }
  const { lines, json, passed } = soakReport(ours, reference, options);
  for (const line of lines) print(line);
  print(JSON.stringify(json));
  return passed ? 0 : 1;
}

async function main(): Promise<number> {
  let options: SoakOptions;
  try {
    options = parseSoakArgs(Deno.args);
  } catch (e) {
    print(`soak: ${(e as Error).message}`);
    print(USAGE);
    return 2;
  }
  if (options.help) {
    print(USAGE);
    return 0;
  }
  if (!insideNetns()) {
    return await runInNetns([
      Deno.execPath(),
      "run",
      "--allow-all",
      "--config",
      decodeURIComponent(CONFIG.pathname),
      decodeURIComponent(new URL(import.meta.url).pathname),
      ...Deno.args,
    ]);
  }
  return await inside(options);
}

if (import.meta.main) Deno.exit(await main());
