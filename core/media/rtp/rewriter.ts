/**
 * Per-subscriber stream rewriter (Janus's `janus_rtp_header_update`, mediasoup's `SeqManager`):
 * gives a forwarded stream our SSRC and keeps its sequence numbers and timestamps continuous
 * when the source changes (switch to another publisher, pause/resume, the publisher's
 * renegotiation with a new SSRC and new random bases).
 *
 * Each source run is an "epoch": its offsets map the first packet to the sequence number after
 * the highest one sent and to a timestamp advanced by the wall time since the last packet.
 * Sequence numbers only move forward across epochs (the SRTP replay window is 1024 packets):
 * a packet that would map at or before the epoch start, or too far behind the highest one
 * sent, is dropped, and so is a late packet of the source we switched away from.
 *
 * @module
 */
import {
  seqDelta,
  sequenceNumber,
  setSequenceNumber,
  setSsrc,
  setTimestamp,
  ssrc,
  timestamp,
} from "./header.ts";

/** Oldest a reordered packet may be, behind the highest sent; under SRTP's 1024 window. */
export const MAX_BEHIND = 1000;

export interface RewriterOptions {
  /** The SSRC the subscriber sees. */
  ssrc: number;
  /** RTP clock rate of the stream (90000 for video, 48000 for Opus). */
  clockRate: number;
  /** First outgoing sequence number; random by default (RFC 3550). */
  initialSeq?: number;
  /** First outgoing timestamp; random by default. */
  initialTimestamp?: number;
}

export class StreamRewriter {
  readonly ssrc: number;
  /** Packets dropped as late or out of their epoch. */
  dropped = 0;
  readonly #clockRate: number;
  #started = false;
  #resync = true;
  #inSsrc = -1;
  #prevInSsrc = -1;
  #seqOffset = 0;
  #tsOffset = 0;
  #highestSeq: number;
  #lastTs: number;
  #lastMs = 0;
  /** Lowest sequence number still accepted: the epoch start or highest - MAX_BEHIND. */
  #floor = 0;

  constructor(options: RewriterOptions) {
    this.ssrc = options.ssrc >>> 0;
    this.#clockRate = options.clockRate;
    this.#highestSeq = ((options.initialSeq ?? randomU32()) - 1) & 0xffff;
    this.#lastTs = (options.initialTimestamp ?? randomU32()) >>> 0;
  }

  /**
   * The next packet starts a new epoch: call on resume or when the caller switches sources
   * (a switch back to an earlier source is then accepted). A new input SSRC alone also starts
   * one, and from then on packets of the previous SSRC are taken as late and dropped.
   */
  resync(): void {
    this.#resync = true;
    this.#prevInSsrc = -1;
  }

  /**
   * The next input sequence number was dropped on purpose (a temporal layer not relayed): the
   * packets after it map one lower, so the subscriber sees no gap.
   */
  skip(): void {
    if (!this.#resync) this.#seqOffset = (this.#seqOffset - 1) & 0xffff;
  }

  /** Highest outgoing sequence number so far (for SR and NACK mapping). */
  get highestSeq(): number {
    return this.#highestSeq;
  }

  /** Timestamp of the packet with the highest outgoing sequence number. */
  get lastTimestamp(): number {
    return this.#lastTs;
  }

  /**
   * Rewrites SSRC, sequence number and timestamp of the RTP packet in `buf` in place.
   * Returns false when the packet must be dropped. `nowMs` is any monotonic clock in ms.
   */
  rewrite(buf: Uint8Array, nowMs: number): boolean {
    const inSsrc = ssrc(buf);
    if (inSsrc !== this.#inSsrc) {
      if (inSsrc === this.#prevInSsrc) return this.#drop();
      this.#prevInSsrc = this.#inSsrc;
      this.#inSsrc = inSsrc;
      this.#resync = true;
    }
    const inSeq = sequenceNumber(buf);
    const inTs = timestamp(buf);
    if (this.#resync) this.#startEpoch(inSeq, inTs, nowMs);
    const outSeq = (inSeq + this.#seqOffset) & 0xffff;
    if (seqDelta(outSeq, this.#floor) < 0) return this.#drop();
    const outTs = (inTs + this.#tsOffset) >>> 0;
    if (seqDelta(outSeq, this.#highestSeq) > 0) {
      this.#highestSeq = outSeq;
      this.#lastTs = outTs;
      this.#lastMs = nowMs;
      const oldest = (outSeq - MAX_BEHIND) & 0xffff;
      if (seqDelta(oldest, this.#floor) > 0) this.#floor = oldest;
    }
    this.#started = true;
    setSsrc(buf, this.ssrc);
    setSequenceNumber(buf, outSeq);
    setTimestamp(buf, outTs);
    return true;
  }

  #startEpoch(inSeq: number, inTs: number, nowMs: number): void {
    const outSeq = (this.#highestSeq + 1) & 0xffff;
    // The new source's first frame comes after the old one's last, by the time in between.
    const gap = this.#started
      ? Math.max(1, Math.round(((nowMs - this.#lastMs) * this.#clockRate) / 1000))
      : 0;
    const outTs = (this.#lastTs + gap) >>> 0;
    this.#seqOffset = (outSeq - inSeq) & 0xffff;
    this.#tsOffset = (outTs - inTs) >>> 0;
    this.#floor = outSeq;
    this.#resync = false;
  }

  #drop(): false {
    this.dropped++;
    return false;
  }
}

function randomU32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}
