/**
 * Runs the Streaming phase in a child inside a fresh private network namespace
 * (`../netns_phase.ts`, as for the media phases): relays its progress, returns its result,
 * and bounds it in time (SIGTERM, then SIGKILL; a private reference it left behind is
 * stopped).
 *
 * @module
 */
import { REFERENCE_PREFIX } from "../media/results.ts";
import { runNetnsPhase } from "../netns_phase.ts";
import {
  STREAMING_RESULT_PREFIX,
  type StreamingBenchOptions,
  type StreamingBenchResult,
} from "./results.ts";

/** A generous upper bound of the phase's duration, in ms. */
export function streamingDeadlineMs(options: StreamingBenchOptions): number {
  const servers = options.noRef ? 1 : 2;
  const perWindow = (options.seconds + options.settle + 20) * 1000;
  return 90_000 + servers * Math.max(1, options.rounds) * (options.viewers.length + 1) * perWindow;
}

/** Runs `inside.ts` in a namespace; resolves its result, or why there is none. */
export function runStreamingBench(
  options: StreamingBenchOptions,
): Promise<StreamingBenchResult | { failed: string }> {
  const deadline = streamingDeadlineMs(options);
  return runNetnsPhase<StreamingBenchResult>({
    inside: new URL("./inside.ts", import.meta.url),
    options,
    name: "streaming",
    resultPrefix: STREAMING_RESULT_PREFIX,
    referencePrefix: REFERENCE_PREFIX,
    deadlineMs: deadline,
    timeoutNote: `  streaming phase still running after ${deadline / 1000} s: stopping it`,
  });
}
