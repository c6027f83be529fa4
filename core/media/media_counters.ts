/**
 * Media totals of a worker process since it started, by kind: what `/metrics` reports as
 * monotonic counters. A worker keeps them in one object that its peers add to as packets go,
 * so a closed peer's packets stay counted.
 *
 * @module
 */
import type { StreamStats } from "./stream_stats.ts";

/** The counters of one kind (audio or video). */
export interface KindCounters {
  packetsReceived: number;
  bytesReceived: number;
  packetsSent: number;
  bytesSent: number;
  /** Sequence numbers the remote side asked us to resend. */
  nacksReceived: number;
  /** Sequence numbers we asked the remote side to resend. */
  nacksSent: number;
  /** Keyframe requests (PLI, FIR) the remote side sent us. */
  plisReceived: number;
  /** Keyframe requests (PLI) we sent. */
  plisSent: number;
  /** Packets we sent again on a NACK (as RTX when negotiated). */
  rtxSent: number;
}

/** Totals by kind. */
export interface MediaCounters {
  audio: KindCounters;
  video: KindCounters;
}

/** The counter names, in the order `/metrics` lists them. */
export const COUNTER_KEYS: readonly (keyof KindCounters)[] = [
  "packetsReceived",
  "bytesReceived",
  "packetsSent",
  "bytesSent",
  "nacksReceived",
  "nacksSent",
  "plisReceived",
  "plisSent",
  "rtxSent",
];

function emptyKind(): KindCounters {
  return {
    packetsReceived: 0,
    bytesReceived: 0,
    packetsSent: 0,
    bytesSent: 0,
    nacksReceived: 0,
    nacksSent: 0,
    plisReceived: 0,
    plisSent: 0,
    rtxSent: 0,
  };
}

/** All zero. */
export function emptyCounters(): MediaCounters {
  return { audio: emptyKind(), video: emptyKind() };
}

/** Adds `from` into `into` (both kinds); returns `into`. */
export function addCounters(into: MediaCounters, from: MediaCounters): MediaCounters {
  for (const kind of ["audio", "video"] as const) {
    for (const key of COUNTER_KEYS) into[kind][key] += from[kind]?.[key] ?? 0;
  }
  return into;
}

/** A copy (a snapshot sent over RPC, kept after the worker is gone). */
export function copyCounters(c: MediaCounters): MediaCounters {
  return addCounters(emptyCounters(), c);
}

/** A worker's `mediaStats` reply: its totals (engines that keep them) and, when asked, each peer's streams. */
export interface MediaStatsReport {
  totals?: MediaCounters;
  /** Peer id -> its m-lines in the shape of Janus's media `stats` event. */
  peers?: Record<string, StreamStats[]>;
}

/** What an engine (or every engine) reports: totals by engine name, streams by peer id. */
export interface EngineMediaStats {
  totals: Record<string, MediaCounters>;
  peers: Map<string, StreamStats[]>;
}
