/**
 * The Janus API over HTTP (Hono): POST `/janus[/{session}[/{handle}]]`, long-poll
 * GET `/janus/{session}`, `GET /janus/info`, CORS, and the reference's status codes.
 *
 * @module
 */
import { type Context, Hono, type Next } from "hono";
import { PatternRouter } from "hono/router/pattern-router";
import { authorizedQuery, dispatch } from "../core/dispatch.ts";
import { errorReply } from "../core/errors.ts";
import type { Gateway } from "../core/gateway.ts";
import { randomString } from "../core/ids.ts";
import { createOwner, type Owner } from "../core/owner.ts";
import { JANUS_ERROR, type JsonObject } from "../core/protocol.ts";
import { serverInfo } from "../core/server_info.ts";
import { encode, parseRequest } from "./json.ts";
import { reportHttpRequest } from "../core/events/transport_events.ts";
import { addMetricsRoute } from "./metrics.ts";
import type { TransportTweaks } from "./tweaks.ts";

/** Live long polls (for leak checks) and requests being served. */
export interface HttpTransportStats {
  polls: number;
  requests: number;
}

/** The HTTP transport: a Hono app plus its owner record and counters. */
export interface HttpTransport {
  app: Hono;
  owner: Owner;
  stats: HttpTransportStats;
}

const ID_PATTERN = /^[1-9][0-9]{0,15}$/;

function pathId(segment: string | undefined): number | undefined {
  return segment !== undefined && ID_PATTERN.test(segment) ? Number(segment) : undefined;
}

/** The CORS headers the reference puts on every reply. */
export function corsHeaders(allowOrigin: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    "Access-Control-Allow-Origin": allowOrigin ?? "*",
    "Access-Control-Max-Age": "86400",
  };
  if (allowOrigin) {
    headers["Access-Control-Allow-Credentials"] = "true";
    headers["Vary"] = "Origin";
  }
  return headers;
}

/** Builds replies with fixed headers (built once: replies are the hot path). */
export class Replies {
  readonly #json: Record<string, string>;
  readonly #empty: Record<string, string>;
  readonly #tweaks: Pick<TransportTweaks, "json">;

  constructor(allowOrigin: string | undefined, tweaks: Pick<TransportTweaks, "json">) {
    this.#empty = corsHeaders(allowOrigin);
    this.#json = { ...this.#empty, "Content-Type": "application/json" };
    this.#tweaks = tweaks;
  }

  /** A JSON reply, status 200 unless told (errors too, as the reference). */
  json(body: JsonObject | JsonObject[], status = 200): Response {
    return new Response(encode(body, this.#tweaks.json), { status, headers: this.#json });
  }

  /** The safety net of a Hono app: an unexpected throw is a Janus 490, never a text/plain 500. */
  unexpected(e: unknown): Response {
    const reason = `Unexpected error: ${e instanceof Error ? e.message : String(e)}`;
    return this.json(errorReply(JANUS_ERROR.UNKNOWN, reason, {}));
  }

  /** An empty reply with CORS headers (and extra ones). */
  empty(status: number, extra?: Record<string, string>): Response {
    return new Response(null, {
      status,
      headers: extra ? { ...this.#empty, ...extra } : this.#empty,
    });
  }
}

/** Reads a body with a size limit; a string, or a Response to send instead. */
export async function readBody(
  request: Request,
  options: { limit: number; maxChunks: number; replies: Replies },
): Promise<string | Response> {
  const { limit, maxChunks, replies } = options;
  const tooLarge = () =>
    replies.json(
      errorReply(
        JANUS_ERROR.INVALID_JSON,
        `JSON error: request body larger than ${limit} bytes`,
        {},
      ),
      413,
    );
  // A body whose framing breaks (bad chunk, short content-length, client half-closed) makes
  // the read throw: answer a Janus error (the server then closes, as the reference does).
  const unreadable = () =>
    replies.json(
      errorReply(
        JANUS_ERROR.INVALID_JSON,
        "JSON error: request body unreadable (broken framing or connection closed)",
        {},
      ),
      400,
    );
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    // A declared length is enforced by the server, so the body can be read at once.
    if (Number(declared) > limit) return tooLarge();
    try {
      return await request.text();
    } catch {
      return unreadable();
    }
  }
  const body = request.body;
  if (!body) return "";
  // Deno's request bodies are byte streams: each read goes into one reused buffer and only an
  // exact-size copy is kept. A default read gets a fresh 64 KiB buffer, and a body cut into
  // 4096 one-byte chunks pinned 256 MiB until it was joined (`deno task fuzz`).
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream: chunks are copied all the same.
  }
  const reader = byob ? undefined : body.getReader();
  let buffer = new Uint8Array(64 * 1024);
  const read = async (): Promise<ReadableStreamReadResult<Uint8Array>> => {
    if (!byob) return await reader!.read();
    const result = await byob.read(buffer);
    // The read transferred the buffer: the chunk is a view of the same memory.
    if (result.value) buffer = new Uint8Array(result.value.buffer);
    return result;
  };
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await read();
    } catch {
      return unreadable();
    }
    const { done, value } = chunk;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await (byob ?? reader)?.cancel().catch(() => {});
      return tooLarge();
    }
    // Each chunk costs a read (~9 us): a body cut into tiny chunks would hold the loop.
    if (maxChunks > 0 && chunks.length >= maxChunks) {
      await (byob ?? reader)?.cancel().catch(() => {});
      return replies.json(
        errorReply(
          JANUS_ERROR.INVALID_JSON,
          `JSON error: request body in more than ${maxChunks} chunks`,
          {},
        ),
        413,
      );
    }
    chunks.push(value.slice());
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/**
 * The first middleware of the API and admin apps: counts the request while it is served and
 * tells event handlers of it (unless the transport's `events` is off).
 */
export function requestMiddleware(
  gateway: Gateway,
  tweaks: TransportTweaks,
  stats: { requests: number },
  admin: boolean,
): (c: Context, next: Next) => Promise<void> {
  return async (c, next) => {
    if (tweaks.events) reportHttpRequest(gateway.events, HTTP_TRANSPORT, admin, c.env);
    stats.requests++;
    try {
      await next();
    } finally {
      stats.requests--;
    }
  };
}

/** The HTTP transport's package name. */
export const HTTP_TRANSPORT = "janus.transport.http";

/** Creates the Janus HTTP transport for `gateway`. */
export function createHttpTransport(
  gateway: Gateway,
  options: {
    /** The API's JSON Schema, served at `GET {base}/schema` (core/schema/document.ts). */
    schema?: JsonObject;
    /** The transport's run-time settings (shared with its admin listener). */
    tweaks?: TransportTweaks;
  } = {},
): HttpTransport {
  const { http, limits } = gateway.config;
  const base = http.base_path.replace(/\/$/, "");
  const owner = createOwner(HTTP_TRANSPORT);
  const stats: HttpTransportStats = { polls: 0, requests: 0 };
  const app = new Hono({ router: new PatternRouter() });
  const tweaks = options.tweaks ?? { json: http.json, events: http.events };
  const replies = new Replies(http.allow_origin, tweaks);

  app.use("*", requestMiddleware(gateway, tweaks, stats, false));
  app.options("*", (c) => {
    const extra: Record<string, string> = {};
    const method = c.req.header("access-control-request-method");
    const headers = c.req.header("access-control-request-headers");
    if (method) extra["Access-Control-Allow-Methods"] = method;
    if (headers) extra["Access-Control-Allow-Headers"] = headers;
    return replies.empty(200, extra);
  });

  const post = async (request: Request, path: { sessionId?: number; handleId?: number }) => {
    const text = await readBody(request, {
      limit: limits.max_message_bytes,
      maxChunks: limits.max_body_chunks,
      replies,
    });
    if (typeof text !== "string") return text;
    if (text.trim() === "") {
      return replies.json(
        errorReply(JANUS_ERROR.INVALID_JSON, "JSON error: empty request body", {}),
      );
    }
    const parsed = parseRequest(text);
    if (!parsed.ok) {
      const reason = `JSON error: on line ${parsed.line}: ${parsed.reason}`;
      return replies.json(errorReply(JANUS_ERROR.INVALID_JSON, reason, {}));
    }
    const result = await dispatch(gateway, parsed.value, { owner, path });
    result.after?.();
    return replies.json(result.reply);
  };

  if (gateway.config.metrics.public) addMetricsRoute(app, gateway);
  app.post(`${base}/info`, () => replies.empty(400));
  app.post(base, (c) => post(c.req.raw, {}));
  app.post(`${base}/:session`, (c) => {
    const sessionId = pathId(c.req.param("session"));
    return post(c.req.raw, sessionId === undefined ? {} : { sessionId });
  });
  app.post(`${base}/:session/:handle`, (c) => {
    const sessionId = pathId(c.req.param("session"));
    const handleId = pathId(c.req.param("handle"));
    if (sessionId === undefined) return post(c.req.raw, {});
    return post(c.req.raw, handleId === undefined ? { sessionId } : { sessionId, handleId });
  });

  app.get(`${base}/info`, () => replies.json(serverInfo(gateway, randomString(11))));
  const schema = options.schema;
  if (schema) app.get(`${base}/schema`, () => replies.json(schema));

  app.get(`${base}/:session`, async (c) => {
    const sessionId = pathId(c.req.param("session"));
    // One scan of the query string for all three parameters.
    const params = c.req.query();
    if (!authorizedQuery(gateway, params)) return replies.empty(403);
    const session = sessionId === undefined ? undefined : gateway.sessions.get(sessionId);
    const maxev = Number.parseInt(params.maxev ?? "", 10);
    const max = Number.isFinite(maxev) && maxev >= 2 ? maxev : 1;
    if (!session || session.owner !== owner) {
      // A session ended for its event queue's bound says so once (`timeout`), then 404.
      const last = sessionId === undefined ? undefined : gateway.takeFarewell(sessionId, owner);
      return last ? replies.json(max >= 2 ? [last] : last) : replies.empty(404);
    }
    session.touch(gateway.clock.now());
    let events: JsonObject[] = session.queue.take(max);
    if (events.length === 0) {
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), http.long_poll_timeout * 1000);
      const gone = c.req.raw.signal;
      const onGone = () => abort.abort();
      gone.addEventListener("abort", onGone, { once: true });
      stats.polls++;
      try {
        events = await session.queue.receive({ max, signal: abort.signal });
      } finally {
        stats.polls--;
        clearTimeout(timer);
        gone.removeEventListener("abort", onGone);
      }
    }
    if (events.length === 0) events = [{ janus: "keepalive" }];
    return replies.json(max >= 2 ? events : events[0] ?? { janus: "keepalive" });
  });

  app.get(`${base}/:session/:handle`, async (c) => {
    const sessionId = pathId(c.req.param("session"));
    if (sessionId !== undefined) {
      const keepalive = { janus: "keepalive", transaction: randomString(12) };
      const result = await dispatch(gateway, keepalive, { owner, path: { sessionId } });
      result.after?.();
    }
    return replies.empty(302, { Location: `${base}/${c.req.param("session")}` });
  });

  app.on(["PUT", "DELETE", "PATCH"], "*", (c) => {
    const reason = `Unsupported method ${c.req.method}`;
    return replies.json(errorReply(JANUS_ERROR.TRANSPORT_SPECIFIC, reason, {}));
  });

  app.notFound(() => replies.empty(404));
  app.onError((e) => replies.unexpected(e));
  return { app, owner, stats };
}
