/**
 * The bounded queue of a handler: O(1) push and shift, and past its bound the oldest event is
 * dropped (counted), so that a backend that is down or slow costs at most `max` events.
 *
 * @module
 */

/** A FIFO with a bound; `push` drops the oldest item when full and says so. */
export class BoundedQueue<T> {
  readonly max: number;
  #items: (T | undefined)[] = [];
  #head = 0;
  /** Items dropped because the queue was full. */
  dropped = 0;

  constructor(max: number) {
    this.max = max;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds `item`; returns true when the oldest one was dropped to make room. */
  push(item: T): boolean {
    let dropped = false;
    if (this.length >= this.max) {
      this.#items[this.#head++] = undefined;
      this.dropped++;
      dropped = true;
    }
    this.#items.push(item);
    this.#compact();
    return dropped;
  }

  /** Removes and returns up to `n` items, oldest first. */
  take(n: number): T[] {
    const end = Math.min(this.#head + n, this.#items.length);
    const out = this.#items.slice(this.#head, end) as T[];
    this.#head = end;
    this.#compact();
    return out;
  }

  /** Drops the consumed prefix once it dominates, so memory follows the live length. */
  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
