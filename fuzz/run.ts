/**
 * The fuzz run: a gateway in this process (admin on), batches of cases on concurrent
 * connections, every reply judged, a health check after each batch, and at the end a
 * clean-up and a leak check of the gateway's counts.
 *
 * @module
 */
import type { JsonObject } from "../core/protocol.ts";
import { startTestGateway, type TestGateway } from "../tests/_helpers/gateway.ts";
import { type FuzzCase, makeCase, type Ports } from "./cases.ts";
import { ADMIN_SECRET, ECHOTEST, type IdPool, ROOM_POOL, VIDEOROOM } from "./grammar.ts";
import { judgeHttp, judgeWsText, type Verdict } from "./judge.ts";
import { Rng } from "./prng.ts";
import { exchange } from "./raw_http.ts";
import { wsExchange } from "./raw_ws.ts";

/** How long and how hard to fuzz. */
export interface FuzzOptions {
  seed: number;
  /** Stop after this many requests (HTTP requests and WebSocket messages). */
  requests: number;
  /** Stop after this many seconds, whatever the count. */
  seconds?: number;
  /** Replay only this case number. */
  onlyCase?: number;
  concurrency?: number;
  /** Cases between health checks. */
  batch?: number;
  /** Progress lines (one per batch) go here when given. */
  progress?: (line: string) => void;
}

/** One bad outcome, with what it takes to replay it. */
export interface Failure {
  kind: "crash" | "non-janus" | "unexpected" | "timeout" | "health" | "leak";
  caseIndex: number;
  what: string;
  got: string;
}

/** What a run found. */
export interface FuzzSummary {
  seed: number;
  requests: number;
  cases: number;
  seconds: number;
  crashes: number;
  nonJanus: number;
  /** 490 "Unexpected error" replies: a throw caught by a safety net. */
  unexpected: number;
  /** Requests that got neither a reply nor a close. */
  timeouts: number;
  leakedSessions: number;
  /** Gateway counts left over after the clean-up (only those not back to 0). */
  leaks: Record<string, number>;
  failures: Failure[];
}

const MAX_FAILURES = 50;
/** The default run's size: about a minute on two shared cores. */
export const DEFAULT_REQUESTS = 40_000;
const HTTP_TIMEOUT_MS = 10_000;

/** The summary as one line. */
export function summaryLine(s: FuzzSummary): string {
  return `fuzz: seed ${s.seed}, ${s.requests} requests (${s.cases} cases) in ${
    s.seconds.toFixed(1)
  } s: ${s.crashes} crashes, ${s.nonJanus} non-Janus replies, ${s.unexpected} unexpected errors, ${s.timeouts} timeouts, ${s.leakedSessions} leaked sessions`;
}

function clip(text: string, n = 400): string {
  return text.length > n ? `${text.slice(0, n)}... (${text.length} chars)` : text;
}

/** Runs the fuzzer against a fresh in-process gateway. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const started = performance.now();
  const summary: FuzzSummary = {
    seed: options.seed,
    requests: 0,
    cases: 0,
    seconds: 0,
    crashes: 0,
    nonJanus: 0,
    unexpected: 0,
    timeouts: 0,
    leakedSessions: 0,
    leaks: {},
    failures: [],
  };
  const fail = (failure: Failure) => {
    if (failure.kind === "crash" || failure.kind === "health") summary.crashes++;
    else if (failure.kind === "non-janus") summary.nonJanus++;
    else if (failure.kind === "unexpected") summary.unexpected++;
    else if (failure.kind === "timeout") summary.timeouts++;
    if (summary.failures.length < MAX_FAILURES) {
      summary.failures.push({ ...failure, what: clip(failure.what, 800), got: clip(failure.got) });
    }
  };
  // A throw nobody caught, anywhere in the process (gateway included), is a crash.
  let current = -1;
  const onError = (e: ErrorEvent) => {
    e.preventDefault();
    fail({
      kind: "crash",
      caseIndex: current,
      what: "uncaught error",
      got: String(e.error?.stack ?? e.message),
    });
  };
  const onRejection = (e: PromiseRejectionEvent) => {
    e.preventDefault();
    const reason = e.reason as Error | undefined;
    fail({
      kind: "crash",
      caseIndex: current,
      what: "unhandled rejection",
      got: String(reason?.stack ?? reason),
    });
  };
  globalThis.addEventListener("error", onError);
  globalThis.addEventListener("unhandledrejection", onRejection);

  const gw = await startTestGateway({
    http: { demo: false, long_poll_timeout: 1 },
    limits: { ws_requests_per_second: 0 },
  });
  try {
    const ports: Ports = {
      http: gw.app.ports.http!,
      admin: gw.app.ports.adminHttp!,
      ws: gw.app.ports.ws!,
      adminWs: gw.app.ports.adminWs!,
    };
    const limit = gw.app.gateway.config.limits.max_message_bytes;
    const pool: IdPool = { sessions: [], handles: new Map() };
    const created = new Set<number>();
    const roomsBefore = await listRooms(gw);
    for (let i = 0; i < 3; i++) {
      const s = await api(gw, gw.httpUrl, { janus: "create" });
      const id = (s.data as JsonObject).id as number;
      created.add(id);
      pool.sessions.push(id);
      const handles: number[] = [];
      for (const plugin of [ECHOTEST, VIDEOROOM]) {
        const h = await api(gw, `${gw.httpUrl}/${id}`, { janus: "attach", plugin });
        handles.push((h.data as JsonObject).id as number);
      }
      pool.handles.set(id, handles);
    }
    const learn = (text: string) => learnIds(text, pool, created);
    const deadline = options.seconds === undefined ? Infinity : started + options.seconds * 1000;
    const batch = options.batch ?? 400;
    const concurrency = options.concurrency ?? 32;
    let next = options.onlyCase ?? 0;
    const last = options.onlyCase ?? Infinity;
    const more = () =>
      next <= last && summary.requests < options.requests && performance.now() < deadline;
    while (more()) {
      const end = next + batch;
      const worker = async () => {
        while (next < end && more()) {
          const index = next++;
          const c = makeCase(new Rng(options.seed, index), pool, ports, limit);
          summary.cases++;
          summary.requests += c.requests;
          current = index;
          await runCase(c, index, fail, learn);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      await health(gw, next, fail);
      options.progress?.(
        summaryLine({ ...summary, seconds: (performance.now() - started) / 1000 }),
      );
    }
    await cleanUp(gw, created, roomsBefore, summary, fail);
  } finally {
    try {
      await gw.stop();
    } catch (e) {
      fail({ kind: "leak", caseIndex: -1, what: "stop", got: (e as Error).message });
    }
    // Let late socket callbacks land before the listeners go.
    await new Promise((r) => setTimeout(r, 100));
    globalThis.removeEventListener("error", onError);
    globalThis.removeEventListener("unhandledrejection", onRejection);
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

/** Adds the ids of `create`/`attach` successes to the pool. */
function learnIds(text: string, pool: IdPool, created: Set<number>): void {
  if (!text.includes('"success"')) return;
  let reply: JsonObject;
  try {
    reply = JSON.parse(text);
  } catch {
    return;
  }
  const id = (reply.data as JsonObject | undefined)?.id;
  if (reply.janus !== "success" || typeof id !== "number") return;
  if (typeof reply.session_id === "number") {
    const handles = pool.handles.get(reply.session_id) ?? [];
    if (handles.length < 20) handles.push(id);
    pool.handles.set(reply.session_id, handles);
  } else {
    created.add(id);
    if (pool.sessions.length < 200) pool.sessions.push(id);
    else pool.sessions[id % 200] = id;
  }
}

async function runCase(
  c: FuzzCase,
  index: number,
  fail: (f: Failure) => void,
  learn: (text: string) => void,
): Promise<void> {
  // The bytes sent go with a failure: a replayed case draws ids from another run's pool.
  const sent = () => {
    const bytes = c.kind === "http" ? c.bytes : c.frames[0]?.payload ?? new Uint8Array();
    return JSON.stringify(new TextDecoder().decode(bytes.subarray(0, 300)));
  };
  const report = (kind: Failure["kind"], got: string) =>
    fail({ kind, caseIndex: index, what: `${clip(c.what, 300)}\n    sent: ${sent()}`, got });
  const verdictFailure = (v: Verdict, got: string) => {
    if (v !== "ok") report(v, got);
  };
  if (c.kind === "http") {
    const heads = new Set(c.methods.flatMap((m, i) => (m === "HEAD" ? [i] : [])));
    const res = await exchange(c.port, c.bytes, {
      expect: c.methods.length,
      headIndexes: heads,
      closeWrite: c.closeWrite,
      abandon: c.abandon,
      timeoutMs: HTTP_TIMEOUT_MS,
    }).catch((e) => {
      report("crash", `connection failed: ${(e as Error).message}`);
      return undefined;
    });
    if (!res || c.abandon) return;
    res.replies.forEach((reply, i) => {
      const method = c.methods[i] ?? "?";
      const got = `${reply.status} ${reply.headers.get("content-type") ?? ""} ${reply.body}`;
      verdictFailure(judgeHttp(reply, { head: heads.has(i), framing: c.framing, method }), got);
      learn(reply.body);
    });
    if (res.garbage !== "" && !c.framing) {
      report("non-janus", `unparsable reply bytes: ${res.garbage}`);
    }
    if (res.replies.length < c.methods.length) {
      const lastStatus = res.replies.at(-1)?.status ?? 0;
      // The server may close after refusing a request (413, 400): later pipelined ones go unanswered.
      if (res.timedOut && !c.framing) {
        report("timeout", `${res.replies.length}/${c.methods.length} replies`);
      } else if (res.closed && !c.framing && lastStatus < 400) {
        report("non-janus", `closed after ${res.replies.length}/${c.methods.length} replies`);
      }
    }
    return;
  }
  const res = await wsExchange(c.port, c.protocol, c.frames, {
    // A socket that must close is read to its end: events may add texts before the close.
    expect: c.mustClose ? Infinity : c.expect,
    timeoutMs: HTTP_TIMEOUT_MS,
    abandon: c.abandon,
  }).catch((e) => {
    report("crash", `connection failed: ${(e as Error).message}`);
    return undefined;
  });
  if (!res) return;
  if (res.status !== 101) {
    report("crash", `handshake: ${res.handshake || "none"}`);
    return;
  }
  if (c.abandon) return;
  for (const text of res.texts) {
    verdictFailure(judgeWsText(text), text);
    learn(text);
  }
  if (res.binaries > 0) report("non-janus", `${res.binaries} binary frames`);
  const closed = res.closed || res.closeCode !== undefined;
  if (c.mustClose) {
    if (!closed) report(res.timedOut ? "timeout" : "non-janus", "socket not closed");
  } else if (res.texts.length < c.expect && !(closed && c.mayClose)) {
    const why = closed ? `closed (${res.closeCode ?? "no close frame"})` : "no reply";
    report(
      res.timedOut ? "timeout" : "non-janus",
      `${why} after ${res.texts.length}/${c.expect} replies`,
    );
  }
}

/** A POST of JSON to the gateway over fetch (transaction added). */
async function api(_gw: TestGateway, url: string, body: JsonObject): Promise<JsonObject> {
  const res = await fetch(url, {
    method: "POST",
    body: JSON.stringify({ transaction: crypto.randomUUID(), ...body }),
  });
  return await res.json() as JsonObject;
}

function admin(gw: TestGateway, body: JsonObject, path = ""): Promise<JsonObject> {
  return api(gw, `${gw.adminUrl}${path}`, { admin_secret: ADMIN_SECRET, ...body });
}

/** Info answers, a lifecycle works; undoes what admin requests changed. */
async function health(
  gw: TestGateway,
  caseIndex: number,
  fail: (f: Failure) => void,
): Promise<void> {
  const check = (ok: boolean, what: string, got: unknown) => {
    if (!ok) fail({ kind: "health", caseIndex, what: `health: ${what}`, got: JSON.stringify(got) });
    return ok;
  };
  try {
    const general = gw.app.gateway.config.general;
    await admin(gw, { janus: "accept_new_sessions", accept: true });
    await admin(gw, { janus: "set_session_timeout", timeout: general.session_timeout });
    await admin(gw, { janus: "set_log_level", level: general.log_level });
    const info = await (await fetch(`${gw.httpUrl}/info`)).json();
    if (!check(info.janus === "server_info", "GET /janus/info", info)) return;
    const s = await api(gw, gw.httpUrl, { janus: "create" });
    if (!check(s.janus === "success", "create", s)) return;
    const id = (s.data as JsonObject).id as number;
    const h = await api(gw, `${gw.httpUrl}/${id}`, { janus: "attach", plugin: ECHOTEST });
    check(h.janus === "success", "attach", h);
    const d = await api(gw, `${gw.httpUrl}/${id}`, { janus: "destroy" });
    check(d.janus === "success", "destroy", d);
  } catch (e) {
    check(false, "request failed", (e as Error).message);
  }
}

async function listRooms(gw: TestGateway): Promise<Set<number>> {
  const reply = await admin(gw, {
    janus: "message_plugin",
    plugin: VIDEOROOM,
    request: { request: "list" },
  });
  const list = ((reply.response as JsonObject | undefined)?.list ?? []) as JsonObject[];
  return new Set(list.map((r) => r.room as number));
}

/** Destroys what the fuzz made, then waits for the counts to come back to 0. */
async function cleanUp(
  gw: TestGateway,
  created: Set<number>,
  roomsBefore: Set<number>,
  summary: FuzzSummary,
  fail: (f: Failure) => void,
): Promise<void> {
  const sessions = gw.app.gateway.sessions;
  const live = [...created].filter((id) => sessions.has(id));
  for (let i = 0; i < live.length; i += 16) {
    await Promise.all(
      live.slice(i, i + 16).map((id) => admin(gw, { janus: "destroy_session" }, `/${id}`)),
    );
  }
  for (const room of await listRooms(gw)) {
    if (!roomsBefore.has(room) && ROOM_POOL.includes(room)) {
      await admin(gw, {
        janus: "message_plugin",
        plugin: VIDEOROOM,
        request: { request: "destroy", room },
      });
    }
  }
  const deadline = performance.now() + 5000;
  let left: Record<string, number> = {};
  for (;;) {
    const counts = gw.counts();
    left = Object.fromEntries(
      Object.entries(counts).filter(([k, n]) => k !== "timers" && n !== 0),
    );
    if (Object.keys(left).length === 0 || performance.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  summary.leaks = left;
  summary.leakedSessions = left.sessions ?? 0;
  if (Object.keys(left).length > 0) {
    const ids = [...sessions.keys()].slice(0, 20);
    fail({
      kind: "leak",
      caseIndex: -1,
      what: "counts after clean-up",
      got: `${JSON.stringify(left)} sessions ${ids.join(",")}`,
    });
    // Destroy them anyway so the gateway stops cleanly.
    for (const session of [...sessions.values()]) {
      await gw.app.gateway.destroySession(session, "destroy");
    }
  }
}
