/**
 * Several fan-out runs of one server folded into one: each step is the run whose CPU per
 * subscriber is the median of that step's runs (a single 8 s window at 1–2 subscribers moves
 * by a third with whatever else the machine does), and keeps every run's figure to show the
 * spread.
 *
 * @module
 */
import type { FanoutResult, FanoutStep } from "./fanout.ts";

/** The median-CPU pick of each step over `runs` (of one server), with each run's figure. */
export function medianFanout(runs: readonly FanoutResult[]): FanoutResult | undefined {
  const first = runs[0];
  if (first === undefined) return undefined;
  const baseline = medianBy(runs, (r) => r.baselineCpuPercent) ?? first;
  const counts = [...new Set(runs.flatMap((r) => r.steps.map((s) => s.subscribers)))];
  const steps = counts.map((n) => {
    const candidates = runs.flatMap((r) => r.steps.filter((s) => s.subscribers === n));
    const pick = medianBy(candidates, (s) => s.cpuPercentPerSubscriber) ?? candidates[0]!;
    const roundCpuPercentPerSubscriber = candidates.flatMap((s) =>
      s.cpuPercentPerSubscriber === undefined ? [] : [s.cpuPercentPerSubscriber]
    );
    return { ...pick, roundCpuPercentPerSubscriber } satisfies FanoutStep;
  });
  const errors = runs.reduce((sum, r) => sum + r.errors, 0);
  return {
    baselineCpuPercent: baseline.baselineCpuPercent,
    baselineByProcess: baseline.baselineByProcess,
    baselineSent: baseline.baselineSent,
    steps,
    errors,
    firstError: runs.find((r) => r.firstError !== undefined)?.firstError,
  };
}

/** The item whose `value` is the median (the lower middle for an even count). */
function medianBy<T>(items: readonly T[], value: (item: T) => number | undefined): T | undefined {
  const measured = items.filter((i) => value(i) !== undefined)
    .toSorted((a, b) => value(a)! - value(b)!);
  return measured[Math.floor((measured.length - 1) / 2)];
}
