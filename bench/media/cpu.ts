/**
 * CPU time of a changing set of processes over a window, e.g. our gateway plus its media
 * workers, and small statistics helpers. Each thread's run time comes from
 * `/proc/PID/task/TID/schedstat` (nanoseconds): utime + stime of `/proc/PID/stat` count
 * whole 10 ms ticks, which over a 6 s window is ±0.2% of a core per process, as much as the
 * differences the low fan-out steps measure. A thread that ends inside the window loses its
 * share; where schedstat is missing, utime + stime are used.
 *
 * @module
 */
import { readCpuSeconds } from "../proc.ts";

/** Run time in seconds of each thread of `pid`, by thread id; undefined without schedstat. */
function threadSeconds(pid: number): Map<number, number> | undefined {
  const out = new Map<number, number>();
  try {
    for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        const text = Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/schedstat`);
        const ns = Number(text.split(" ")[0]);
        if (Number.isFinite(ns)) out.set(Number(entry.name), ns / 1e9);
      } catch {
        // The thread ended meanwhile.
      }
    }
  } catch {
    return undefined;
  }
  return out.size > 0 ? out : undefined;
}

/** A reading of one process: per-thread run times, or utime + stime. */
type Reading = { threads: Map<number, number> } | { total: number };

function read(pid: number): Reading | undefined {
  const threads = threadSeconds(pid);
  if (threads) return { threads };
  const total = readCpuSeconds(pid);
  return total === undefined ? undefined : { total };
}

/** CPU seconds between two readings of one process (threads new since `a` count from 0). */
function spent(a: Reading | undefined, b: Reading): number {
  if ("total" in b) return b.total - (a && "total" in a ? a.total : 0);
  const before = a && "threads" in a ? a.threads : new Map<number, number>();
  let sum = 0;
  for (const [tid, seconds] of b.threads) sum += seconds - (before.get(tid) ?? 0);
  return sum;
}

/** Where the processes to measure come from (read at the start and at the end). */
export type PidSource = () => Promise<readonly number[]>;

/** CPU used by some processes during a window. */
export interface CpuWindow {
  /** CPU seconds summed over the processes. */
  cpuSeconds: number;
  /** Wall-clock seconds of the window. */
  wallSeconds: number;
  /** Processes measured (alive at the end), in the source's order. */
  pids: number[];
  /** CPU seconds of each of `pids`. */
  perPid: number[];
  /** Processes alive at the start but gone at the end (their last slice is missing). */
  lost: number[];
}

/** Starts a window; the returned function ends it. */
export async function startCpu(source: PidSource): Promise<() => Promise<CpuWindow>> {
  const first = new Map<number, Reading>();
  for (const pid of await source()) {
    const r = read(pid);
    if (r !== undefined) first.set(pid, r);
  }
  const started = performance.now();
  return async () => {
    const pids = [...new Set(await source())];
    let cpuSeconds = 0;
    const seen: number[] = [];
    const perPid: number[] = [];
    for (const pid of pids) {
      const r = read(pid);
      if (r === undefined) continue;
      const cpu = spent(first.get(pid), r);
      seen.push(pid);
      perPid.push(cpu);
      cpuSeconds += cpu;
    }
    return {
      cpuSeconds,
      wallSeconds: (performance.now() - started) / 1000,
      pids: seen,
      perPid,
      lost: [...first.keys()].filter((pid) => !seen.includes(pid)),
    };
  };
}

/** What a measured process is, from its command line (our workers by their entry module). */
function processLabel(pid: number, index: number): string {
  let cmdline = "";
  try {
    cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
  } catch {
    return `pid ${pid}`;
  }
  if (cmdline.includes("media/rtp/worker_main.ts")) return "rtp worker";
  if (cmdline.includes("media/worker_main.ts")) return "wrtc worker";
  if (cmdline.includes("janus")) return "janus";
  return index === 0 ? "gateway" : `pid ${pid}`;
}

/** Each process's CPU over the window, in % of one core, labelled ("gateway 0.1 rtp ..."). */
export function perProcessText(window: CpuWindow): string {
  if (window.wallSeconds <= 0) return "";
  return window.pids.map((pid, i) =>
    `${processLabel(pid, i)} ${((window.perPid[i] ?? 0) / window.wallSeconds * 100).toFixed(2)}`
  ).join(", ");
}

/** CPU of a window as a percentage of one core. */
export function percentOfCore(window: CpuWindow): number {
  return window.wallSeconds > 0 ? window.cpuSeconds / window.wallSeconds * 100 : 0;
}

/** The `q` quantile (0..1, nearest rank) of `values`, or undefined when empty. */
export function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

/** The mean of `values`, or undefined when empty. */
export function mean(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length;
}

/** A pause. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `fn` over `items` with at most `limit` in flight; results keep the items' order. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** The message of an error value. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
