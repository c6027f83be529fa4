/**
 * Janus API signalling for plugin tests with real peers: one client shape over WebSocket and
 * HTTP long-poll that keeps every asynchronous message in arrival order (with a sequence
 * number and a timestamp), so tests can assert event order and measure latencies.
 *
 * Why not `tests/_helpers/janus_client.ts`: its WebSocket client wakes one waiter at a time,
 * so a reply awaited while another task waits for events is only noticed at its timeout,
 * and its HTTP `event()` aborts its poll after a timeout, which can lose an event the server
 * is handing out at that moment. Here replies are matched by transaction and the HTTP poll
 * stays pending until the client closes.
 *
 * @module
 */
import { ASYNC_EVENTS, type JsonObject } from "../../core/protocol.ts";

const ASYNC = ASYNC_EVENTS;

/** One message as received. */
export interface Received {
  /** Arrival order over this client (replies and events share the counter). */
  seq: number;
  /** `performance.now()` at arrival. */
  at: number;
  msg: JsonObject;
}

let counter = 0;
/** A fresh transaction id. */
export function txn(prefix = "tx"): string {
  return `${prefix}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A Janus API client that records every asynchronous message. */
export interface Signal {
  readonly kind: "ws" | "http";
  /** Sends a request and resolves its direct reply (the reply's arrival is `lastReply`). */
  request(body: JsonObject): Promise<JsonObject>;
  /** Arrival record of each direct reply, by transaction. */
  readonly replies: Map<string, Received>;
  /** Every asynchronous message, in arrival order. */
  readonly events: Received[];
  /** Starts receiving the events of `sessionId` (HTTP: a long-poll loop; WS: nothing to do). */
  listen(sessionId: number): void;
  /**
   * Resolves the first event not yet taken that matches; marks it taken.
   *
   * @throws {Error} after `timeoutMs`, listing what arrived
   */
  take(
    what: string,
    match: (msg: JsonObject) => boolean,
    timeoutMs?: number,
  ): Promise<Received>;
  /** Events (taken or not) of `sessionId` that arrived after sequence number `after`. */
  since(sessionId: number, after: number): Received[];
  /** The current sequence number. */
  readonly seq: number;
  close(): Promise<void>;
}

interface Core {
  events: Received[];
  taken: Set<Received>;
  waiters: Set<() => void>;
  seq: number;
}

function record(core: Core, msg: JsonObject): Received {
  const r: Received = { seq: ++core.seq, at: performance.now(), msg };
  return r;
}

function pushEvent(core: Core, msg: JsonObject): void {
  core.events.push(record(core, msg));
  for (const w of [...core.waiters]) w();
}

function makeTake(core: Core): Signal["take"] {
  return (what, match, timeoutMs = 10_000) =>
    new Promise<Received>((resolve, reject) => {
      const find = () => core.events.find((r) => !core.taken.has(r) && match(r.msg));
      const done = (r: Received) => {
        core.taken.add(r);
        core.waiters.delete(check);
        clearTimeout(timer);
        resolve(r);
      };
      const check = () => {
        const r = find();
        if (r) done(r);
      };
      const timer = setTimeout(() => {
        core.waiters.delete(check);
        const seen = core.events.map((r) => JSON.stringify(r.msg)).join("\n  ");
        reject(
          new Error(`timed out after ${timeoutMs} ms waiting for ${what}; events:\n  ${seen}`),
        );
      }, timeoutMs);
      core.waiters.add(check);
      check();
    });
}

function makeSince(core: Core): Signal["since"] {
  return (sessionId, after) =>
    core.events.filter((r) => r.seq > after && r.msg.session_id === sessionId);
}

/** A client on one WebSocket (`janus-protocol`). */
export async function wsSignal(url: string): Promise<Signal> {
  const socket = new WebSocket(url, "janus-protocol");
  const core: Core = { events: [], taken: new Set(), waiters: new Set(), seq: 0 };
  const replies = new Map<string, Received>();
  const pending = new Map<string, (msg: JsonObject) => void>();
  const closed = new Promise<void>((resolve) => socket.addEventListener("close", () => resolve()));
  socket.onmessage = (e) => {
    const msg = JSON.parse(String(e.data)) as JsonObject;
    if (ASYNC.has(String(msg.janus))) return pushEvent(core, msg);
    const t = typeof msg.transaction === "string" ? msg.transaction : "";
    replies.set(t, record(core, msg));
    const resolve = pending.get(t);
    pending.delete(t);
    resolve?.(msg);
  };
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`WebSocket to ${url} failed`));
  });
  return {
    kind: "ws",
    replies,
    events: core.events,
    get seq() {
      return core.seq;
    },
    request(body) {
      const t = String(body.transaction);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(t);
          reject(new Error(`no reply over WebSocket to ${JSON.stringify(body)}`));
        }, 10_000);
        pending.set(t, (msg) => {
          clearTimeout(timer);
          resolve(msg);
        });
        socket.send(JSON.stringify(body));
      });
    },
    listen() {},
    take: makeTake(core),
    since: makeSince(core),
    async close() {
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
        socket.close();
      }
      await closed;
    },
  };
}

/** A client that POSTs to `/janus[/S[/H]]` and long-polls `GET /janus/S?maxev=10`. */
export function httpSignal(baseUrl: string): Signal {
  const core: Core = { events: [], taken: new Set(), waiters: new Set(), seq: 0 };
  const replies = new Map<string, Received>();
  const abort = new AbortController();
  const loops: Promise<void>[] = [];
  const poll = async (sessionId: number) => {
    while (!abort.signal.aborted) {
      let res: Response;
      try {
        res = await fetch(`${baseUrl}/${sessionId}?maxev=10`, { signal: abort.signal });
      } catch {
        return; // aborted by close()
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        return; // 404: the session is gone
      }
      let value: JsonObject | JsonObject[];
      try {
        value = await res.json() as JsonObject[];
      } catch {
        return;
      }
      for (const msg of Array.isArray(value) ? value : [value]) {
        if (msg.janus !== "keepalive") pushEvent(core, msg);
      }
    }
  };
  return {
    kind: "http",
    replies,
    events: core.events,
    get seq() {
      return core.seq;
    },
    async request(body) {
      const s = body.session_id;
      const h = body.handle_id;
      const path = typeof s !== "number"
        ? baseUrl
        : typeof h === "number"
        ? `${baseUrl}/${s}/${h}`
        : `${baseUrl}/${s}`;
      const res = await fetch(path, { method: "POST", body: JSON.stringify(body) });
      const msg = await res.json() as JsonObject;
      replies.set(String(body.transaction), record(core, msg));
      return msg;
    },
    listen(sessionId) {
      loops.push(poll(sessionId));
    },
    take: makeTake(core),
    since: makeSince(core),
    async close() {
      abort.abort();
      await Promise.all(loops);
    },
  };
}

/** Opens a signalling client of `kind` against a test gateway's URLs. */
export async function openSignal(
  kind: "ws" | "http",
  urls: { wsUrl: string; httpUrl: string },
): Promise<Signal> {
  return kind === "ws" ? await wsSignal(urls.wsUrl) : httpSignal(urls.httpUrl);
}
