/**
 * Runs the browser phase (`inside.ts`) in a child inside a fresh private network namespace
 * (`../netns_phase.ts`), relays its progress and returns its result; past a deadline the
 * child is stopped (SIGTERM, then SIGKILL).
 *
 * @module
 */
import { runNetnsPhase } from "../netns_phase.ts";
import {
  BROWSER_RESULT_PREFIX,
  type BrowserBenchOptions,
  type BrowserBenchResult,
} from "./results.ts";

/** Runs `inside.ts` in a namespace; resolves its result, or why there is none. */
export function runBrowserBench(
  options: BrowserBenchOptions,
): Promise<BrowserBenchResult | { failed: string }> {
  return runNetnsPhase<BrowserBenchResult>({
    inside: new URL("./inside.ts", import.meta.url),
    options,
    name: "browser",
    resultPrefix: BROWSER_RESULT_PREFIX,
    deadlineMs: 120_000 + options.rounds * 20_000,
    stderrInFailure: true,
  });
}
