/**
 * Settings and results of the Streaming phase, as passed between the bench and its child
 * inside the network namespace (`inside.ts`).
 *
 * @module
 */
import type { ViewersResult } from "./viewers.ts";

/** Settings of the Streaming phase. */
export interface StreamingBenchOptions {
  /** Viewers per ramp step. */
  viewers: number[];
  /** Seconds of each measured window, and between a step's setup and its window. */
  seconds: number;
  settle: number;
  /** Ramps per server, alternating ours/reference; each step keeps its median run. */
  rounds: number;
  /** The feed's video (30 fps) and its bitrate in kbit/s. */
  width: number;
  height: number;
  kbps: number;
  /** Our media worker processes. */
  workers: number;
  noRef: boolean;
  /** Per-request and per-wait timeout, in ms. */
  timeoutMs: number;
}

/** Everything the child measured. */
export interface StreamingBenchResult {
  ours: ViewersResult & { pid: number; workerPids: number[] };
  reference: (ViewersResult & { pid: number; version: string }) | undefined;
  referenceStatus: string;
  /** Live counts of our gateway after the phase (sessions, handles and peers should be 0). */
  countsAfter: Record<string, number> | undefined;
  video: { width: number; height: number; kbps: number };
  notes: string[];
  seconds: number;
}

/** Prefix of the child's result line. */
export const STREAMING_RESULT_PREFIX = "BENCH_STREAMING_RESULT ";
