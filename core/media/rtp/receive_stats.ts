/**
 * Reception statistics of one incoming RTP stream (RFC 3550 appendix A.3 and A.8): extended
 * highest sequence number, cumulative and interval loss, interarrival jitter and the last SR,
 * turned into the report block our RR carries.
 *
 * @module
 */
import { seqDelta } from "./header.ts";
import type { ReportBlock } from "./rtcp.ts";

export class ReceiveStats {
  readonly ssrc: number;
  readonly #clockRate: number;
  received = 0;
  #started = false;
  #baseSeq = 0;
  #maxSeq = 0;
  #cycles = 0;
  #transit = 0;
  #jitter = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #lastSr = 0;
  #lastSrMs = 0;

  constructor(ssrc: number, clockRate: number) {
    this.ssrc = ssrc >>> 0;
    this.#clockRate = clockRate;
  }

  /** Counts a packet (after RTX unwrap) that arrived at `nowMs`. */
  packet(seq: number, timestamp: number, nowMs: number): void {
    if (!this.#started) {
      this.#started = true;
      this.#baseSeq = seq;
      this.#maxSeq = seq;
      this.#transit = (nowMs * this.#clockRate) / 1000 - timestamp;
    }
    this.received++;
    const delta = seqDelta(seq, this.#maxSeq);
    if (delta > 0) {
      if (seq < this.#maxSeq) this.#cycles += 0x10000;
      this.#maxSeq = seq;
    }
    const transit = (nowMs * this.#clockRate) / 1000 - timestamp;
    const d = Math.abs(transit - this.#transit);
    this.#transit = transit;
    // A jump of more than 10 s is a restarted source, not jitter.
    if (d < this.#clockRate * 10) this.#jitter += (d - this.#jitter) / 16;
  }

  /** An SR from this stream's sender arrived: kept for the LSR/DLSR fields. */
  senderReport(ntpSeconds: number, ntpFraction: number, nowMs: number): void {
    this.#lastSr = (((ntpSeconds & 0xffff) << 16) | (ntpFraction >>> 16)) >>> 0;
    this.#lastSrMs = nowMs;
  }

  /** Interarrival jitter, in RTP timestamp units. */
  get jitter(): number {
    return this.#jitter;
  }

  get extendedHighestSeq(): number {
    return (this.#cycles + this.#maxSeq) >>> 0;
  }

  /** The report block for an RR now; the loss fraction covers the time since the last one. */
  report(nowMs: number): ReportBlock | undefined {
    if (!this.#started) return undefined;
    const expected = this.#cycles + this.#maxSeq - this.#baseSeq + 1;
    const lost = expected - this.received;
    const expectedInterval = expected - this.#expectedPrior;
    const lostInterval = expectedInterval - (this.received - this.#receivedPrior);
    this.#expectedPrior = expected;
    this.#receivedPrior = this.received;
    const fraction = expectedInterval > 0 && lostInterval > 0
      ? Math.min(255, Math.floor((lostInterval * 256) / expectedInterval))
      : 0;
    return {
      ssrc: this.ssrc,
      fractionLost: fraction,
      packetsLost: lost,
      highestSeq: this.extendedHighestSeq,
      jitter: Math.floor(this.#jitter) >>> 0,
      lastSr: this.#lastSr,
      delaySinceLastSr: this.#lastSr === 0
        ? 0
        : Math.floor(((nowMs - this.#lastSrMs) * 65536) / 1000) >>> 0,
    };
  }
}
