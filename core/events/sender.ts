/**
 * What the HTTP and WebSocket handlers share (sampleevh's loop): `receive` only queues; one
 * asynchronous loop takes up to `max_nev` events, sends them as one JSON text, and on failure
 * retries after `retransmissions_backoff` ms, doubled each time, `max_retransmissions` times
 * before dropping them. The queue is bounded: past `max_queue` the oldest event is dropped.
 *
 * @module
 */
import { createLogger } from "../log.ts";
import type { JsonObject } from "../protocol.ts";
import type { EventHandlerConfig } from "./config.ts";
import { BoundedQueue } from "./queue.ts";
import { type EventHandler, type GatewayEvent, parseEventMask } from "./types.ts";
import { abortableSleep } from "../abortable_sleep.ts";

const log = createLogger("events");

/** Error codes of `query_eventhandler` responses (janus_sampleevh.c). */
export const EVH_ERROR = { invalidRequest: 411, missingElement: 412, invalidElement: 413 } as const;

/** Counters a handler reports through `query_eventhandler` `{"request": "stats"}`. */
export interface SenderStats extends JsonObject {
  queued: number;
  sent: number;
  /** Dropped because the queue was full (oldest first). */
  dropped: number;
  /** Dropped after every retry failed. */
  lost: number;
  failures: number;
  retransmissions: number;
}

/** A tweakable setting: its type, its check and how to apply it. */
interface Tweak {
  kind: "string" | "boolean" | "positive";
  check?: (value: unknown) => string | undefined;
  apply: (value: unknown) => void;
}

/** The loop and queue of an event handler; subclasses only deliver one text. */
export abstract class QueuedSender implements EventHandler {
  readonly name: string;
  mask: number;
  protected readonly config: EventHandlerConfig;
  readonly #queue: BoundedQueue<GatewayEvent>;
  readonly #stats = { sent: 0, lost: 0, failures: 0, retransmissions: 0 };
  #wake: (() => void) | undefined;
  #closing = false;
  #stopped = new AbortController();
  #loop: Promise<void>;
  #lastDropWarning = 0;

  constructor(name: string, config: EventHandlerConfig) {
    this.name = name;
    this.config = { ...config };
    this.mask = parseEventMask(config.events);
    this.#queue = new BoundedQueue(config.max_queue);
    this.#loop = this.#run();
  }

  /** Sends one JSON text; resolves false (or throws) when it did not get through. */
  protected abstract deliver(text: string, signal: AbortSignal): Promise<boolean>;

  /** Checks a new backend URL for this kind (undefined when fine). */
  protected abstract checkBackend(url: string): string | undefined;

  /** Releases the connection, if any. */
  protected abstract release(): void;

  abstract describe(): JsonObject;

  receive(event: GatewayEvent): void {
    if (this.#closing) return;
    if (this.#queue.push(event)) this.#warnDrop();
    this.#wake?.();
  }

  stats(): SenderStats {
    return { queued: this.#queue.length, dropped: this.#queue.dropped, ...this.#stats };
  }

  #warnDrop(): void {
    const now = Date.now();
    // Once per 10 s at most: a dead backend would otherwise flood the log too.
    if (now - this.#lastDropWarning < 10_000) return;
    this.#lastDropWarning = now;
    log.warn(
      `${this.name}: ${this.#queue.max} events queued (max_queue), dropping the oldest ` +
        `(${this.#queue.dropped} so far); is ${this.config.backend} down or slow?`,
    );
  }

  async #run(): Promise<void> {
    const signal = this.#stopped.signal;
    while (!signal.aborted) {
      if (this.#queue.length === 0) {
        if (this.#closing) return;
        await new Promise<void>((resolve) => this.#wake = resolve);
        this.#wake = undefined;
        continue;
      }
      const batch = this.#queue.take(this.config.grouping ? this.config.max_nev : 1);
      const text = JSON.stringify(this.config.grouping ? batch : batch[0]);
      await this.#send(text, batch.length, signal);
    }
  }

  async #send(text: string, count: number, signal: AbortSignal): Promise<void> {
    for (let attempt = 0;; attempt++) {
      let ok = false;
      try {
        ok = await this.deliver(text, signal);
      } catch (e) {
        if (signal.aborted) break;
        log.verbose(`${this.name}: ${(e as Error).message}`);
      }
      if (ok) {
        this.#stats.sent += count;
        return;
      }
      this.#stats.failures++;
      if (signal.aborted) break;
      if (attempt >= this.config.max_retransmissions) break;
      this.#stats.retransmissions++;
      const delay = this.config.retransmissions_backoff * 2 ** attempt;
      await abortableSleep(delay, signal);
    }
    this.#stats.lost += count;
    log.warn(`${this.name}: ${count} events lost (backend ${this.config.backend} failed)`);
  }

  query(request: JsonObject | undefined): JsonObject {
    const fail = (code: number, error: string) => ({ error_code: code, error });
    if (request === undefined || request.request === undefined) {
      return fail(EVH_ERROR.missingElement, "Missing mandatory element (request)");
    }
    if (typeof request.request !== "string") {
      return fail(EVH_ERROR.invalidElement, "Invalid element type (request should be a string)");
    }
    const name = request.request.toLowerCase();
    if (name === "stats") return { result: 200, stats: this.stats() };
    if (name !== "tweak") {
      return fail(EVH_ERROR.invalidRequest, `Unknown request '${request.request}'`);
    }
    const tweaks = this.#tweaks();
    // Everything is checked before anything changes, as the reference.
    for (const [key, tweak] of Object.entries(tweaks)) {
      const value = request[key];
      if (value === undefined) continue;
      const ok = tweak.kind === "string"
        ? typeof value === "string"
        : tweak.kind === "boolean"
        ? typeof value === "boolean"
        : Number.isInteger(value) && (value as number) >= 0;
      if (!ok) {
        const expected = tweak.kind === "string"
          ? "a string"
          : tweak.kind === "boolean"
          ? "a boolean"
          : "a positive integer";
        return fail(
          EVH_ERROR.invalidElement,
          `Invalid element type (${key} should be ${expected})`,
        );
      }
      const problem = tweak.check?.(value);
      if (problem) return fail(EVH_ERROR.invalidElement, problem);
    }
    for (const [key, tweak] of Object.entries(tweaks)) {
      if (request[key] !== undefined) tweak.apply(request[key]);
    }
    return { result: 200 };
  }

  #tweaks(): Record<string, Tweak> {
    const c = this.config;
    return {
      events: { kind: "string", apply: (v) => this.mask = parseEventMask(v as string) },
      grouping: { kind: "boolean", apply: (v) => c.grouping = v as boolean },
      backend: {
        kind: "string",
        check: (v) => this.checkBackend(v as string),
        apply: (v) => {
          c.backend = v as string;
          this.release();
        },
      },
      backend_user: { kind: "string", apply: (v) => c.backend_user = v as string },
      backend_pwd: { kind: "string", apply: (v) => c.backend_pwd = v as string },
      max_retransmissions: { kind: "positive", apply: (v) => c.max_retransmissions = v as number },
      retransmissions_backoff: {
        kind: "positive",
        apply: (v) => c.retransmissions_backoff = Math.max(1, v as number),
      },
    };
  }

  async close(graceMs = this.config.grace_ms): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs));
    await Promise.race([this.#loop, grace]);
    clearTimeout(timer);
    const left = this.#queue.length;
    this.#stopped.abort();
    this.#wake?.();
    await this.#loop;
    this.release();
    if (left > 0) log.warn(`${this.name}: ${left} events not sent before shutdown`);
  }
}
