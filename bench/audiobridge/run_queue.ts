/**
 * How long the server's threads waited on the run queue during a window (the second field of
 * `/proc/PID/task/TID/schedstat`, nanoseconds): a thread that is ready but not given a core.
 * On a shared machine this tells starvation (a mixer that waits for a core skips or delays
 * mixes) from a server's own cost.
 *
 * @module
 */
import type { PidSource } from "../media/cpu.ts";

/** Run-queue wait in seconds of each thread of `pid`, by thread id. */
function waits(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        const text = Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/schedstat`);
        const ns = Number(text.split(" ")[1]);
        if (Number.isFinite(ns)) out.set(Number(entry.name), ns / 1e9);
      } catch {
        // The thread ended meanwhile.
      }
    }
  } catch {
    // The process ended meanwhile.
  }
  return out;
}

/**
 * Starts a window over the processes of `source`; the returned function ends it and resolves
 * the largest share of the window (in %) any one of their threads spent ready but waiting.
 */
export async function startRunQueueWait(
  source: PidSource,
): Promise<() => Promise<number | undefined>> {
  const first = new Map<number, Map<number, number>>();
  for (const pid of await source()) first.set(pid, waits(pid));
  const started = performance.now();
  return async () => {
    const wall = (performance.now() - started) / 1000;
    let worst: number | undefined;
    for (const pid of await source()) {
      const before = first.get(pid);
      if (!before) continue;
      for (const [tid, seconds] of waits(pid)) {
        const was = before.get(tid);
        if (was === undefined) continue;
        worst = Math.max(worst ?? 0, (seconds - was) / wall * 100);
      }
    }
    return worst;
  };
}
