/**
 * Runs the TextRoom fan-out phase (`inside.ts`) in a fresh private network namespace
 * (`../netns_phase.ts`), relays its progress and returns its result; past a deadline it is
 * stopped (SIGTERM, then SIGKILL) and a private reference it left behind is stopped by pid.
 *
 * @module
 */
import { runNetnsPhase } from "../netns_phase.ts";
import {
  TEXTROOM_REFERENCE_PREFIX,
  TEXTROOM_RESULT_PREFIX,
  type TextRoomBenchOptions,
  type TextRoomBenchResult,
} from "./protocol.ts";

/** A generous upper bound of the phase's duration, in ms. */
export function textRoomDeadlineMs(options: TextRoomBenchOptions): number {
  const servers = options.noRef ? 1 : 2;
  return 90_000 + servers * (60_000 + options.rounds * (options.seconds + 15) * 1000);
}

/** Runs `inside.ts` in a namespace; resolves its result, or why there is none. */
export function runTextRoomBench(
  options: TextRoomBenchOptions,
): Promise<TextRoomBenchResult | { failed: string }> {
  const deadline = textRoomDeadlineMs(options);
  return runNetnsPhase<TextRoomBenchResult>({
    inside: new URL("./inside.ts", import.meta.url),
    options,
    name: "textroom",
    resultPrefix: TEXTROOM_RESULT_PREFIX,
    referencePrefix: TEXTROOM_REFERENCE_PREFIX,
    deadlineMs: deadline,
    timeoutNote: `  textroom phase still running after ${deadline / 1000} s: stopping it`,
  });
}
