/** The media benches' rounds: each step keeps the run with its median CPU (fan-out's here). */
import assert from "node:assert/strict";
import type { FanoutResult, FanoutStep } from "../../bench/videoroom/fanout.ts";
import { medianRuns } from "../../bench/media/median_runs.ts";

function step(subscribers: number, cpu: number | undefined, fpsMean: number): FanoutStep {
  return {
    subscribers,
    up: subscribers,
    webrtcupP50Ms: 100,
    webrtcupMaxMs: 120,
    serverCpuPercent: cpu === undefined ? undefined : cpu * subscribers,
    mainCpuPercent: 1,
    byProcess: "",
    cpuPercentPerSubscriber: cpu,
    marginalCpuPercentPerSubscriber: undefined,
    fps: [],
    fpsMean,
    fpsMin: fpsMean,
    received: [],
    kbpsMean: undefined,
    ppsMean: undefined,
    atSize: subscribers,
    sizes: "",
    publisherSent: undefined,
    clientCpuPercent: undefined,
    errors: 0,
    firstError: undefined,
  };
}

function run(baseline: number, steps: FanoutStep[], errors = 0): FanoutResult {
  return {
    baselineCpuPercent: baseline,
    baselineByProcess: `b${baseline}`,
    baselineSent: undefined,
    steps,
    errors,
    firstError: errors > 0 ? `e${baseline}` : undefined,
  };
}

Deno.test("fan-out rounds: each step is its median run, with every round's figure", () => {
  const fold = (runs: FanoutResult[]) =>
    medianRuns(runs, (s) => s.subscribers, (s) => s.cpuPercentPerSubscriber);
  const folded = fold([
    run(4, [step(1, 6.0, 29), step(2, 3.0, 28)]),
    run(9, [step(1, 5.0, 30), step(2, undefined, 0)], 2),
    run(5, [step(1, 9.0, 27), step(2, 3.4, 30)]),
  ]);
  assert.ok(folded);
  assert.equal(folded.baselineCpuPercent, 5);
  assert.equal(folded.baselineByProcess, "b5");
  assert.deepEqual(folded.steps.map((s) => s.cpuPercentPerSubscriber), [6.0, 3.0]);
  // The picked run's other figures come with it.
  assert.deepEqual(folded.steps.map((s) => s.fpsMean), [29, 28]);
  assert.deepEqual(folded.steps.map((s) => s.roundCpuPercent), [[6, 5, 9], [3, 3.4]]);
  assert.equal(folded.errors, 2);
  assert.equal(folded.firstError, "e9");
  assert.equal(fold([]), undefined);
});
