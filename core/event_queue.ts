/**
 * One event queue per session. Its owner drains it: a WebSocket sets a sink and
 * gets every event pushed as it comes; HTTP long polls `receive()`.
 *
 * The queue keeps every event, in order, up to a bound in bytes (the encoded
 * JSON size of what it holds). It never drops an event from the middle: past the
 * bound it empties itself, refuses further events and calls `onOverflow` once,
 * so that its session ends visibly instead of losing events silently.
 *
 * @module
 */
import type { JsonObject } from "./protocol.ts";

interface Waiter {
  max: number;
  resolve(events: JsonObject[]): void;
}

/** Options of an `EventQueue`. */
export interface EventQueueOptions {
  /** Most bytes (encoded JSON) held at once; one more event past it overflows. */
  maxBytes: number;
  /** Called once, synchronously, when an event would pass `maxBytes`. */
  onOverflow?: (info: { bytes: number; events: number }) => void;
}

/** The bytes an event holds in a queue: its encoded JSON length (a proxy for its heap). */
export function eventBytes(event: JsonObject): number {
  return JSON.stringify(event).length;
}

/** A FIFO of events bounded in bytes; past the bound it overflows as a whole. */
export class EventQueue {
  #items: JsonObject[] = [];
  #sizes: number[] = [];
  #bytes = 0;
  #waiters: Waiter[] = [];
  #sink: ((event: JsonObject) => void) | undefined;
  readonly #maxBytes: number;
  readonly #onOverflow: EventQueueOptions["onOverflow"];
  #closed = false;
  #overflowed = false;

  constructor(options: EventQueueOptions) {
    this.#maxBytes = options.maxBytes;
    this.#onOverflow = options.onOverflow;
  }

  /** Events waiting for a poll. */
  get size(): number {
    return this.#items.length;
  }

  /** Bytes (encoded JSON) of the events waiting for a poll. */
  get bytes(): number {
    return this.#bytes;
  }

  /** True once an event would have passed the bound (the queue then takes nothing more). */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  /** Pending long polls. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /** Delivers to the sink, wakes the pollers, or keeps the event for the next poll. */
  push(event: JsonObject): void {
    if (this.#closed || this.#overflowed) return;
    if (this.#sink) {
      this.#sink(event);
      return;
    }
    const size = eventBytes(event);
    if (this.#bytes + size > this.#maxBytes) {
      this.#overflow(size);
      return;
    }
    this.#items.push(event);
    this.#sizes.push(size);
    this.#bytes += size;
    this.#wake();
  }

  /** Routes every event to `sink` from now on (flushing what is queued); `undefined` queues again. */
  setSink(sink: ((event: JsonObject) => void) | undefined): void {
    this.#sink = sink;
    if (!sink) return;
    const queued = this.#items;
    this.#items = [];
    this.#sizes = [];
    this.#bytes = 0;
    for (const event of queued) sink(event);
  }

  /** Takes up to `max` queued events without waiting. */
  take(max: number): JsonObject[] {
    if (this.#items.length === 0) return [];
    const taken = this.#items.splice(0, max);
    for (const size of this.#sizes.splice(0, taken.length)) this.#bytes -= size;
    return taken;
  }

  /**
   * Takes up to `max` events, waiting for the first one until `signal` aborts.
   * Resolves `[]` when aborted. When an event arrives for several pollers, the
   * earliest gets it and the others get `[]` (the reference answers them a keepalive).
   */
  receive(options: { max: number; signal: AbortSignal }): Promise<JsonObject[]> {
    const { max, signal } = options;
    if (this.#items.length > 0) return Promise.resolve(this.take(max));
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
    if (first) first.resolve(this.take(first.max));
    for (const w of rest) w.resolve([]);
  }

  #overflow(size: number): void {
    const info = { bytes: this.#bytes + size, events: this.#items.length + 1 };
    this.#overflowed = true;
    this.#drop();
    this.#onOverflow?.(info);
  }

  #drop(): void {
    this.#items = [];
    this.#sizes = [];
    this.#bytes = 0;
  }

  /** Drops what is queued; pending polls stay until their own timeout (as the reference). */
  close(): void {
    this.#closed = true;
    this.#drop();
    this.#sink = undefined;
  }
}
