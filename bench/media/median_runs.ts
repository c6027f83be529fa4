/**
 * Several runs of one server's ramp folded into one: each step is the run whose CPU figure is
 * the median of that step's runs (a single window at the smallest steps moves by a third with
 * whatever else the machine does), with every run's figure kept to show the spread; the
 * baseline (the server fed, nobody served) is its median run's.
 *
 * @module
 */

/** A ramp run: a baseline window, then one step per size. */
export interface RampRun<S> {
  baselineCpuPercent: number | undefined;
  steps: S[];
  errors: number;
  firstError: string | undefined;
}

/** A step with every run's CPU figure for it. */
export interface RoundsStep {
  roundCpuPercent?: number[];
}

/**
 * The median pick of each step (sized by `size`, measured by `cpu`) over `runs` of one
 * server; undefined without runs.
 */
export function medianRuns<R extends RampRun<RoundsStep>>(
  runs: readonly R[],
  size: (step: R["steps"][number]) => number,
  cpu: (step: R["steps"][number]) => number | undefined,
): R | undefined {
  const first = runs[0];
  if (first === undefined) return undefined;
  const baseline = medianBy(runs, (r) => r.baselineCpuPercent) ?? first;
  type S = R["steps"][number];
  const sizes = [...new Set(runs.flatMap((r) => r.steps.map((s: S) => size(s))))];
  const steps = sizes.map((n) => {
    const candidates: S[] = runs.flatMap((r) => r.steps.filter((s: S) => size(s) === n));
    const pick = medianBy(candidates, cpu) ?? candidates[0]!;
    const roundCpuPercent = candidates.flatMap((s) => cpu(s) ?? []);
    return { ...pick, roundCpuPercent };
  });
  return {
    ...baseline,
    steps,
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    firstError: runs.find((r) => r.firstError !== undefined)?.firstError,
  };
}

/** The item whose `value` is the median (the lower middle for an even count). */
function medianBy<T>(items: readonly T[], value: (item: T) => number | undefined): T | undefined {
  const measured = items.filter((i) => value(i) !== undefined)
    .toSorted((a, b) => value(a)! - value(b)!);
  return measured[Math.floor((measured.length - 1) / 2)];
}
