/**
 * The receive model of a light AudioBridge bench participant: 20 ms frame k of the mix plays
 * `delayMs` after frame 0 arrived plus k periods; a frame whose packet is not there by then
 * (missing, or later than that) is concealed, as a jitter buffer that deep would have to.
 *
 * @module
 */

/** Frames played and concealed so far. */
export interface PlayoutCounts {
  /** Frames whose playout time has come. */
  played: number;
  /** Of those, frames that were not there in time. */
  concealed: number;
  /** Frames never received up to the highest one seen (late ones count as received). */
  lost: number;
}

/** Counts in-time and concealed frames of one stream of fixed-length frames. */
export class PlayoutModel {
  readonly #delayMs: number;
  readonly #periodMs: number;
  readonly #frameTicks: number;
  #base: { at: number; ts: number } | undefined;
  readonly #inTime = new Set<number>();
  readonly #seen = new Set<number>();
  #highest = -1;

  /** `frameTicks`: RTP timestamp units per frame (960 for 20 ms of Opus). */
  constructor(options: { delayMs: number; periodMs: number; frameTicks: number }) {
    this.#delayMs = options.delayMs;
    this.#periodMs = options.periodMs;
    this.#frameTicks = options.frameTicks;
  }

  /** A packet with RTP timestamp `ts` arrived at `nowMs`; whether it was in time to play. */
  arrived(ts: number, nowMs: number): boolean {
    const base = this.#base ??= { at: nowMs, ts };
    const k = Math.round(((ts - base.ts) >>> 0) / this.#frameTicks);
    // Before frame 0 (reordered across the start): ignored.
    if (k > 0x7fffffff / this.#frameTicks) return false;
    this.#seen.add(k);
    this.#highest = Math.max(this.#highest, k);
    if (nowMs > base.at + this.#delayMs + k * this.#periodMs || this.#inTime.has(k)) return false;
    this.#inTime.add(k);
    return true;
  }

  counts(nowMs: number): PlayoutCounts {
    const base = this.#base;
    if (!base) return { played: 0, concealed: 0, lost: 0 };
    const played = Math.max(0, Math.floor((nowMs - base.at - this.#delayMs) / this.#periodMs) + 1);
    let heard = 0;
    for (const k of this.#inTime) if (k < played) heard++;
    return { played, concealed: played - heard, lost: this.#highest + 1 - this.#seen.size };
  }
}
