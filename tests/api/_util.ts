/**
 * Shared pieces of the API case list: the case and context types, exact-shape
 * assertions, and small session/handle helpers that work over any transport.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ConfigInput } from "../../core/config.ts";
import type { JsonObject } from "../../core/protocol.ts";
import type { TestGateway } from "../_helpers/gateway.ts";
import { type JanusClient, tx } from "../_helpers/janus_client.ts";

export { tx };
export type { JanusClient, JsonObject, TestGateway };

/** A transport the cases run over. */
export type Kind = "http" | "ws";

/** What a case gets: its gateway, and clients of the transport under test. */
export interface ApiContext {
  gw: TestGateway;
  kind: Kind;
  /** A new client of the transport under test (or of `other`); closed by the runner. */
  client(other?: Kind): Promise<JanusClient>;
}

/** One API case, run once per transport (or only over `only`). */
export interface ApiCase {
  name: string;
  config?: ConfigInput;
  /** Transport-specific cases: the other runner does not register them. */
  only?: Kind;
  run(ctx: ApiContext): Promise<void>;
}

/** True when `c` applies to `kind`. */
export function runsOver(c: ApiCase, kind: Kind): boolean {
  return c.only === undefined || c.only === kind;
}

export const ECHOTEST = "janus.plugin.echotest";
export const HINT = "I'm taking my time!";
export const SECRET = "s3cret";
export const ADMIN_SECRET = "janusoverlord";

/** A minimal SDP that passes the core's checks (v=, o=, s=, m=). */
export const VALID_SDP = [
  "v=0",
  "o=- 1 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  "c=IN IP4 0.0.0.0",
  "a=mid:0",
  "a=sendrecv",
  "a=rtcp-mux",
  "a=rtpmap:111 opus/48000/2",
  "a=ice-ufrag:abcd",
  "a=ice-pwd:abcdefghijklmnopqrstuvwx",
  "a=setup:actpass",
  "",
].join("\r\n");

/** Asserts `actual` deep-equals `expected`, and that the top-level keys come in its order. */
export function assertShape(actual: unknown, expected: JsonObject, what = ""): void {
  const label = what ? `${what}: ` : "";
  assert.deepEqual(actual, expected, `${label}${JSON.stringify(actual)}`);
  assert.deepEqual(
    Object.keys(actual as JsonObject),
    Object.keys(expected),
    `${label}key order of ${JSON.stringify(actual)}`,
  );
}

/** The reference's error shape: `session_id` and `transaction` only when given. */
export function errorShape(
  code: number,
  reason: string,
  ids: { session_id?: number | undefined; transaction?: string | undefined } = {},
): JsonObject {
  const e: JsonObject = { janus: "error" };
  if (ids.session_id !== undefined) e.session_id = ids.session_id;
  if (ids.transaction !== undefined) e.transaction = ids.transaction;
  e.error = { code, reason };
  return e;
}

/** Sends `body` and asserts the exact error reply. */
export async function expectError(
  c: JanusClient,
  body: JsonObject,
  code: number,
  reason: string,
  ids: { session_id?: number | undefined; transaction?: string | undefined } = {},
): Promise<void> {
  const reply = await c.send(body);
  assertShape(reply, errorShape(code, reason, ids), `${JSON.stringify(body)}`);
}

/** Creates a session (asserting the exact `success` shape); returns its id. */
export async function createSession(c: JanusClient, extra: JsonObject = {}): Promise<number> {
  const transaction = tx("create");
  const reply = await c.send({ janus: "create", transaction, ...extra });
  assert.equal(reply.janus, "success", JSON.stringify(reply));
  const id = (reply.data as JsonObject | undefined)?.id;
  assert.ok(typeof id === "number", JSON.stringify(reply));
  assertShape(reply, { janus: "success", transaction, data: { id } }, "create");
  return id;
}

/** Attaches echotest (asserting the exact `success` shape); returns the handle id. */
export async function attachEcho(
  c: JanusClient,
  sessionId: number,
  extra: JsonObject = {},
): Promise<number> {
  const transaction = tx("attach");
  const reply = await c.send({
    janus: "attach",
    transaction,
    session_id: sessionId,
    plugin: ECHOTEST,
    ...extra,
  });
  assert.equal(reply.janus, "success", JSON.stringify(reply));
  const id = (reply.data as JsonObject | undefined)?.id;
  assert.ok(typeof id === "number", JSON.stringify(reply));
  assertShape(
    reply,
    { janus: "success", session_id: sessionId, transaction, data: { id } },
    "attach",
  );
  return id;
}

/** A session with one echotest handle. */
export async function sessionWithHandle(c: JanusClient): Promise<{ s: number; h: number }> {
  const s = await createSession(c);
  return { s, h: await attachEcho(c, s) };
}

/** Destroys a session, asserting `success`. */
export async function destroySession(
  c: JanusClient,
  sessionId: number,
  extra: JsonObject = {},
): Promise<void> {
  const transaction = tx("destroy");
  const reply = await c.send({ janus: "destroy", transaction, session_id: sessionId, ...extra });
  assertShape(reply, { janus: "success", session_id: sessionId, transaction }, "destroy");
}

/** Sends a keepalive and asserts its `ack`. */
export async function keepalive(
  c: JanusClient,
  sessionId: number,
  extra: JsonObject = {},
): Promise<void> {
  const transaction = tx("ka");
  const reply = await c.send({ janus: "keepalive", transaction, session_id: sessionId, ...extra });
  assertShape(reply, { janus: "ack", session_id: sessionId, transaction }, "keepalive");
}

/** The next event for `sessionId`, failing when none comes. */
export async function nextEvent(
  c: JanusClient,
  sessionId: number,
  timeoutMs = 3000,
): Promise<JsonObject> {
  const event = await c.event(sessionId, { timeoutMs });
  assert.ok(event !== undefined, `no event for session ${sessionId} within ${timeoutMs} ms`);
  return event;
}

/** Asserts that no event for `sessionId` arrives within `ms`. */
export async function noEvent(c: JanusClient, sessionId: number, ms = 300): Promise<void> {
  const event = await c.event(sessionId, { timeoutMs: ms });
  assert.equal(event, undefined, `unexpected event ${JSON.stringify(event)}`);
}

/** The echotest event expected for an async request. */
export function echoEvent(
  sessionId: number,
  handleId: number,
  data: JsonObject,
  transaction?: string,
): JsonObject {
  const e: JsonObject = { janus: "event", session_id: sessionId };
  if (transaction !== undefined) e.transaction = transaction;
  e.sender = handleId;
  e.plugindata = { plugin: ECHOTEST, data };
  return e;
}

/** Sends an echotest message; asserts the ack with the hint, then returns the event. */
export async function echoMessage(
  c: JanusClient,
  ids: { s: number; h: number },
  body: JsonObject,
): Promise<{ transaction: string; event: JsonObject }> {
  const transaction = tx("msg");
  const reply = await c.send({
    janus: "message",
    transaction,
    session_id: ids.s,
    handle_id: ids.h,
    body,
  });
  assertShape(
    reply,
    { janus: "ack", session_id: ids.s, transaction, hint: HINT },
    `ack of ${JSON.stringify(body)}`,
  );
  return { transaction, event: await nextEvent(c, ids.s) };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One raw HTTP exchange, its body always read. */
export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** Sends a raw HTTP request and reads the whole body. */
export async function rawHttp(url: string, init: RequestInit = {}): Promise<RawResponse> {
  const res = await fetch(url, { redirect: "manual", ...init });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

/** Parses a raw JSON body, failing with the text when it is not JSON. */
export function jsonOf(res: RawResponse): unknown {
  try {
    return JSON.parse(res.text);
  } catch {
    assert.fail(`not JSON (status ${res.status}): ${JSON.stringify(res.text.slice(0, 200))}`);
  }
}

/** Adds a token over the admin HTTP API; returns `data.plugins`. */
export async function addToken(
  gw: TestGateway,
  token: string,
  plugins?: string[],
): Promise<unknown> {
  const transaction = tx("tok");
  const body: JsonObject = { janus: "add_token", transaction, admin_secret: ADMIN_SECRET, token };
  if (plugins) body.plugins = plugins;
  const res = await rawHttp(gw.adminUrl, { method: "POST", body: JSON.stringify(body) });
  const reply = jsonOf(res) as JsonObject;
  assert.equal(reply.janus, "success", JSON.stringify(reply));
  assert.equal(reply.transaction, transaction);
  return (reply.data as JsonObject | undefined)?.plugins;
}

/** A bare WebSocket for cases the shared client cannot express (bursts, huge frames). */
export interface RawSocket {
  ws: WebSocket;
  messages: JsonObject[];
  /** Resolves once `n` messages arrived (or the timeout passed, or the socket closed). */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  closed: Promise<CloseEvent>;
  close(): Promise<void>;
}

/** Opens a WebSocket; rejects when the handshake fails. */
export async function openRawSocket(url: string, protocol?: string): Promise<RawSocket> {
  const ws = protocol === undefined ? new WebSocket(url) : new WebSocket(url, protocol);
  const messages: JsonObject[] = [];
  let notify: (() => void) | undefined;
  const closed = new Promise<CloseEvent>((resolve) => {
    ws.addEventListener("close", (e) => {
      resolve(e);
      notify?.();
    });
  });
  ws.addEventListener("message", (e) => {
    messages.push(JSON.parse(String(e.data)) as JsonObject);
    notify?.();
  });
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error(`WebSocket to ${url} failed`)), {
      once: true,
    });
  });
  return {
    ws,
    messages,
    async waitFor(n, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < n && ws.readyState === WebSocket.OPEN) {
        const left = deadline - Date.now();
        if (left <= 0) return;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          notify = () => {
            clearTimeout(timer);
            notify = undefined;
            resolve();
          };
        });
      }
    },
    closed,
    async close() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
      await closed;
    },
  };
}
