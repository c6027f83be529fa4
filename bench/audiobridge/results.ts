/**
 * Settings and results of the AudioBridge phase, as passed between the bench and its child
 * inside the network namespace (`inside.ts`).
 *
 * @module
 */
import type { RoomResult } from "./ramp.ts";

/** Settings of the AudioBridge phase. */
export interface AudioBridgeBenchOptions {
  /** Participants in the room per ramp step. */
  participants: number[];
  /** Seconds of each measured window. */
  seconds: number;
  /** Seconds between everyone's webrtcup and the window. */
  settle: number;
  /** The room's `sampling_rate`. */
  rate: number;
  /** Client processes the participants are spread over. */
  hosts: number;
  /** What the participants are (`ndc_participant.ts` or `participant.ts`). */
  clients: "ndc" | "wrtc";
  /** Our media worker processes. */
  workers: number;
  noRef: boolean;
  /** Per-request and per-wait timeout, in ms. */
  timeoutMs: number;
}

/** Everything the child measured. */
export interface AudioBridgeBenchResult {
  ours: RoomResult & { pid: number; workerPids: number[] };
  reference: (RoomResult & { pid: number; version: string }) | undefined;
  referenceStatus: string;
  /** Live counts of our gateway after the phase (sessions, handles and peers should be 0). */
  countsAfter: Record<string, number> | undefined;
  rate: number;
  hosts: number;
  clients: "ndc" | "wrtc";
  notes: string[];
  seconds: number;
}

/** Prefix of the child's result line. */
export const AUDIOBRIDGE_RESULT_PREFIX = "BENCH_AUDIOBRIDGE_RESULT ";
