/**
 * Which packets of an incoming stream to NACK (RFC 4585 generic NACK): gaps in the sequence
 * numbers become pending entries, each asked for again every `retryMs` up to `maxTries` times
 * and forgotten when the packet (late, or unwrapped from RTX) arrives. A gap wider than
 * `maxPending` is not worth retransmitting: it is dropped and a keyframe is the remedy.
 *
 * @module
 */
import { seqDelta } from "./header.ts";

export interface NackGeneratorOptions {
  maxPending?: number;
  maxTries?: number;
  retryMs?: number;
}

export class NackGenerator {
  readonly #maxPending: number;
  readonly #maxTries: number;
  readonly #retryMs: number;
  #highest = -1;
  /** Missing sequence number to [tries, last try in ms]. */
  readonly #pending = new Map<number, [number, number]>();

  constructor(options: NackGeneratorOptions = {}) {
    this.#maxPending = options.maxPending ?? 256;
    this.#maxTries = options.maxTries ?? 5;
    this.#retryMs = options.retryMs ?? 40;
  }

  /** Counts an arrival. Returns false when a gap was too wide to recover (ask a keyframe). */
  packet(seq: number): boolean {
    if (this.#highest < 0) {
      this.#highest = seq;
      return true;
    }
    const delta = seqDelta(seq, this.#highest);
    if (delta <= 0) {
      this.#pending.delete(seq);
      return true;
    }
    this.#highest = seq;
    if (delta - 1 > this.#maxPending) {
      this.#pending.clear();
      return false;
    }
    for (let i = 1; i < delta; i++) this.#pending.set((seq - delta + i) & 0xffff, [0, -Infinity]);
    while (this.#pending.size > this.#maxPending) {
      this.#pending.delete(this.#pending.keys().next().value!);
    }
    return true;
  }

  /** Sequence numbers to NACK now (each counted as one try); empty when none is due. */
  due(nowMs: number): number[] {
    const out: number[] = [];
    for (const [seq, entry] of this.#pending) {
      if (entry[0] >= this.#maxTries) {
        this.#pending.delete(seq);
      } else if (nowMs - entry[1] >= this.#retryMs) {
        entry[0]++;
        entry[1] = nowMs;
        out.push(seq);
      }
    }
    return out;
  }

  get pending(): number {
    return this.#pending.size;
  }
}
