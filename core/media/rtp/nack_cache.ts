/**
 * Recently sent packets of one outgoing stream, by sequence number, to answer NACKs: a ring of
 * preallocated slots (one MTU each) indexed by the low bits of the sequence number, so storing
 * a packet copies bytes and allocates nothing.
 *
 * @module
 */

/** Largest packet kept; bigger ones are not cached (UDP over Ethernet stays under it). */
export const NACK_SLOT_BYTES = 1500;

export class NackCache {
  readonly capacity: number;
  readonly #data: Uint8Array;
  readonly #lengths: Uint16Array;
  /** Stored sequence number per slot, -1 when empty. */
  readonly #seqs: Int32Array;
  readonly #times: Float64Array;
  readonly #maxAgeMs: number;

  /** `capacity` is rounded up to a power of two; packets older than `maxAgeMs` are stale. */
  constructor(capacity = 512, maxAgeMs = 1000) {
    let n = 1;
    while (n < capacity) n *= 2;
    this.capacity = n;
    this.#data = new Uint8Array(n * NACK_SLOT_BYTES);
    this.#lengths = new Uint16Array(n);
    this.#seqs = new Int32Array(n).fill(-1);
    this.#times = new Float64Array(n);
    this.#maxAgeMs = maxAgeMs;
  }

  /** Keeps a copy of the outgoing packet (already rewritten) under sequence number `seq`. */
  put(seq: number, packet: Uint8Array, length: number, nowMs: number): void {
    if (length > NACK_SLOT_BYTES) return;
    const slot = seq & (this.capacity - 1);
    this.#data.set(packet.subarray(0, length), slot * NACK_SLOT_BYTES);
    this.#lengths[slot] = length;
    this.#seqs[slot] = seq & 0xffff;
    this.#times[slot] = nowMs;
  }

  /** The packet sent as `seq`, or undefined when it was overwritten, too old or never kept. */
  get(seq: number, nowMs: number): Uint8Array | undefined {
    const slot = seq & (this.capacity - 1);
    if (this.#seqs[slot] !== (seq & 0xffff)) return undefined;
    if (nowMs - this.#times[slot]! > this.#maxAgeMs) return undefined;
    const at = slot * NACK_SLOT_BYTES;
    return this.#data.subarray(at, at + this.#lengths[slot]!);
  }

  clear(): void {
    this.#seqs.fill(-1);
  }
}
