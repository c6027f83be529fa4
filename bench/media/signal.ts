/**
 * A Janus API client on one WebSocket (`janus-protocol`) for the media benches: direct
 * replies matched by transaction, every asynchronous message queued with its arrival time
 * until taken (so no event is lost between waits), plugin messages (ack, then the event of
 * the same transaction), trickles, and a keepalive per session every 20 s.
 *
 * @module
 */
import { type Msg, openJanusSocket } from "../janus_client.ts";

export type { Msg };

/** Replies that answer a request directly. */
const DIRECT = new Set(["success", "ack", "error", "server_info", "pong"]);

/** An asynchronous message as received. */
export interface Arrival {
  msg: Msg;
  /** `performance.now()` at arrival. */
  at: number;
}

interface Waiter {
  match(msg: Msg): boolean;
  resolve(a: Arrival): void;
}

let counter = 0;
function transaction(): string {
  return `m${(++counter).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** The `plugindata.data` of an event, or an empty object. */
export function pluginData(msg: Msg): Msg {
  const pd = msg.plugindata;
  const data = typeof pd === "object" && pd !== null ? (pd as Msg).data : undefined;
  return typeof data === "object" && data !== null ? data as Msg : {};
}

/** The `jsep.sdp` of a message, or undefined. */
export function jsepSdp(msg: Msg): string | undefined {
  const jsep = msg.jsep;
  const sdp = typeof jsep === "object" && jsep !== null ? (jsep as Msg).sdp : undefined;
  return typeof sdp === "string" ? sdp : undefined;
}

/** One WebSocket to a Janus API server. */
export class Signal {
  readonly #ws: WebSocket;
  readonly #timeoutMs: number;
  readonly #replies = new Map<string, (msg: Msg) => void>();
  readonly #queue: Arrival[] = [];
  readonly #waiters = new Set<Waiter>();
  readonly #keepalives = new Map<number, ReturnType<typeof setInterval>>();
  readonly #closed: Promise<void>;
  #error: Error | undefined;

  private constructor(ws: WebSocket, timeoutMs: number) {
    this.#ws = ws;
    this.#timeoutMs = timeoutMs;
    this.#closed = new Promise((resolve) => ws.addEventListener("close", () => resolve()));
    ws.onmessage = (event: MessageEvent) => this.#receive(event.data);
    ws.onclose = () => this.#error ??= new Error("WebSocket closed");
  }

  /** Opens `url` with subprotocol `janus-protocol`. */
  static async open(url: string, timeoutMs: number): Promise<Signal> {
    const ws = await openJanusSocket(url, timeoutMs, {
      timedOut: `WebSocket to ${url} did not open in time`,
      failed: `WebSocket to ${url} failed`,
    });
    return new Signal(ws, timeoutMs);
  }

  /** Sends `body` with a fresh transaction; resolves the direct reply. */
  request(body: Msg): Promise<Msg> {
    if (this.#error) return Promise.reject(this.#error);
    const t = transaction();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#replies.delete(t);
        reject(new Error(`no reply in ${this.#timeoutMs} ms to ${String(body.janus)}`));
      }, this.#timeoutMs);
      this.#replies.set(t, (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      this.#ws.send(JSON.stringify({ ...body, transaction: t }));
    });
  }

  /** `create`; keeps the new session alive; resolves its id. */
  async createSession(): Promise<number> {
    const id = idOf(await this.request({ janus: "create" }));
    this.#keepalives.set(
      id,
      setInterval(() => {
        this.request({ janus: "keepalive", session_id: id }).catch(() => {});
      }, 20_000),
    );
    return id;
  }

  /** `attach` of `plugin` to `session`; resolves the handle id. */
  async attach(session: number, plugin: string): Promise<number> {
    return idOf(await this.request({ janus: "attach", session_id: session, plugin }));
  }

  /**
   * A plugin `message`: resolves the `success` (synchronous request) or, after the `ack`, the
   * event carrying the same transaction.
   *
   * @throws {Error} on an `error` reply or a plugin error in the data
   */
  async message(
    session: number,
    handle: number,
    body: Msg,
    jsep?: { type: "offer" | "answer"; sdp: string },
  ): Promise<Arrival> {
    if (this.#error) throw this.#error;
    const t = transaction();
    const event = this.#wait(
      (m) => m.transaction === t && m.janus === "event",
      `the event of ${String(body.request ?? "message")}`,
      this.#timeoutMs,
    );
    const reply = await new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#replies.delete(t);
        event.cancel();
        reject(new Error(`no reply in ${this.#timeoutMs} ms to ${String(body.request)}`));
      }, this.#timeoutMs);
      this.#replies.set(t, (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      this.#ws.send(JSON.stringify({
        janus: "message",
        session_id: session,
        handle_id: handle,
        transaction: t,
        body,
        ...(jsep ? { jsep } : {}),
      }));
    });
    if (reply.janus === "success") {
      event.cancel();
      return checked({ msg: reply, at: performance.now() });
    }
    if (reply.janus !== "ack") {
      event.cancel();
      throw new Error(`${String(body.request)}: ${JSON.stringify(reply).slice(0, 300)}`);
    }
    return checked(await event.promise);
  }

  /** Trickles `candidates`, then `completed`. */
  async trickle(
    session: number,
    handle: number,
    candidates: readonly Msg[],
  ): Promise<void> {
    const base = { janus: "trickle", session_id: session, handle_id: handle };
    if (candidates.length > 0) await this.request({ ...base, candidates: [...candidates] });
    await this.request({ ...base, candidate: { completed: true } });
  }

  /**
   * Resolves (and removes) the first queued or coming asynchronous message that matches.
   *
   * @throws {Error} after the timeout
   */
  take(match: (msg: Msg) => boolean, what: string, timeoutMs = this.#timeoutMs): Promise<Arrival> {
    return this.#wait(match, what, timeoutMs).promise;
  }

  #wait(
    match: (msg: Msg) => boolean,
    what: string,
    timeoutMs: number,
  ): { promise: Promise<Arrival>; cancel(): void } {
    const at = this.#queue.findIndex((a) => match(a.msg));
    if (at >= 0) {
      return { promise: Promise.resolve(this.#queue.splice(at, 1)[0] as Arrival), cancel() {} };
    }
    let cancel = () => {};
    const promise = new Promise<Arrival>((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (a) => {
          cancel();
          resolve(a);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      cancel = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      this.#waiters.add(waiter);
    });
    promise.catch(() => {});
    return { promise, cancel };
  }

  /** Destroys `session` (best effort) and stops its keepalives. */
  async destroySession(session: number): Promise<void> {
    clearInterval(this.#keepalives.get(session));
    this.#keepalives.delete(session);
    await this.request({ janus: "destroy", session_id: session }).catch(() => {});
  }

  /** Closes the socket (stopping keepalives) and waits for it to close (2 s at most). */
  async close(): Promise<void> {
    for (const timer of this.#keepalives.values()) clearInterval(timer);
    this.#keepalives.clear();
    this.#error ??= new Error("closed by the bench");
    try {
      this.#ws.close();
    } catch {
      // Already closing.
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#closed,
      new Promise<void>((resolve) => timer = setTimeout(resolve, 2000)),
    ]);
    clearTimeout(timer);
  }

  #receive(data: unknown): void {
    if (typeof data !== "string") return;
    let msg: Msg;
    try {
      const value: unknown = JSON.parse(data);
      if (typeof value !== "object" || value === null || Array.isArray(value)) return;
      msg = value as Msg;
    } catch {
      return;
    }
    if (DIRECT.has(String(msg.janus)) && typeof msg.transaction === "string") {
      const resolve = this.#replies.get(msg.transaction);
      this.#replies.delete(msg.transaction);
      resolve?.(msg);
      return;
    }
    const arrival: Arrival = { msg, at: performance.now() };
    for (const w of this.#waiters) {
      if (w.match(msg)) return w.resolve(arrival);
    }
    // Bounded: media flows keep only a few unclaimed events (media, slowlink...).
    if (this.#queue.length >= 1000) this.#queue.shift();
    this.#queue.push(arrival);
  }
}

function idOf(reply: Msg): number {
  const data = reply.data;
  const id = typeof data === "object" && data !== null ? (data as Msg).id : undefined;
  if (reply.janus !== "success" || typeof id !== "number") {
    throw new Error(`expected success with data.id, got ${JSON.stringify(reply).slice(0, 300)}`);
  }
  return id;
}

function checked(arrival: Arrival): Arrival {
  const data = pluginData(arrival.msg);
  if (data.error !== undefined || data.error_code !== undefined) {
    throw new Error(`plugin error ${String(data.error_code)}: ${String(data.error)}`);
  }
  return arrival;
}
