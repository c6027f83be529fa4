/**
 * Janus's RTP switching context (`janus_rtp_header_update` of `rtp.c`, Janus 1.1.2) as its
 * recorder uses it: the packets written get sequence numbers from 1 and timestamps from 0,
 * and after a `reset` (a resumed recording) both go on from the last ones written, the
 * timestamp advanced only by the time since the reset, so a pause leaves no gap in RTP time.
 *
 * @module
 */
import { sequenceNumber, setSequenceNumber, setTimestamp, ssrc, timestamp } from "./header.ts";

/** Rewrites the sequence numbers and timestamps of one stream's packets. */
export class SwitchingContext {
  readonly #video: boolean;
  #lastSsrc = 0;
  #tsReset = false;
  #seqReset = false;
  #baseTs = 0;
  #baseTsPrev = 0;
  #lastTs = 0;
  #baseSeq = 0;
  #baseSeqPrev = 0;
  #lastSeq = 0;
  /** Monotonic ms of the last packet (or of the reset); 0 before the first. */
  #lastTime = 0;

  constructor(video: boolean) {
    this.#video = video;
  }

  /** The next packet continues from the last one, `nowMs` being where the gap starts. */
  reset(nowMs: number): void {
    this.#tsReset = true;
    this.#seqReset = true;
    this.#lastTime = nowMs;
  }

  /** Rewrites `buf`'s header in place; returns the old sequence number and timestamp. */
  update(buf: Uint8Array, nowMs: number): { seq: number; ts: number } {
    const seq = sequenceNumber(buf);
    const ts = timestamp(buf);
    const source = ssrc(buf);
    if (source !== this.#lastSsrc) {
      this.#lastSsrc = source;
      this.#tsReset = true;
      this.#seqReset = true;
    }
    if (this.#tsReset) {
      this.#tsReset = false;
      this.#baseTsPrev = this.#lastTs;
      this.#baseTs = ts;
      if (this.#lastTime > 0) {
        const pt = buf[1]! & 0x7f;
        const khz = this.#video ? 90 : pt === 0 || pt === 8 || pt === 9 ? 8 : 48;
        const diff = Math.max(1, Math.floor((nowMs - this.#lastTime) * khz));
        this.#baseTsPrev = (this.#baseTsPrev + diff) >>> 0;
        this.#lastTs = (this.#lastTs + diff) >>> 0;
      }
    }
    if (this.#seqReset) {
      this.#seqReset = false;
      this.#baseSeqPrev = this.#lastSeq;
      this.#baseSeq = seq;
    }
    this.#lastTs = (ts - this.#baseTs + this.#baseTsPrev) >>> 0;
    this.#lastSeq = (seq - this.#baseSeq + this.#baseSeqPrev + 1) & 0xffff;
    setTimestamp(buf, this.#lastTs);
    setSequenceNumber(buf, this.#lastSeq);
    this.#lastTime = nowMs;
    return { seq, ts };
  }
}
