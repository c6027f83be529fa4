/**
 * A small typed RPC over a pair of byte streams: newline-delimited JSON both ways.
 * Requests `{id, method, params}` get `{id, result}` or `{id, error}`; events
 * `{event, params}` flow from the server (media worker) to the client (core).
 *
 * @module
 */

/** Method name -> params and result (checked per key, so interfaces qualify). */
export type MethodMap<M> = { [K in keyof M]: { params: unknown; result: unknown } };

/** An event message of an event map, discriminated by name. */
export type EventMessage<E> = { [K in keyof E]: { event: K; params: E[K] } }[keyof E];

/** The handlers a server implements, one per method. */
export type Handlers<M extends MethodMap<M>> = {
  [K in keyof M]: (params: M[K]["params"]) => Promise<M[K]["result"]>;
};

/** Thrown for requests that can no longer be answered (the other side is gone). */
export class RpcClosedError extends Error {
  constructor(message = "RPC channel closed") {
    super(message);
    this.name = "RpcClosedError";
  }
}

/** Thrown for a request whose reply did not come before its deadline. */
export class RpcTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RpcTimeoutError";
  }
}

/** Bytes a byte stream is read into at a time, in one buffer reused by every read. */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * The chunks of `stream`; each is valid until the next is asked for. A byte stream (Deno's
 * pipes: stdin, a child's stdout) is read into one reused buffer: read by default, each read
 * allocates a fresh 64 KiB buffer outside the V8 heap that lives until a full GC, and under a
 * steady trickle of messages (heartbeat pings) glibc's heap kept growing with them.
 */
export async function* readChunks(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = stream.getReader({ mode: "byob" });
  } catch {
    yield* stream; // Not a byte stream.
    return;
  }
  let buffer = new Uint8Array(READ_BUFFER_BYTES);
  try {
    for (;;) {
      const { value, done } = await reader.read(buffer);
      if (done || !value) return;
      yield value;
      // The read transferred the buffer: `value` is a view of the same memory.
      buffer = new Uint8Array(value.buffer);
    }
  } finally {
    reader.releaseLock();
  }
}

/** Yields the lines of a byte stream (without the newline), until it ends. */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  for await (const lines of readLineGroups(stream)) yield* lines;
}

/**
 * Yields the non-blank lines of a byte stream a chunk at a time: an RPC side handles a whole
 * chunk's messages in one turn (so its replies leave in one write), without an async step
 * per line.
 */
export async function* readLineGroups(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string[]> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const bytes of readChunks(stream)) {
    const text = decoder.decode(bytes, { stream: true });
    const end = text.lastIndexOf("\n"); // only the new text: a long line is not rescanned
    if (end < 0) {
      buffer += text;
      continue;
    }
    const lines = (buffer + text.slice(0, end)).split("\n").filter((line) => line.trim() !== "");
    buffer = text.slice(end + 1);
    if (lines.length > 0) yield lines;
  }
  buffer += decoder.decode();
  if (buffer.trim() !== "") yield [buffer];
}

/**
 * Writes one JSON value per line; writes keep their order. Lines queued in one turn (a
 * broadcast's calls, a chunk's replies), or while the previous write is in flight, leave in
 * one write: a write costs a syscall and a trip through the stream machinery.
 */
export class LineWriter {
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #encoder = new TextEncoder();
  #closed = false;
  /** Lines waiting for the next write. */
  #queued = "";
  /** Settles once `#queued` is written. */
  #next: Promise<void> | undefined;
  /** The write in flight (or the last one). */
  #busy: Promise<void> = Promise.resolve();

  constructor(writable: WritableStream<Uint8Array>) {
    this.#writer = writable.getWriter();
  }

  /** Queues one message; rejects when the stream is closed or broken. */
  write(message: unknown): Promise<void> {
    if (this.#closed) return Promise.reject(new RpcClosedError());
    this.#queued += JSON.stringify(message) + "\n";
    const flush = () => this.#flush();
    return this.#next ??= this.#busy.then(flush, flush);
  }

  #flush(): Promise<void> {
    const text = this.#queued;
    this.#queued = "";
    this.#next = undefined;
    this.#busy = this.#writer.write(this.#encoder.encode(text));
    return this.#busy;
  }

  /** Closes the stream once queued lines are written (the reader sees end of input); idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#next?.catch(() => {});
    await this.#writer.close().catch(() => {});
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** Deadline settings of an {@link RpcClient}. */
export interface RpcClientOptions {
  /** Longest wait for a reply, in ms; 0 or absent = no deadline. */
  timeoutMs?: number;
  /** Called after a request missed its deadline (and was rejected). */
  onTimeout?(method: string): void;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  method: string;
  /** The reply deadline (performance.now() ms) and the wait it stands for; none without one. */
  deadline: number | undefined;
  ms: number;
}

/** The calling side: sends requests, receives results and events. */
export class RpcClient<M extends MethodMap<M>, E> {
  #writer: LineWriter;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #closedError: Error | undefined;
  #done: Promise<void>;
  #timeoutMs: number;
  #onTimeout: ((method: string) => void) | undefined;
  /** One timer for every deadline, armed for the earliest: a timer per call cost as much as the call. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;

  /**
   * @param streams `readable` carries results and events, `writable` carries requests
   * @param onEvent called for every event, in order
   * @param options the reply deadline
   */
  constructor(
    streams: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> },
    onEvent: (message: EventMessage<E>) => void,
    options: RpcClientOptions = {},
  ) {
    this.#timeoutMs = Math.max(0, options.timeoutMs ?? 0);
    this.#onTimeout = options.onTimeout;
    this.#writer = new LineWriter(streams.writable);
    this.#done = this.#read(streams.readable, onEvent);
  }

  /** Resolves when the readable side ended; pending requests are rejected by then. */
  get done(): Promise<void> {
    return this.#done;
  }

  /**
   * Calls a method; rejects with the remote error message, RpcClosedError, or RpcTimeoutError
   * when no reply came before the deadline (`extraMs` more than the client's for this call).
   */
  request<K extends keyof M & string>(
    method: K,
    params: M[K]["params"],
    options: { extraMs?: number } = {},
  ): Promise<M[K]["result"]> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    const id = this.#nextId++;
    const { promise, resolve, reject } = Promise.withResolvers<M[K]["result"]>();
    const ms = this.#timeoutMs + Math.max(0, options.extraMs ?? 0);
    const deadline = this.#timeoutMs > 0 ? performance.now() + ms : undefined;
    this.#pending.set(id, {
      resolve: (v) => resolve(v as M[K]["result"]),
      reject,
      method,
      deadline,
      ms,
    });
    if (deadline !== undefined) this.#arm(deadline);
    this.#writer.write({ id, method, params }).catch((error: unknown) => {
      this.#settle(id)?.reject(error instanceof Error ? error : new RpcClosedError());
    });
    return promise;
  }

  /** Requests waiting for their reply. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Closes our writing side (the server sees end of input). */
  async close(): Promise<void> {
    await this.#writer.close();
  }

  /** Gives up on the other side: every pending and future request rejects with `error`. */
  abort(error: Error): void {
    this.#fail(error);
    this.#writer.close().catch(() => {});
  }

  /** Takes a request out of the pending set; the last one out stops the deadline timer. */
  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    if (!pending) return undefined;
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#disarm();
    return pending;
  }

  /** Makes the timer fire by `deadline`. */
  #arm(deadline: number): void {
    if (this.#timer !== undefined && this.#timerAt <= deadline) return;
    clearTimeout(this.#timer);
    this.#timerAt = deadline;
    this.#timer = setTimeout(() => this.#sweep(), Math.max(0, deadline - performance.now()));
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  /** Rejects the requests past their deadline; re-arms for the earliest one left. */
  #sweep(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = performance.now();
    const expired: number[] = [];
    for (const [id, p] of this.#pending) {
      if (p.deadline !== undefined && p.deadline <= now) expired.push(id);
    }
    for (const id of expired) {
      const pending = this.#settle(id); // gone if an onTimeout failed the channel
      if (!pending) continue;
      pending.reject(new RpcTimeoutError(`No reply to ${pending.method} in ${pending.ms} ms`));
      this.#onTimeout?.(pending.method);
    }
    let next = Infinity;
    for (const p of this.#pending.values()) {
      if (p.deadline !== undefined && p.deadline < next) next = p.deadline;
    }
    if (next < Infinity) this.#arm(next);
  }

  async #read(
    readable: ReadableStream<Uint8Array>,
    onEvent: (message: EventMessage<E>) => void,
  ): Promise<void> {
    try {
      for await (const lines of readLineGroups(readable)) {
        for (const line of lines) this.#dispatch(line, onEvent);
      }
    } catch {
      // A broken pipe ends the channel like end of input.
    }
    this.#fail(new RpcClosedError());
  }

  /** Rejects every pending and future request with `error`. */
  #fail(error: Error): void {
    this.#closedError ??= error;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#disarm();
    for (const p of pending) p.reject(this.#closedError);
  }

  #dispatch(line: string, onEvent: (message: EventMessage<E>) => void): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return; // Not ours (e.g. a native library printing): ignore.
    }
    if (!isObject(message)) return;
    if (typeof message.event === "string") {
      onEvent(message as EventMessage<E>);
      return;
    }
    if (typeof message.id !== "number") return;
    const pending = this.#settle(message.id);
    if (!pending) return;
    if (typeof message.error === "string") pending.reject(new Error(message.error));
    else pending.resolve(message.result ?? null);
  }
}

/** The serving side (a media worker): answers requests and pushes events. */
export class RpcServer<M extends MethodMap<M>, E> {
  #writer: LineWriter;
  #handlers: Handlers<M>;

  constructor(writable: WritableStream<Uint8Array>, handlers: Handlers<M>) {
    this.#writer = new LineWriter(writable);
    this.#handlers = handlers;
  }

  /** Pushes an event; a broken pipe is ignored (the parent is gone). */
  notify<K extends keyof E & string>(event: K, params: E[K]): void {
    this.#writer.write({ event, params }).catch(() => {});
  }

  /** Closes the writing side (the client sees end of input). */
  async close(): Promise<void> {
    await this.#writer.close();
  }

  /** Serves requests from `readable` until it ends; requests run concurrently. */
  async serve(readable: ReadableStream<Uint8Array>): Promise<void> {
    try {
      for await (const lines of readLineGroups(readable)) {
        for (const line of lines) this.#handle(line);
      }
    } catch {
      // A broken pipe ends serving like end of input.
    }
  }

  #handle(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (!isObject(message) || typeof message.id !== "number") return;
    const { id, method } = message;
    const handler = typeof method === "string" && Object.hasOwn(this.#handlers, method)
      ? this.#handlers[method as keyof M]
      : undefined;
    if (!handler) {
      this.#writer.write({ id, error: `Unknown method ${String(method)}` }).catch(() => {});
      return;
    }
    // A handler that throws before returning its promise fails its call, not the serve loop.
    Promise.try(() => handler(message.params as M[keyof M]["params"])).then(
      (result) => this.#writer.write({ id, result: result ?? null }),
      (error: unknown) =>
        this.#writer.write({ id, error: error instanceof Error ? error.message : String(error) }),
    ).catch(() => {});
  }
}
