/**
 * Time as the core reads it, injectable for tests.
 *
 * @module
 */

/** A monotonic clock in milliseconds. */
export interface Clock {
  now(): number;
}

/** The real monotonic clock. */
export const SYSTEM_CLOCK: Clock = { now: () => performance.now() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  #now = 0;
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}
