/**
 * At most one keyframe request (PLI/FIR) per publisher stream per interval (1 s by default,
 * as Janus and mediasoup's KeyFrameRequestManager): subscribers joining at once cost the
 * publisher one keyframe. A request inside the interval is kept and comes due when the
 * interval ends, unless a keyframe arrived meanwhile, so no subscriber waits forever.
 *
 * @module
 */

export class KeyframeLimiter {
  readonly intervalMs: number;
  #lastSentMs = -Infinity;
  #pending = false;

  constructor(intervalMs = 1000) {
    this.intervalMs = intervalMs;
  }

  /** A keyframe is wanted now: true when the caller should send the request. */
  request(nowMs: number): boolean {
    if (nowMs - this.#lastSentMs >= this.intervalMs) {
      this.#lastSentMs = nowMs;
      this.#pending = false;
      return true;
    }
    this.#pending = true;
    return false;
  }

  /** Poll from a timer: true when a held-back request is due now (and counts as sent). */
  due(nowMs: number): boolean {
    if (!this.#pending || nowMs - this.#lastSentMs < this.intervalMs) return false;
    this.#pending = false;
    this.#lastSentMs = nowMs;
    return true;
  }

  /** A keyframe arrived: a held-back request is answered. */
  keyframeReceived(): void {
    this.#pending = false;
  }

  get pending(): boolean {
    return this.#pending;
  }
}
