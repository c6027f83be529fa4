/**
 * Settings and results of the media phases (`echo`, `videoroom`), as passed between the bench
 * and its child inside the network namespace (`inside.ts`).
 *
 * @module
 */
import type { FanoutResult } from "../videoroom/fanout.ts";
import type { JoinResult } from "../videoroom/join.ts";
import type { EchoStep } from "./echo.ts";

/** Settings of the media phases. */
export interface MediaBenchOptions {
  echo: boolean;
  videoroom: boolean;
  /** Size of the video the EchoTest callers and the VideoRoom publisher send (30 fps). */
  width: number;
  height: number;
  /** Concurrent EchoTest calls per ramp step. */
  echoCalls: number[];
  /** Seconds of each measured window. */
  echoSeconds: number;
  /** Participants of the VideoRoom join storm, and how many join at once. */
  vrParticipants: number;
  vrConcurrency: number;
  /** Join storms per server (alternating ours / reference); the fastest is kept. */
  vrRounds: number;
  /** Participants of a second, larger storm (0 = none); it runs `vrLargeRounds` times. */
  vrLargeParticipants: number;
  vrLargeRounds: number;
  /** Unmeasured storms per server first (JIT and caches warm, as in the load phases). */
  vrWarmup: number;
  /** Whether the join storm's room has `notify_joining` (the others hear every join). */
  vrNotifyJoining: boolean;
  /** Subscribers per fan-out step. */
  vrSubscribers: number[];
  vrSeconds: number;
  /** Fan-out runs per server, alternating; each step keeps its median. */
  vrFanoutRounds: number;
  /** Seconds between setup and a measured window. */
  settle: number;
  /** Our media worker processes. */
  workers: number;
  noRef: boolean;
  /** Per-request and per-wait timeout, in ms. */
  timeoutMs: number;
}

/** One server's figures. */
export interface MediaServerResults {
  echo: EchoStep[];
  join?: JoinResult;
  /** The same storm with everyone connected and attached first: the `join` requests alone. */
  joinOnly?: JoinResult;
  /** The same storm with `vrLargeParticipants`, where the room's size starts to count. */
  joinLarge?: JoinResult;
  fanout?: FanoutResult;
}

/** Everything the child measured. */
export interface MediaBenchResult {
  ours: MediaServerResults & {
    pid: number;
    workerPids: number[];
    /** Live counts after every phase (all should be 0). */
    countsAfter: Record<string, number> | undefined;
  };
  reference: (MediaServerResults & { pid: number; version: string }) | undefined;
  referenceStatus: string;
  /** The video the EchoTest callers and the VideoRoom publisher sent. */
  video: { width: number; height: number };
  notes: string[];
  seconds: number;
}

/** Prefix of the child's result line. */
export const RESULT_PREFIX = "BENCH_MEDIA_RESULT ";
/** Prefix of the line naming the private reference (for cleanup should the child die). */
export const REFERENCE_PREFIX = "BENCH_MEDIA_REFERENCE ";
