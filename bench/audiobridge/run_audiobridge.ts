/**
 * Runs the AudioBridge phase in a child inside a fresh private network namespace
 * (`../netns_phase.ts`, as for the media phases): relays its progress, returns its result,
 * and bounds it in time (SIGTERM, then SIGKILL; a private reference it left behind is
 * stopped).
 *
 * @module
 */
import { REFERENCE_PREFIX } from "../media/results.ts";
import { runNetnsPhase } from "../netns_phase.ts";
import {
  AUDIOBRIDGE_RESULT_PREFIX,
  type AudioBridgeBenchOptions,
  type AudioBridgeBenchResult,
} from "./results.ts";

/** A generous upper bound of the phase's duration, in ms. */
export function audioBridgeDeadlineMs(options: AudioBridgeBenchOptions): number {
  const servers = options.noRef ? 1 : 2;
  const joins = options.participants.reduce((a, b) => a + b, 0);
  const perStep = (options.seconds + options.settle + 20) * 1000;
  return 90_000 + servers * (options.participants.length * perStep + joins * 2000);
}

/** Runs `inside.ts` in a namespace; resolves its result, or why there is none. */
export function runAudioBridgeBench(
  options: AudioBridgeBenchOptions,
): Promise<AudioBridgeBenchResult | { failed: string }> {
  const deadline = audioBridgeDeadlineMs(options);
  return runNetnsPhase<AudioBridgeBenchResult>({
    inside: new URL("./inside.ts", import.meta.url),
    options,
    name: "audiobridge",
    resultPrefix: AUDIOBRIDGE_RESULT_PREFIX,
    referencePrefix: REFERENCE_PREFIX,
    deadlineMs: deadline,
    timeoutNote: `  audiobridge phase still running after ${deadline / 1000} s: stopping it`,
  });
}
