/**
 * Janus API clients for the bench: HTTP (POST + long poll over one keep-alive
 * connection) and WebSocket (`janus-protocol`, replies matched by transaction).
 *
 * @module
 */
import { HttpConnection } from "./http_client.ts";
import { WsConnection } from "./ws_connection.ts";

/** A Janus message as parsed JSON. */
export type Msg = Record<string, unknown>;

/** Where a Janus server listens (loopback only). */
export interface Endpoint {
  host: string;
  httpPort: number;
  /** HTTP base path, e.g. `/janus`. */
  basePath: string;
  wsPort: number;
}

let counter = 0;
/** A fresh transaction id. */
export function nextTransaction(): string {
  return `b${(++counter).toString(36)}`;
}

function parse(text: string): Msg {
  const value: unknown = JSON.parse(text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`not a JSON object: ${text.slice(0, 80)}`);
  }
  return value as Msg;
}

/** Throws unless `reply.janus` is `janus`; returns the reply. */
export function expectJanus(reply: Msg, janus: string): Msg {
  if (reply.janus !== janus) {
    throw new Error(`expected '${janus}', got ${JSON.stringify(reply).slice(0, 200)}`);
  }
  return reply;
}

/** The numeric `data.id` of a create/attach success. */
export function dataId(reply: Msg): number {
  expectJanus(reply, "success");
  const data = reply.data;
  const id = typeof data === "object" && data !== null ? (data as Msg).id : undefined;
  if (typeof id !== "number") throw new Error(`no data.id in ${JSON.stringify(reply)}`);
  return id;
}

/**
 * Opens a WebSocket to `url` with subprotocol `janus-protocol`; rejects with `failures.failed`
 * when it fails or `failures.timedOut` when not open within `timeoutMs` (then closing it).
 */
export function openJanusSocket(
  url: string,
  timeoutMs: number,
  failures: { timedOut: string; failed: string } = {
    timedOut: "WebSocket open timed out",
    failed: "WebSocket open failed",
  },
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ["janus-protocol"]);
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(failures.timedOut));
    }, timeoutMs);
    ws.onopen = () => {
      clearTimeout(timer);
      resolve(ws);
    };
    ws.onerror = () => {
      clearTimeout(timer);
      reject(new Error(failures.failed));
    };
  });
}

/**
 * Opens a light WebSocket (`WsConnection`) to `url` with subprotocol `janus-protocol`,
 * for the loads that measure the server rather than the client.
 */
export function openJanusConnection(url: string, timeoutMs: number): Promise<WsConnection> {
  return WsConnection.open(url, "janus-protocol", timeoutMs);
}

/** One HTTP client: sequential requests on its own keep-alive connection. */
export class JanusHttpClient {
  readonly #conn: HttpConnection;
  readonly #base: string;
  readonly #timeoutMs: number;

  constructor(endpoint: Endpoint, timeoutMs: number) {
    this.#conn = new HttpConnection(endpoint.host, endpoint.httpPort);
    this.#base = endpoint.basePath.replace(/\/$/, "");
    this.#timeoutMs = timeoutMs;
  }

  /** POSTs `body` (a transaction is added) to `/janus[/S[/H]]`; resolves the reply. */
  async post(body: Msg, sessionId?: number, handleId?: number): Promise<Msg> {
    const path = sessionId === undefined
      ? this.#base
      : handleId === undefined
      ? `${this.#base}/${sessionId}`
      : `${this.#base}/${sessionId}/${handleId}`;
    const res = await this.#conn.request(
      "POST",
      path,
      JSON.stringify({ ...body, transaction: nextTransaction() }),
      this.#timeoutMs,
    );
    if (res.status !== 200) throw new Error(`HTTP ${res.status} on POST ${path}`);
    return parse(res.body);
  }

  /** One long poll `GET /janus/S?maxev=1`; resolves the single event (maybe a keepalive). */
  async poll(sessionId: number): Promise<Msg> {
    const path = `${this.#base}/${sessionId}?maxev=1`;
    const res = await this.#conn.request("GET", path, undefined, this.#timeoutMs);
    if (res.status !== 200) throw new Error(`HTTP ${res.status} on GET ${path}`);
    return parse(res.body);
  }

  /** GET `/janus/info`; resolves the parsed reply. */
  async info(): Promise<Msg> {
    const res = await this.#conn.request("GET", `${this.#base}/info`, undefined, this.#timeoutMs);
    if (res.status !== 200) throw new Error(`HTTP ${res.status} on GET /info`);
    return parse(res.body);
  }

  /** Closes the connection. */
  close(): void {
    this.#conn.close();
  }
}

interface Waiter {
  resolve(msg: Msg): void;
  reject(error: Error): void;
  since: number;
}

/** Messages that answer a request directly (the rest are asynchronous). */
const DIRECT = new Set(["success", "ack", "error", "pong", "server_info"]);

/** One WebSocket client: requests in parallel, matched to replies by transaction. */
export class JanusWsClient {
  readonly #ws: WsConnection;
  readonly #replies = new Map<string, Waiter>();
  readonly #events = new Map<string, Waiter>();
  readonly #timeoutMs: number;
  readonly #sweeper: ReturnType<typeof setInterval>;
  #closed: Error | undefined;

  private constructor(ws: WsConnection, timeoutMs: number) {
    this.#ws = ws;
    this.#timeoutMs = timeoutMs;
    ws.onmessage = (text) => this.#receive(text);
    ws.onclose = () => this.#fail(new Error("socket closed"));
    ws.start();
    // One timer per socket rather than one per request: expire stale waiters.
    this.#sweeper = setInterval(() => this.#expire(), Math.min(1000, timeoutMs));
  }

  /** Opens `ws://host:port` with subprotocol `janus-protocol`. */
  static async open(endpoint: Endpoint, timeoutMs: number): Promise<JanusWsClient> {
    const url = `ws://${endpoint.host}:${endpoint.wsPort}`;
    return new JanusWsClient(await openJanusConnection(url, timeoutMs), timeoutMs);
  }

  /** Sends `body` with a fresh transaction; resolves its direct reply. */
  request(body: Msg): Promise<Msg> {
    return this.send(body, false).reply;
  }

  /**
   * Sends `body`; `reply` is its direct answer and, when `withEvent`, `event`
   * is the plugin event carrying the same transaction (either may come first).
   */
  send(body: Msg, withEvent: boolean): { reply: Promise<Msg>; event: Promise<Msg> | undefined } {
    const transaction = nextTransaction();
    const reply = this.#wait(this.#replies, transaction);
    const event = withEvent ? this.#wait(this.#events, transaction) : undefined;
    if (this.#closed) {
      this.#fail(this.#closed);
    } else {
      this.#ws.send(JSON.stringify({ ...body, transaction }));
    }
    return { reply, event };
  }

  /** Closes the socket and rejects what is still pending. */
  close(): void {
    this.#fail(new Error("closed by the bench"));
    try {
      this.#ws.close();
    } catch {
      // Already closing.
    }
  }

  #wait(map: Map<string, Waiter>, transaction: string): Promise<Msg> {
    const promise = new Promise<Msg>((resolve, reject) => {
      map.set(transaction, { resolve, reject, since: performance.now() });
    });
    // A rejection nobody awaits (e.g. the event after a failed ack) must not crash the bench.
    promise.catch(() => {});
    return promise;
  }

  #receive(data: string): void {
    let msg: Msg;
    try {
      msg = parse(data);
    } catch {
      return;
    }
    const transaction = msg.transaction;
    if (typeof transaction !== "string") return;
    const map = DIRECT.has(String(msg.janus)) ? this.#replies : this.#events;
    const waiter = map.get(transaction);
    if (!waiter) return;
    map.delete(transaction);
    waiter.resolve(msg);
  }

  #expire(): void {
    const limit = performance.now() - this.#timeoutMs;
    for (const map of [this.#replies, this.#events]) {
      for (const [transaction, waiter] of map) {
        if (waiter.since > limit) continue;
        map.delete(transaction);
        waiter.reject(
          new Error(`timeout after ${this.#timeoutMs} ms (transaction ${transaction})`),
        );
      }
    }
  }

  #fail(error: Error): void {
    this.#closed ??= error;
    clearInterval(this.#sweeper);
    for (const map of [this.#replies, this.#events]) {
      for (const waiter of map.values()) waiter.reject(error);
      map.clear();
    }
  }
}
