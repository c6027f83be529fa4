/**
 * Runs the media phases in a child inside a fresh private network namespace
 * (`../netns_phase.ts`), so media only ever goes to loopback-range addresses. Relays its
 * progress, returns its result, and bounds it in time: past the deadline it is stopped
 * (SIGTERM, then SIGKILL), and a private reference it started is stopped by pid and its run
 * directory removed.
 *
 * @module
 */
import { runNetnsPhase } from "../netns_phase.ts";
import {
  type MediaBenchOptions,
  type MediaBenchResult,
  REFERENCE_PREFIX,
  RESULT_PREFIX,
} from "./results.ts";

/** A generous upper bound of the media phases' duration, in ms. */
export function mediaDeadlineMs(options: MediaBenchOptions): number {
  const perWindow = (seconds: number) => (seconds + options.settle + 15) * 1000;
  const servers = options.noRef ? 1 : 2;
  let ms = 90_000;
  if (options.echo) ms += servers * options.echoCalls.length * perWindow(options.echoSeconds);
  if (options.videoroom) {
    ms += servers * (options.vrRounds + options.vrLargeRounds + 2 * options.vrWarmup) * 60_000;
    ms += servers * (options.vrSubscribers.length + 1) * perWindow(options.vrSeconds);
  }
  return ms;
}

/** Runs `inside.ts` in a namespace; resolves its result, or why there is none. */
export function runMediaBench(
  options: MediaBenchOptions,
): Promise<MediaBenchResult | { failed: string }> {
  const deadline = mediaDeadlineMs(options);
  return runNetnsPhase<MediaBenchResult>({
    inside: new URL("./inside.ts", import.meta.url),
    options,
    name: "media",
    resultPrefix: RESULT_PREFIX,
    referencePrefix: REFERENCE_PREFIX,
    deadlineMs: deadline,
    timeoutNote: `  media phases still running after ${deadline / 1000} s: stopping them`,
  });
}
