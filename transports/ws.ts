/**
 * The Janus API over WebSocket (`janus-protocol`): replies go to the sender,
 * events to the connection that owns the session; a closed socket destroys its
 * sessions unless a reclaim window is configured.
 *
 * @module
 */
import { dispatch, type DispatchResult } from "../core/dispatch.ts";
import { errorReply } from "../core/errors.ts";
import type { Gateway } from "../core/gateway.ts";
import { createLogger } from "../core/log.ts";
import { createOwner } from "../core/owner.ts";
import { transportInstanceId } from "../core/events/ids.ts";
import { reportWsConnection } from "../core/events/transport_events.ts";
import { JANUS_ERROR, type JsonObject } from "../core/protocol.ts";
import { encode, parseRequest } from "./json.ts";
import type { TransportTweaks } from "./tweaks.ts";

const log = createLogger("ws");

/** Counters of one WebSocket listener. */
export interface WsStats {
  sockets: number;
}

/** What a request handler does with one socket's text messages. */
export type WsHandler = (
  request: unknown,
  send: (reply: JsonObject) => void,
) => Promise<DispatchResult>;

/** Options shared by the API and admin WebSocket listeners. */
export interface WsListenerOptions {
  protocol: string;
  maxMessageBytes: number;
  /**
   * Bytes the socket may hold unsent (a client that stops reading); past it the socket is
   * closed and its sessions go as on any close (`limits.ws_unsent_bytes`). 0 = no bound.
   */
  maxBufferedBytes: number;
  requestsPerSecond: number;
  stats: WsStats;
  /** The transport's run-time settings (`json` format of what is sent, `events`). */
  tweaks: TransportTweaks;
  /** Called for each new socket; returns the request handler and a close hook. */
  connect(
    send: (reply: JsonObject) => void,
    remote?: string,
  ): { handle: WsHandler; closed(): void };
}

/** Upgrades `request` if it asks for `protocol`; otherwise the reference-like refusal. */
export function upgradeRequest(
  request: Request,
  options: WsListenerOptions,
  info?: Deno.ServeHandlerInfo,
): Response {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("<html><body><h1>403 Forbidden</h1></body></html>", {
      status: 403,
      headers: { "Content-Type": "text/html" },
    });
  }
  const offered = (request.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) =>
    s.trim()
  );
  if (!offered.includes(options.protocol)) {
    return new Response(null, { status: 400, headers: { Connection: "close" } });
  }
  // Read before the upgrade: the request is closed after it.
  const addr = info?.remoteAddr;
  const { socket, response } = Deno.upgradeWebSocket(request, { protocol: options.protocol });
  serveSocket(socket, options, addr?.transport === "tcp" ? addr.hostname : undefined);
  return response;
}

const encoder = new TextEncoder();

/** True when the message passes `limit` bytes (a string counts its UTF-8, not its length). */
function tooLarge(data: unknown, text: string, limit: number): boolean {
  if (data instanceof ArrayBuffer) return data.byteLength > limit;
  if (text.length > limit) return true;
  // Each UTF-16 unit is at most 3 bytes of UTF-8: only long texts need encoding.
  return text.length * 3 > limit && encoder.encode(text).byteLength > limit;
}

function serveSocket(socket: WebSocket, options: WsListenerOptions, remote?: string): void {
  let open = true;
  let counted = false;
  const gone = () => {
    if (!open) return;
    open = false;
    if (counted) options.stats.sockets--;
    connection.closed();
  };
  const send = (reply: JsonObject) => {
    if (!open || socket.readyState !== WebSocket.OPEN) return;
    const unsent = socket.bufferedAmount;
    if (options.maxBufferedBytes > 0 && unsent > options.maxBufferedBytes) {
      // A client that stopped reading would hold every later event in memory: end it as
      // a close does (its close frame may never be read, so do not wait for `onclose`).
      log.warn(`socket not reading: ${unsent} bytes unsent, over ${options.maxBufferedBytes}`);
      socket.close(1008, "Client not reading: unsent events over the limit");
      gone();
      return;
    }
    try {
      socket.send(encode(reply, options.tweaks.json));
    } catch (e) {
      // A throw in a socket callback would end the process: log it, keep serving.
      log.error(`reply not sent: ${(e as Error).message}`);
    }
  };
  socket.binaryType = "arraybuffer";
  const connection = options.connect(send, remote);
  let windowStart = 0;
  let windowCount = 0;
  socket.onopen = () => {
    if (!open) return;
    counted = true;
    options.stats.sockets++;
  };
  const onMessage = (event: MessageEvent) => {
    const data: unknown = event.data;
    const text = typeof data === "string"
      ? data
      : data instanceof ArrayBuffer
      ? new TextDecoder().decode(data)
      : "";
    if (tooLarge(data, text, options.maxMessageBytes)) {
      socket.close(1009, `Message larger than ${options.maxMessageBytes} bytes`);
      return;
    }
    const parsed = parseRequest(text);
    if (!parsed.ok) {
      const where = `<string>(${parsed.line},${parsed.column})`;
      send(
        errorReply(
          JANUS_ERROR.INVALID_JSON,
          `Invalid Janus API request - ${where}: ${parsed.reason}`,
          {},
        ),
      );
      return;
    }
    if (Array.isArray(parsed.value)) {
      // The reference's WebSocket transport reads an array as an object without fields.
      send(
        errorReply(
          JANUS_ERROR.MISSING_MANDATORY_ELEMENT,
          "Missing mandatory element (transaction)",
          {},
        ),
      );
      return;
    }
    if (options.requestsPerSecond > 0) {
      const now = Date.now();
      if (now - windowStart >= 1000) {
        windowStart = now;
        windowCount = 0;
      }
      if (++windowCount > options.requestsPerSecond) {
        // Refuse the request, keep the socket: closing it would destroy the client's sessions.
        const value = parsed.value as { transaction?: unknown };
        const transaction = typeof value.transaction === "string" ? value.transaction : undefined;
        const reason =
          `Too many requests: over ${options.requestsPerSecond} per second on this socket`;
        send(errorReply(JANUS_ERROR.UNKNOWN, reason, { transaction }));
        return;
      }
    }
    connection.handle(parsed.value, send).then((result) => {
      send(result.reply);
      result.after?.();
    }).catch((e) => log.error(`request failed: ${(e as Error).message}`));
  };
  socket.onmessage = (event: MessageEvent) => {
    try {
      onMessage(event);
    } catch (e) {
      // Never expected (dispatch answers every failure), but a throw here would end the process.
      log.error(`message failed: ${(e as Error).message}`);
      const reason = `Unexpected error: ${(e as Error).message}`;
      send(errorReply(JANUS_ERROR.UNKNOWN, reason, {}));
    }
  };
  socket.onclose = gone;
  socket.onerror = () => {};
}

/** The WebSocket transport's package name. */
export const WS_TRANSPORT = "janus.transport.websockets";

/**
 * Tells event handlers that socket `id` (of the API or the `admin` listener) connected or
 * disconnected, while the transport's `events` is on.
 */
export function connectionReporter(
  gateway: Gateway,
  tweaks: TransportTweaks,
  id: string,
  admin: boolean,
): (state: "connected" | "disconnected", remote?: string) => void {
  return (state, remote) => {
    if (tweaks.events) reportWsConnection(gateway.events, WS_TRANSPORT, id, state, admin, remote);
  };
}

/** The Janus API WebSocket listener's request handler. */
export function janusWsOptions(
  gateway: Gateway,
  stats: WsStats,
  tweaks: TransportTweaks,
): WsListenerOptions {
  return {
    tweaks,
    protocol: "janus-protocol",
    maxMessageBytes: gateway.config.limits.max_message_bytes,
    maxBufferedBytes: gateway.config.limits.ws_unsent_bytes,
    requestsPerSecond: gateway.config.limits.ws_requests_per_second,
    stats,
    connect(send, remote) {
      const owner = createOwner(WS_TRANSPORT, send);
      const id = transportInstanceId(owner);
      const report = connectionReporter(gateway, tweaks, id, false);
      report("connected", remote);
      return {
        handle: (request) => dispatch(gateway, request, { owner }),
        closed: () => {
          report("disconnected");
          void gateway.transportGone(owner);
        },
      };
    },
  };
}
