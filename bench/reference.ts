/**
 * Finds the reference Janus on loopback (REF_HTTP / REF_WS may override the
 * ports 18088 / 18188), and its process id for CPU and memory readings.
 * With BENCH_START_REF=1 it may start one with `../shared/ref-janus/start.sh`.
 *
 * @module
 */
import { type Endpoint, JanusHttpClient } from "./janus_client.ts";
import { alive, listenerPid } from "./proc.ts";

/** A reachable reference. */
export interface Reference {
  endpoint: Endpoint;
  pid: number | undefined;
  /** How the pid was found. */
  pidSource: string;
  version: string;
  sessionTimeout: number | undefined;
  /** Set when the bench started this instance (and so stops it). */
  startedPid: number | undefined;
  /** The run directory start.sh made for an instance the bench started. */
  runDir: string | undefined;
  /** The admin API's HTTP port of an instance the bench started (secret `janusoverlord`). */
  adminHttpPort?: number;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

function parsePortOrUrl(
  raw: string | undefined,
  fallback: number,
  scheme: "http" | "ws",
): { host: string; port: number; path: string } {
  if (raw === undefined || raw === "") return { host: "127.0.0.1", port: fallback, path: "/janus" };
  if (/^\d+$/.test(raw)) return { host: "127.0.0.1", port: Number(raw), path: "/janus" };
  const url = new URL(raw.includes("://") ? raw : `${scheme}://${raw}`);
  if (!LOOPBACK.has(url.hostname)) {
    throw new Error(`the bench runs on loopback only; ${raw} is not a loopback address`);
  }
  const port = Number(url.port || 80);
  const path = url.pathname === "/" || url.pathname === "" ? "/janus" : url.pathname;
  return { host: url.hostname === "localhost" ? "127.0.0.1" : url.hostname, port, path };
}

/** The reference's endpoint from the environment (defaults 18088 /janus and 18188). */
export function referenceEndpoint(): Endpoint {
  const http = parsePortOrUrl(Deno.env.get("REF_HTTP"), 18088, "http");
  const ws = parsePortOrUrl(Deno.env.get("REF_WS"), 18188, "ws");
  return { host: http.host, httpPort: http.port, basePath: http.path, wsPort: ws.port };
}

async function probe(endpoint: Endpoint): Promise<Record<string, unknown> | undefined> {
  const client = new JanusHttpClient(endpoint, 2000);
  try {
    const info = await client.info();
    return info.janus === "server_info" ? info : undefined;
  } catch {
    return undefined;
  } finally {
    client.close();
  }
}

async function pgrepJanus(): Promise<number[]> {
  try {
    const out = await new Deno.Command("pgrep", { args: ["-f", "janus -F"], stdout: "piped" })
      .output();
    return new TextDecoder().decode(out.stdout).split("\n").map((s) => Number(s.trim())).filter(
      (n) => Number.isInteger(n) && n > 0,
    );
  } catch {
    return [];
  }
}

async function findPid(endpoint: Endpoint): Promise<{ pid: number | undefined; source: string }> {
  const fromEnv = Number(Deno.env.get("REF_PID") ?? "");
  if (Number.isInteger(fromEnv) && fromEnv > 0 && alive(fromEnv)) {
    return { pid: fromEnv, source: "REF_PID" };
  }
  const listener = listenerPid(endpoint.httpPort);
  if (listener !== undefined) {
    return { pid: listener, source: `listener of port ${endpoint.httpPort}` };
  }
  const found = await pgrepJanus();
  if (found.length === 1) return { pid: found[0], source: "pgrep -f 'janus -F'" };
  return {
    pid: undefined,
    source: found.length === 0 ? "not found" : `ambiguous: pgrep found ${found.join(",")}`,
  };
}

/** `../shared/ref-janus/start.sh` next to the repository (it may not exist). */
export const START_SCRIPT = new URL("../../shared/ref-janus/start.sh", import.meta.url).pathname;

async function startReference(
  endpoint: Endpoint,
  adminPorts?: { http: number; ws: number },
): Promise<{ pid?: number; runDir?: string; note: string }> {
  const script = START_SCRIPT;
  try {
    Deno.statSync(script);
  } catch {
    return { note: `${script} does not exist` };
  }
  const env: Record<string, string> = {
    REF_HTTP: String(endpoint.httpPort),
    REF_WS: String(endpoint.wsPort),
  };
  // Free admin ports, so as not to collide with another instance's defaults.
  const admin = adminPorts ?? { http: freePort(), ws: freePort() };
  env.REF_ADMIN_HTTP = String(admin.http);
  env.REF_ADMIN_WS = String(admin.ws);
  const out = await new Deno.Command("bash", {
    args: [script],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").pop() ?? "";
    return { note: `start.sh failed (exit ${out.code}): ${err}` };
  }
  const runDir = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
  try {
    const pid = Number(Deno.readTextFileSync(`${runDir}/pid`).trim());
    return { pid, runDir, note: `started by the bench in ${runDir}` };
  } catch {
    return { note: `started in ${runDir}, but no pid file` };
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/**
 * Starts a fresh reference on free loopback ports (for an isolated memory
 * reading: a long-running one reuses memory it freed before).
 */
export async function startFreshReference(): Promise<Reference | { unreachable: string }> {
  // start.sh would apt-get install janus when it is missing: not as a side effect of a bench.
  const which = await new Deno.Command("sh", {
    args: ["-c", "command -v janus"],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => undefined);
  if (!which?.success) return { unreachable: "janus is not installed" };
  const endpoint: Endpoint = {
    host: "127.0.0.1",
    httpPort: freePort(),
    basePath: "/janus",
    wsPort: freePort(),
  };
  const admin = { http: freePort(), ws: freePort() };
  const started = await startReference(endpoint, admin);
  if (started.pid === undefined) return { unreachable: started.note };
  const fresh: Reference = {
    adminHttpPort: admin.http,
    endpoint,
    pid: started.pid,
    pidSource: "started by the bench",
    version: "?",
    sessionTimeout: undefined,
    startedPid: started.pid,
    runDir: started.runDir,
  };
  const info = await probe(endpoint);
  if (!info) {
    await stopStartedReference(fresh);
    return { unreachable: `fresh reference did not answer on port ${endpoint.httpPort}` };
  }
  fresh.version = String(info.version_string ?? "?");
  const timeout = info["session-timeout"];
  fresh.sessionTimeout = typeof timeout === "number" ? timeout : undefined;
  return fresh;
}

/** The reference if it answers `GET /janus/info`, else the reason it is not measured. */
export async function findReference(): Promise<Reference | { unreachable: string }> {
  let endpoint: Endpoint;
  try {
    endpoint = referenceEndpoint();
  } catch (e) {
    return { unreachable: (e as Error).message };
  }
  const where = `http://${endpoint.host}:${endpoint.httpPort}${endpoint.basePath}/info`;
  let info = await probe(endpoint);
  let startedPid: number | undefined;
  let runDir: string | undefined;
  if (!info && Deno.env.get("BENCH_START_REF") === "1") {
    const started = await startReference(endpoint);
    if (started.pid === undefined) {
      return { unreachable: `no answer on ${where}; BENCH_START_REF=1 but ${started.note}` };
    }
    startedPid = started.pid;
    runDir = started.runDir;
    info = await probe(endpoint);
  }
  if (!info) return { unreachable: `no answer on ${where}` };
  const { pid, source } = startedPid !== undefined
    ? { pid: startedPid, source: "started by the bench" }
    : await findPid(endpoint);
  const timeout = info["session-timeout"];
  return {
    endpoint,
    pid,
    pidSource: source,
    version: String(info.version_string ?? "?"),
    sessionTimeout: typeof timeout === "number" ? timeout : undefined,
    startedPid,
    runDir,
  };
}

/** Stops a reference the bench started itself (by its pid) and removes its run directory. */
export async function stopStartedReference(reference: Reference): Promise<void> {
  const pid = reference.startedPid;
  if (pid === undefined) return;
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    // Already gone.
  }
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  }
  if (reference.runDir?.startsWith("/tmp/")) {
    await Deno.remove(reference.runDir, { recursive: true }).catch(() => {});
  }
}
