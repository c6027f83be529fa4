/**
 * One bounded event queue per session. Its owner drains it: a WebSocket sets a
 * sink and gets every event pushed as it comes; HTTP long polls `receive()`.
 *
 * @module
 */
import type { JsonObject } from "./protocol.ts";

interface Waiter {
  max: number;
  resolve(events: JsonObject[]): void;
}

/** A FIFO of events with a size limit (the oldest are dropped first). */
export class EventQueue {
  #items: JsonObject[] = [];
  #waiters: Waiter[] = [];
  #sink: ((event: JsonObject) => void) | undefined;
  #limit: number;
  #closed = false;
  #dropped = 0;

  constructor(options: { limit: number }) {
    this.#limit = options.limit;
  }

  /** Events waiting for a poll. */
  get size(): number {
    return this.#items.length;
  }

  /** Events dropped because the queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Pending long polls. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Delivers to the sink, wakes the pollers, or keeps the event for the next poll. */
  push(event: JsonObject): void {
    if (this.#closed) return;
    if (this.#sink) {
      this.#sink(event);
      return;
    }
    this.#items.push(event);
    if (this.#items.length > this.#limit) {
      this.#items.shift();
      this.#dropped++;
    }
    this.#wake();
  }

  /** Routes every event to `sink` from now on (flushing what is queued); `undefined` queues again. */
  setSink(sink: ((event: JsonObject) => void) | undefined): void {
    this.#sink = sink;
    if (!sink) return;
    const queued = this.#items;
    this.#items = [];
    for (const event of queued) sink(event);
  }

  /** Takes up to `max` queued events without waiting. */
  take(max: number): JsonObject[] {
    return this.#items.length > 0 ? this.#items.splice(0, max) : [];
  }

  /**
   * Takes up to `max` events, waiting for the first one until `signal` aborts.
   * Resolves `[]` when aborted. When an event arrives for several pollers, the
   * earliest gets it and the others get `[]` (the reference answers them a keepalive).
   */
  receive(options: { max: number; signal: AbortSignal }): Promise<JsonObject[]> {
    const { max, signal } = options;
    if (this.#items.length > 0) return Promise.resolve(this.#items.splice(0, max));
    if (this.#closed || signal.aborted) return Promise.resolve([]);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        max,
        resolve: (events) => {
          signal.removeEventListener("abort", onAbort);
          resolve(events);
        },
      };
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        waiter.resolve([]);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    const [first, ...rest] = waiters;
    first?.resolve(this.#items.splice(0, first.max));
    for (const w of rest) w.resolve([]);
  }

  /** Drops what is queued; pending polls stay until their own timeout (as the reference). */
  close(): void {
    this.#closed = true;
    this.#items = [];
    this.#sink = undefined;
  }
}
