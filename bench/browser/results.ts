/**
 * Settings and results of the bench's browser phase (`--only=browser`), as passed between the
 * bench and its child inside the network namespace (`inside.ts`).
 *
 * @module
 */

/** Settings of the browser phase. */
export interface BrowserBenchOptions {
  /** Rounds of pause/start, switch and start-right-after-a-switch. */
  rounds: number;
  /** Our media worker processes. */
  workers: number;
}

/** The figures measured: ms from a request's ack to the first frame decoded after it. */
export interface BrowserBenchResult {
  /** Join as subscriber (ack of `join` to the first frame): one per run. */
  joinMs: (number | null)[];
  /** `start` after a `pause` of a second or more. */
  resumeMs: (number | null)[];
  /** `switch` to the other publisher, a second or more after the last change. */
  switchMs: (number | null)[];
  /** `pause` and `start` at once, right after a switch (the publisher's keyframe limiter). */
  resumeAfterSwitchMs: (number | null)[];
  /** What each publisher sent and each page decoded meanwhile (context for the figures). */
  sent: string;
  loadAverage: (number | undefined)[];
}

/** The line prefix of the child's result on stdout. */
export const BROWSER_RESULT_PREFIX = "BROWSER_BENCH_RESULT ";

/** The target: video back within this after switch, pause/start. */
export const VIDEO_BACK_TARGET_MS = 500;
