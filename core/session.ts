/**
 * A Janus session: its handles, its event queue, its owner and its activity clock.
 *
 * @module
 */
import { EventQueue } from "./event_queue.ts";
import type { Handle } from "./handle.ts";
import type { Owner } from "./owner.ts";
import type { JsonObject } from "./protocol.ts";

/** One client session. Created and destroyed only by the `Gateway`. */
export class Session {
  readonly id: number;
  readonly createdAt: number;
  readonly handles: Map<number, Handle> = new Map();
  readonly queue: EventQueue;
  lastActivity: number;
  /** Per-session timeout in seconds (admin `set_session_timeout`); undefined = global. */
  timeoutOverride: number | undefined;
  /** When the owning connection went away (reclaim window), else undefined. */
  orphanedAt: number | undefined;
  #owner: Owner | undefined;
  #closed = false;

  constructor(options: {
    id: number;
    now: number;
    /** Bound of the event queue, in bytes of JSON (`limits.event_queue_bytes`). */
    queueBytes: number;
    owner: Owner;
    /** Called once when the queue passes its bound; the gateway then ends the session. */
    onQueueOverflow?: (session: Session, info: { bytes: number; events: number }) => void;
  }) {
    this.id = options.id;
    this.createdAt = options.now;
    this.lastActivity = options.now;
    const onOverflow = options.onQueueOverflow;
    this.queue = new EventQueue({
      maxBytes: options.queueBytes,
      ...(onOverflow ? { onOverflow: (info) => onOverflow(this, info) } : {}),
    });
    this.setOwner(options.owner);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get owner(): Owner | undefined {
    return this.#owner;
  }

  /** Moves ownership (create, claim); `undefined` while waiting for a reclaim. */
  setOwner(owner: Owner | undefined): void {
    this.#owner?.sessions.delete(this.id);
    this.#owner = owner;
    if (owner) {
      owner.sessions.add(this.id);
      this.orphanedAt = undefined;
      this.queue.setSink(owner.push);
    } else {
      // Events produced while nobody owns the session are lost, as in the reference.
      this.queue.setSink(() => {});
    }
  }

  /** Refreshes the activity clock. */
  touch(now: number): void {
    this.lastActivity = now;
  }

  /** Queues or pushes an event, with `session_id` in Janus's key position. */
  push(event: JsonObject): void {
    this.queue.push(event);
  }

  /** Closes every handle without per-handle events, then the queue. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#owner?.sessions.delete(this.id);
    this.#owner = undefined;
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.allSettled(handles.map((h) => h.sessionClosed()));
    this.queue.close();
  }
}
