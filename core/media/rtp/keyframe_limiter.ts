/**
 * At most one keyframe request (PLI/FIR) per publisher stream per interval (1 s by default,
 * as Janus and mediasoup's KeyFrameRequestManager): subscribers joining at once cost the
 * publisher one keyframe. A request inside the interval is kept and comes due when the
 * interval ends, unless a keyframe arrived meanwhile, so no subscriber waits forever.
 *
 * Once the last request was answered (a waiting line started on the keyframe that followed),
 * a new one may go after `minGapMs` (400 ms) instead of the whole interval: a subscriber
 * resuming or switching right after another line started would otherwise wait up to a second
 * for its first frame. Requests still coalesce while one is unanswered, and a flood of them
 * costs the publisher at most one keyframe per `minGapMs`. The gap stays well above the
 * 300 ms within which libwebrtc senders ignore a second request (`kMinKeyframeSendIntervalMs`):
 * an ignored request would leave the line waiting for the next one.
 *
 * @module
 */

export class KeyframeLimiter {
  readonly intervalMs: number;
  readonly minGapMs: number;
  #lastSentMs = -Infinity;
  #pending = false;
  /** A keyframe arrived since the last request was sent. */
  #answered = false;

  constructor(intervalMs = 1000, minGapMs = Math.min(400, intervalMs)) {
    this.intervalMs = intervalMs;
    this.minGapMs = minGapMs;
  }

  /** A keyframe is wanted now: true when the caller should send the request. */
  request(nowMs: number): boolean {
    if (this.#allowed(nowMs)) {
      this.#sent(nowMs);
      return true;
    }
    this.#pending = true;
    return false;
  }

  /** Poll from a timer: true when a held-back request is due now (and counts as sent). */
  due(nowMs: number): boolean {
    if (!this.#pending || !this.#allowed(nowMs)) return false;
    this.#sent(nowMs);
    return true;
  }

  /** A keyframe arrived: a held-back request is answered. */
  keyframeReceived(): void {
    this.#pending = false;
    this.#answered = true;
  }

  get pending(): boolean {
    return this.#pending;
  }

  #allowed(nowMs: number): boolean {
    const since = nowMs - this.#lastSentMs;
    return since >= this.intervalMs || (this.#answered && since >= this.minGapMs);
  }

  #sent(nowMs: number): void {
    this.#lastSentMs = nowMs;
    this.#pending = false;
    this.#answered = false;
  }
}
