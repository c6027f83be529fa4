/**
 * Memory per idle session: RSS of the server process before and after
 * creating many sessions over HTTP, divided by their number.
 *
 * @module
 */
import { dataId, type Endpoint, expectJanus, JanusHttpClient } from "./janus_client.ts";
import { readCpuSeconds, readRss } from "./proc.ts";

/** V8 heap figures a probe may report (our gateway only). */
export interface HeapSample {
  heapUsed: number;
  sessions: number;
}

/** How to observe the server process. */
export interface MemoryProbe {
  pid: number;
  /** Runs a full GC in the server if it can, and reports its heap. */
  collect?: () => Promise<HeapSample>;
}

/** Knobs of the memory phase. */
export interface MemoryOptions {
  sessions: number;
  concurrency: number;
  settleMs: number;
  timeoutMs: number;
}

/** What the memory phase measured. */
export interface MemoryResult {
  sessions: number;
  created: number;
  errors: number;
  firstError: string | undefined;
  /** RSS when the phase began, before any warm-up (a fresh process for our gateway). */
  rssAtStart: number | undefined;
  rssBefore: number | undefined;
  rssAfter: number | undefined;
  rssAfterDestroy: number | undefined;
  bytesPerSession: number | undefined;
  /** V8 heap growth per session after a full GC (our gateway only). */
  heapBytesPerSession: number | undefined;
  /** V8 heap still held per session after every session was destroyed (leak indicator). */
  heapRetainedPerSession: number | undefined;
  createSeconds: number;
  destroySeconds: number;
  /** Server CPU seconds spent creating, then destroying, the sessions. */
  createCpuSeconds: number | undefined;
  destroyCpuSeconds: number | undefined;
  /** Sessions the server counted while they were all alive (our gateway only). */
  serverSessions: number | undefined;
}

async function pool<T>(
  items: number,
  concurrency: number,
  work: (client: JanusHttpClient, index: number) => Promise<T>,
  endpoint: Endpoint,
  timeoutMs: number,
): Promise<{ values: T[]; errors: number; firstError: string | undefined }> {
  const values: T[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  await Promise.all(Array.from({ length: Math.min(concurrency, items) }, async () => {
    const client = new JanusHttpClient(endpoint, timeoutMs);
    try {
      while (next < items) {
        const index = next++;
        try {
          values.push(await work(client, index));
        } catch (e) {
          errors++;
          firstError ??= (e as Error).message;
        }
      }
    } finally {
      client.close();
    }
  }));
  return { values, errors, firstError };
}

/** Creates `count` sessions over HTTP with bounded concurrency; resolves their ids. */
export async function createSessions(
  endpoint: Endpoint,
  count: number,
  concurrency: number,
  timeoutMs: number,
): Promise<{ ids: number[]; errors: number; firstError: string | undefined }> {
  const out = await pool(
    count,
    concurrency,
    async (client) => dataId(await client.post({ janus: "create" })),
    endpoint,
    timeoutMs,
  );
  return { ids: out.values, errors: out.errors, firstError: out.firstError };
}

/** Sends `count` `ping` requests over HTTP with bounded concurrency (no state on the server). */
export async function pings(
  endpoint: Endpoint,
  count: number,
  concurrency: number,
  timeoutMs: number,
): Promise<number> {
  const out = await pool(
    count,
    concurrency,
    async (client) => expectJanus(await client.post({ janus: "ping" }), "pong"),
    endpoint,
    timeoutMs,
  );
  return out.errors;
}

/** Destroys `ids` over HTTP with bounded concurrency; resolves the error count. */
export async function destroySessions(
  endpoint: Endpoint,
  ids: readonly number[],
  concurrency: number,
  timeoutMs: number,
): Promise<number> {
  const out = await pool(
    ids.length,
    concurrency,
    async (client, i) =>
      expectJanus(await client.post({ janus: "destroy" }, ids[i] ?? 0), "success"),
    endpoint,
    timeoutMs,
  );
  return out.errors;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Warms up, samples RSS, creates `sessions` idle sessions, settles, samples
 * again, then destroys them all. The warm-up creates and destroys a few
 * sessions (compiled code paths) and sends as many `ping`s as there will be
 * creates: the same request churn without sessions, so that heap spaces and
 * allocator arenas sized by request traffic (a fresh V8 grows its heap by tens
 * of MiB under any load) are not billed to the sessions.
 */
export async function measureIdleSessions(
  endpoint: Endpoint,
  probe: MemoryProbe,
  options: MemoryOptions,
): Promise<MemoryResult> {
  const { sessions, concurrency, settleMs, timeoutMs } = options;
  const settle = async (): Promise<{ rss: number | undefined; heap: HeapSample | undefined }> => {
    const heap = probe.collect ? await probe.collect() : undefined;
    await sleep(settleMs);
    return { rss: readRss(probe.pid), heap };
  };

  const rssAtStart = readRss(probe.pid);
  const warm = await createSessions(endpoint, Math.min(1000, sessions), concurrency, timeoutMs);
  await destroySessions(endpoint, warm.ids, concurrency, timeoutMs);
  const warmErrors = warm.errors + await pings(endpoint, sessions, concurrency, timeoutMs);
  const before = await settle();

  const cpu0 = readCpuSeconds(probe.pid);
  const t0 = performance.now();
  const created = await createSessions(endpoint, sessions, concurrency, timeoutMs);
  const createSeconds = (performance.now() - t0) / 1000;
  const cpu1 = readCpuSeconds(probe.pid);
  const after = await settle();

  const cpu2 = readCpuSeconds(probe.pid);
  const t1 = performance.now();
  const destroyErrors = await destroySessions(endpoint, created.ids, concurrency, timeoutMs);
  const destroySeconds = (performance.now() - t1) / 1000;
  const cpu3 = readCpuSeconds(probe.pid);
  const gone = await settle();

  const n = created.ids.length;
  const perSession = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || n === 0 ? undefined : (b - a) / n;
  const diff = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : b - a;
  return {
    sessions,
    created: n,
    errors: warmErrors + created.errors + destroyErrors,
    firstError: created.firstError,
    rssAtStart,
    rssBefore: before.rss,
    rssAfter: after.rss,
    rssAfterDestroy: gone.rss,
    bytesPerSession: perSession(before.rss, after.rss),
    heapBytesPerSession: perSession(before.heap?.heapUsed, after.heap?.heapUsed),
    heapRetainedPerSession: perSession(before.heap?.heapUsed, gone.heap?.heapUsed),
    createSeconds,
    destroySeconds,
    createCpuSeconds: diff(cpu0, cpu1),
    destroyCpuSeconds: diff(cpu2, cpu3),
    serverSessions: after.heap?.sessions,
  };
}
