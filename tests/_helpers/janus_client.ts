/**
 * Minimal Janus API clients over HTTP and WebSocket with one interface, so that
 * one case list runs over both transports.
 *
 * @module
 */
import { ASYNC_EVENTS, type JsonObject } from "../../core/protocol.ts";

const ASYNC = ASYNC_EVENTS;

let counter = 0;
/** A fresh transaction id. */
export function tx(prefix = "t"): string {
  return `${prefix}-${++counter}`;
}

/** A Janus API client. */
export interface JanusClient extends AsyncDisposable {
  readonly kind: "http" | "ws";
  /** Sends a request; resolves its direct reply. HTTP posts to the path of its ids. */
  send(body: JsonObject): Promise<JsonObject>;
  /** Sends raw text (bad-input cases); resolves the direct reply, if any. */
  sendRaw(text: string): Promise<JsonObject | undefined>;
  /** The next asynchronous message for `sessionId` (HTTP: a long poll). */
  event(sessionId: number, options?: { timeoutMs?: number }): Promise<JsonObject | undefined>;
  close(): Promise<void>;
}

function pathOf(base: string, body: JsonObject): string {
  const s = body.session_id;
  const h = body.handle_id;
  if (typeof s !== "number") return base;
  return typeof h === "number" ? `${base}/${s}/${h}` : `${base}/${s}`;
}

/** A client that POSTs requests and long-polls for events. */
export function httpClient(baseUrl: string, options: { maxev?: number } = {}): JanusClient {
  const polls = new Set<AbortController>();
  const client: JanusClient = {
    kind: "http",
    async send(body) {
      const res = await fetch(pathOf(baseUrl, body), {
        method: "POST",
        body: JSON.stringify(body),
      });
      return await res.json() as JsonObject;
    },
    async sendRaw(text) {
      const res = await fetch(baseUrl, { method: "POST", body: text });
      const t = await res.text();
      return t ? JSON.parse(t) as JsonObject : undefined;
    },
    async event(sessionId, opts = {}) {
      const abort = new AbortController();
      polls.add(abort);
      const timer = setTimeout(() => abort.abort(), opts.timeoutMs ?? 3000);
      try {
        const maxev = options.maxev ? `?maxev=${options.maxev}` : "";
        const res = await fetch(`${baseUrl}/${sessionId}${maxev}`, { signal: abort.signal });
        if (res.status !== 200) {
          await res.body?.cancel();
          return { janus: `http-${res.status}` };
        }
        const value = await res.json() as JsonObject | JsonObject[];
        const first = Array.isArray(value) ? value[0] : value;
        return first?.janus === "keepalive" ? undefined : first;
      } catch {
        return undefined;
      } finally {
        clearTimeout(timer);
        polls.delete(abort);
      }
    },
    close() {
      for (const p of polls) p.abort();
      return Promise.resolve();
    },
    [Symbol.asyncDispose]: () => client.close(),
  };
  return client;
}

/** A client on one WebSocket: replies matched in order, events buffered. */
export async function wsClient(url: string, protocol = "janus-protocol"): Promise<JanusClient> {
  const socket = new WebSocket(url, protocol);
  const events: JsonObject[] = [];
  const replies: JsonObject[] = [];
  let wake: (() => void) | undefined;
  const closed = new Promise<void>((resolve) => socket.addEventListener("close", () => resolve()));
  socket.onmessage = (e) => {
    const msg = JSON.parse(String(e.data)) as JsonObject;
    (ASYNC.has(String(msg.janus)) ? events : replies).push(msg);
    wake?.();
  };
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`WebSocket to ${url} failed`));
  });
  const waitFor = async <T>(
    take: () => T | undefined,
    timeoutMs: number,
  ): Promise<T | undefined> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = take();
      if (got !== undefined) return got;
      const left = deadline - Date.now();
      if (left <= 0 || socket.readyState !== WebSocket.OPEN) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          wake = undefined;
          resolve();
        }, left);
        wake = () => {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        };
      });
    }
  };
  const reply = async (timeoutMs = 3000) => await waitFor(() => replies.shift(), timeoutMs);
  const client: JanusClient = {
    kind: "ws",
    async send(body) {
      socket.send(JSON.stringify(body));
      const r = await reply();
      if (!r) throw new Error(`No reply over WebSocket to ${JSON.stringify(body)}`);
      return r;
    },
    async sendRaw(text) {
      socket.send(text);
      return await reply(1000);
    },
    async event(sessionId, opts = {}) {
      return await waitFor(() => {
        const i = events.findIndex((e) => e.session_id === sessionId);
        return i >= 0 ? events.splice(i, 1)[0] : undefined;
      }, opts.timeoutMs ?? 3000);
    },
    async close() {
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
        socket.close();
      }
      await closed;
    },
    [Symbol.asyncDispose]: () => client.close(),
  };
  return client;
}
