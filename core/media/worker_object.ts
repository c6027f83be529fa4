/**
 * The life of an object a media worker holds for the core (a mixer, an RTP source): closed by
 * its owner (the worker is asked to close it) or lost with its worker, and the engine told
 * once either way; only a loss calls the owner back.
 *
 * @module
 */
import type { MediaWorker } from "./media_worker.ts";

/** How a worker object tells the engine and its owner. */
export interface WorkerObjectHooks<T> {
  /** The engine forgets the object (closed by us or lost with its worker). */
  onGone: (object: T) => void;
  /** The owner's callback when the object is lost. */
  onClosed?: () => void;
}

/** A worker object; `T` is the subclass, handed to `onGone`. */
export abstract class WorkerObject<T> {
  readonly worker: MediaWorker;
  #closed = false;
  readonly #onGone: (object: T) => void;
  readonly #onClosed: (() => void) | undefined;

  constructor(worker: MediaWorker, hooks: WorkerObjectHooks<T>) {
    this.worker = worker;
    this.#onGone = hooks.onGone;
    this.#onClosed = hooks.onClosed;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The object as its subclass (what `onGone` gets). */
  protected abstract self(): T;

  /** Closes it once: the engine forgets it, then `request` asks the worker to close it. */
  protected async closeWith(request: () => Promise<unknown>): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onGone(this.self());
    try {
      await request();
    } catch {
      // The worker is gone: so is the object.
    }
  }

  /** The worker died: the object went with it. */
  lost(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onGone(this.self());
    this.#onClosed?.();
  }
}
