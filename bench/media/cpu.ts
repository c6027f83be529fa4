/**
 * CPU time of a changing set of processes over a window (utime + stime from `/proc`, all
 * threads), e.g. our gateway plus its media workers, and small statistics helpers.
 *
 * @module
 */
import { readCpuSeconds } from "../proc.ts";

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
  const first = new Map<number, number>();
  for (const pid of await source()) {
    const cpu = readCpuSeconds(pid);
    if (cpu !== undefined) first.set(pid, cpu);
  }
  const started = performance.now();
  return async () => {
    const pids = [...new Set(await source())];
    let cpuSeconds = 0;
    const seen: number[] = [];
    const perPid: number[] = [];
    for (const pid of pids) {
      const cpu = readCpuSeconds(pid);
      if (cpu === undefined) continue;
      seen.push(pid);
      perPid.push(cpu - (first.get(pid) ?? 0));
      cpuSeconds += cpu - (first.get(pid) ?? 0);
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
