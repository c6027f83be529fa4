/**
 * The Janus API over HTTP (Hono): POST `/janus[/{session}[/{handle}]]`, long-poll
 * GET `/janus/{session}`, `GET /janus/info`, CORS, and the reference's status codes.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { authorizedQuery, dispatch } from "../core/dispatch.ts";
import { errorReply } from "../core/errors.ts";
import type { Gateway } from "../core/gateway.ts";
import { randomString } from "../core/ids.ts";
import { createOwner, type Owner } from "../core/owner.ts";
import { JANUS_ERROR, type JsonObject } from "../core/protocol.ts";
import { serverInfo } from "../core/server_info.ts";
import { encode, parseRequest } from "./json.ts";

/** Live long polls, for leak checks. */
export interface HttpTransportStats {
  polls: number;
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

/** Adds CORS headers the way the reference does. */
export function corsHeaders(c: Context, allowOrigin: string | undefined): void {
  c.header("Access-Control-Allow-Origin", allowOrigin ?? "*");
  c.header("Access-Control-Max-Age", "86400");
  if (allowOrigin) {
    c.header("Access-Control-Allow-Credentials", "true");
    c.header("Vary", "Origin");
  }
}

/** A JSON reply with status 200 (errors too, as the reference). */
export function jsonReply(c: Context, body: JsonObject | JsonObject[], status = 200): Response {
  c.header("Content-Type", "application/json");
  return c.body(encode(body), status as 200);
}

/** Reads a body with a size limit; a string, or a Response to send instead. */
export async function readBody(c: Context, limit: number): Promise<string | Response> {
  const declared = Number(c.req.header("content-length") ?? "0");
  const tooLarge = () =>
    jsonReply(
      c,
      errorReply(
        JANUS_ERROR.INVALID_JSON,
        `JSON error: request body larger than ${limit} bytes`,
        {},
      ),
      413,
    );
  if (declared > limit) return tooLarge();
  const reader = c.req.raw.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** Creates the Janus HTTP transport for `gateway`. */
export function createHttpTransport(gateway: Gateway): HttpTransport {
  const { http, limits } = gateway.config;
  const base = http.base_path.replace(/\/$/, "");
  const owner = createOwner("janus.transport.http");
  const stats: HttpTransportStats = { polls: 0 };
  const app = new Hono();

  app.use("*", async (c, next) => {
    corsHeaders(c, http.allow_origin);
    await next();
  });

  app.options("*", (c) => {
    const method = c.req.header("access-control-request-method");
    const headers = c.req.header("access-control-request-headers");
    if (method) c.header("Access-Control-Allow-Methods", method);
    if (headers) c.header("Access-Control-Allow-Headers", headers);
    return c.body(null, 200);
  });

  const post = async (c: Context, path: { sessionId?: number; handleId?: number }) => {
    const text = await readBody(c, limits.max_message_bytes);
    if (typeof text !== "string") return text;
    if (text.trim() === "") {
      return jsonReply(
        c,
        errorReply(JANUS_ERROR.INVALID_JSON, "JSON error: empty request body", {}),
      );
    }
    const parsed = parseRequest(text);
    if (!parsed.ok) {
      return jsonReply(
        c,
        errorReply(
          JANUS_ERROR.INVALID_JSON,
          `JSON error: on line ${parsed.line}: ${parsed.reason}`,
          {},
        ),
      );
    }
    const result = await dispatch(gateway, parsed.value, { owner, path });
    result.after?.();
    return jsonReply(c, result.reply);
  };

  app.post(`${base}/info`, (c) => c.body(null, 400));
  app.post(base, (c) => post(c, {}));
  app.post(`${base}/:session`, (c) => {
    const sessionId = pathId(c.req.param("session"));
    return post(c, sessionId === undefined ? {} : { sessionId });
  });
  app.post(`${base}/:session/:handle`, (c) => {
    const sessionId = pathId(c.req.param("session"));
    const handleId = pathId(c.req.param("handle"));
    if (sessionId === undefined) return post(c, {});
    return post(c, handleId === undefined ? { sessionId } : { sessionId, handleId });
  });

  app.get(`${base}/info`, (c) => jsonReply(c, serverInfo(gateway, randomString(11))));

  app.get(`${base}/:session`, async (c) => {
    const sessionId = pathId(c.req.param("session"));
    if (
      !authorizedQuery(gateway, {
        apisecret: c.req.query("apisecret"),
        token: c.req.query("token"),
      })
    ) {
      return c.body(null, 403);
    }
    const session = sessionId === undefined ? undefined : gateway.sessions.get(sessionId);
    if (!session || session.owner !== owner) return c.body(null, 404);
    session.touch(gateway.clock.now());
    const maxev = Number.parseInt(c.req.query("maxev") ?? "", 10);
    const max = Number.isFinite(maxev) && maxev >= 2 ? maxev : 1;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), http.long_poll_timeout * 1000);
    const onGone = () => abort.abort();
    c.req.raw.signal.addEventListener("abort", onGone, { once: true });
    stats.polls++;
    let events: JsonObject[];
    try {
      events = await session.queue.receive({ max, signal: abort.signal });
    } finally {
      stats.polls--;
      clearTimeout(timer);
      c.req.raw.signal.removeEventListener("abort", onGone);
    }
    if (events.length === 0) events = [{ janus: "keepalive" }];
    return jsonReply(c, max >= 2 ? events : events[0] ?? { janus: "keepalive" });
  });

  app.get(`${base}/:session/:handle`, async (c) => {
    const sessionId = pathId(c.req.param("session"));
    if (sessionId !== undefined) {
      const result = await dispatch(
        gateway,
        { janus: "keepalive", transaction: randomString(12) },
        {
          owner,
          path: { sessionId },
        },
      );
      result.after?.();
    }
    c.header("Location", `${base}/${c.req.param("session")}`);
    return c.body(null, 302);
  });

  app.on(["PUT", "DELETE", "PATCH"], "*", (c) =>
    jsonReply(
      c,
      errorReply(JANUS_ERROR.TRANSPORT_SPECIFIC, `Unsupported method ${c.req.method}`, {}),
    ));

  app.notFound((c) => c.body(null, 404));
  app.onError((e, c) =>
    jsonReply(c, errorReply(JANUS_ERROR.UNKNOWN, `Unexpected error: ${e.message}`, {}))
  );
  return { app, owner, stats };
}
