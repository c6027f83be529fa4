/**
 * The admin API over HTTP (`POST /admin[/{session}[/{handle}]]`) and WebSocket
 * (`janus-admin-protocol`), the admin page (`admin_page/`) and `/metrics`. Only started when an
 * admin secret is configured.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { dispatchAdmin } from "../core/admin.ts";
import { errorReply } from "../core/errors.ts";
import { newTransportId } from "../core/events/ids.ts";
import type { Gateway } from "../core/gateway.ts";
import { randomString } from "../core/ids.ts";
import { JANUS_ERROR } from "../core/protocol.ts";
import { serverInfo } from "../core/server_info.ts";
import { readBody, Replies, requestMiddleware } from "./http.ts";
import { addMetricsRoute } from "./metrics.ts";
import { addAdminPageRoutes } from "./admin_page/routes.ts";
import { parseRequest } from "./json.ts";
import type { TransportTweaks } from "./tweaks.ts";
import { connectionReporter, type WsListenerOptions, type WsStats } from "./ws.ts";

const ID_PATTERN = /^[1-9][0-9]{0,15}$/;

/**
 * Creates the admin HTTP app: part of the HTTP transport, whose `tweaks` it shares; `stats`
 * counts the requests it is serving.
 */
export function createAdminHttp(
  gateway: Gateway,
  tweaks: TransportTweaks,
  stats: { requests: number },
): Hono {
  const base = gateway.config.admin.base_path.replace(/\/$/, "");
  const app = new Hono();
  const replies = new Replies(undefined, tweaks);
  app.use("*", requestMiddleware(gateway, tweaks, stats, true));
  app.options("*", () => replies.empty(200));
  addMetricsRoute(app, gateway);
  const post = async (c: Context) => {
    const text = await readBody(c.req.raw, {
      limit: gateway.config.limits.max_message_bytes,
      maxChunks: gateway.config.limits.max_body_chunks,
      replies,
    });
    if (typeof text !== "string") return text;
    const parsed = parseRequest(text);
    if (!parsed.ok) {
      return replies.json(
        errorReply(
          JANUS_ERROR.INVALID_JSON,
          `JSON error: on line ${parsed.line}: ${parsed.reason}`,
          {},
        ),
      );
    }
    const s = c.req.param("session");
    const h = c.req.param("handle");
    const path: { sessionId?: number; handleId?: number } = {};
    if (s !== undefined && ID_PATTERN.test(s)) {
      path.sessionId = Number(s);
      if (h !== undefined && ID_PATTERN.test(h)) path.handleId = Number(h);
    }
    return replies.json(await dispatchAdmin(gateway, parsed.value, { path }));
  };
  app.post(base, post);
  app.post(`${base}/:session`, post);
  app.post(`${base}/:session/:handle`, post);
  app.get(`${base}/info`, () => replies.json(serverInfo(gateway, randomString(11))));
  app.get(
    base,
    () => replies.json(errorReply(JANUS_ERROR.INVALID_JSON, "Request payload missing", {})),
  );
  if (gateway.config.admin.ui) addAdminPageRoutes(app, base);
  app.notFound(() => replies.empty(404));
  app.onError((e) => replies.unexpected(e));
  return app;
}

/** The admin WebSocket listener's options (part of the WebSocket transport: its `tweaks`). */
export function adminWsOptions(
  gateway: Gateway,
  stats: WsStats,
  tweaks: TransportTweaks,
): WsListenerOptions {
  return {
    tweaks,
    protocol: "janus-admin-protocol",
    maxMessageBytes: gateway.config.limits.max_message_bytes,
    maxBufferedBytes: gateway.config.limits.ws_unsent_bytes,
    requestsPerSecond: gateway.config.limits.ws_requests_per_second,
    stats,
    connect(_send, remote) {
      // janus_websockets.c tells handlers of admin sockets too, with admin_api true.
      const id = newTransportId();
      const report = connectionReporter(gateway, tweaks, id, true);
      report("connected", remote);
      return {
        handle: async (request) => ({ reply: await dispatchAdmin(gateway, request, {}) }),
        closed: () => report("disconnected"),
      };
    },
  };
}
