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
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const bytes of readChunks(stream)) {
    buffer += decoder.decode(bytes, { stream: true });
    let at = buffer.indexOf("\n");
    while (at >= 0) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      if (line.trim() !== "") yield line;
      at = buffer.indexOf("\n");
    }
  }
  buffer += decoder.decode();
  if (buffer.trim() !== "") yield buffer;
}

/** Writes one JSON value per line; writes keep their order. */
export class LineWriter {
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #encoder = new TextEncoder();
  #closed = false;

  constructor(writable: WritableStream<Uint8Array>) {
    this.#writer = writable.getWriter();
  }

  /** Queues one message; rejects when the stream is closed or broken. */
  async write(message: unknown): Promise<void> {
    if (this.#closed) throw new RpcClosedError();
    await this.#writer.write(this.#encoder.encode(JSON.stringify(message) + "\n"));
  }

  /** Closes the stream (the reader sees end of input); idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
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
  timer: ReturnType<typeof setTimeout> | undefined;
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
    const timer = this.#timeoutMs > 0
      ? setTimeout(() => this.#expire(id, method, ms), ms)
      : undefined;
    this.#pending.set(id, { resolve: (v) => resolve(v as M[K]["result"]), reject, timer });
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

  /** Takes a request out of the pending set and stops its deadline. */
  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    if (!pending) return undefined;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    return pending;
  }

  #expire(id: number, method: string, ms: number): void {
    const pending = this.#settle(id);
    if (!pending) return;
    pending.reject(new RpcTimeoutError(`No reply to ${method} in ${ms} ms`));
    this.#onTimeout?.(method);
  }

  async #read(
    readable: ReadableStream<Uint8Array>,
    onEvent: (message: EventMessage<E>) => void,
  ): Promise<void> {
    try {
      for await (const line of readLines(readable)) this.#dispatch(line, onEvent);
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
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(this.#closedError);
    }
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
      for await (const line of readLines(readable)) this.#handle(line);
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
