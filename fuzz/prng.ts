/**
 * A small seeded PRNG (mulberry32): each fuzz case draws from its own generator,
 * seeded from the run's seed and the case number, so one case replays alone.
 *
 * @module
 */

/** A seeded random source with the helpers the generators need. */
export class Rng {
  #state: number;

  constructor(seed: number, stream = 0) {
    // Mix the case number in so neighbouring cases do not start alike.
    this.#state = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 1, 0xc2b2ae35)) >>>
      0;
    for (let i = 0; i < 4; i++) this.next();
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks by weight: `[[weight, value], ...]`. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((n, [w]) => n + w, 0);
    let r = this.next() * total;
    for (const [w, v] of items) {
      r -= w;
      if (r < 0) return v;
    }
    return items[items.length - 1]![1];
  }

  /** A short string of printable ASCII, unicode, or control characters. */
  string(maxLength = 12): string {
    const n = this.int(0, maxLength);
    const kind = this.int(0, 9);
    let out = "";
    for (let i = 0; i < n; i++) {
      if (kind < 6) out += String.fromCharCode(this.int(0x61, 0x7a));
      else if (kind === 6) out += String.fromCharCode(this.int(0, 0x1f));
      else if (kind === 7) {
        out += this.pick(["\u0000", "\ud800", "\udfff", "é", "😀", "\u202e", "\\", '"']);
      } else if (kind === 8) out += String.fromCharCode(this.int(0x20, 0x7e));
      else out += String.fromCodePoint(this.int(0x80, 0x10ffff) & 0x10ffff);
    }
    return out;
  }
}
