/**
 * The `server_info` reply, with the reference's keys in its order.
 *
 * @module
 */
import type { Gateway } from "./gateway.ts";
import type { JsonObject } from "./protocol.ts";

/** Gateway version, announced like Janus's (1.1.2 compatible API). */
export const VERSION = { number: 1102, string: "1.1.2" } as const;

const TRANSPORTS: JsonObject = {
  "janus.transport.http": {
    name: "JANUS REST (HTTP/HTTPS) transport plugin",
    author: "Janus-compatible gateway",
    description: "REST and long-poll Janus API over HTTP (Hono).",
    version_string: "0.0.2",
    version: 2,
  },
  "janus.transport.websockets": {
    name: "JANUS WebSockets transport plugin",
    author: "Janus-compatible gateway",
    description: "Janus API over WebSockets (janus-protocol).",
    version_string: "0.0.1",
    version: 1,
  },
};

/** Builds `server_info` for a transaction. */
export function serverInfo(gateway: Gateway, transaction: string): JsonObject {
  const { general } = gateway.config;
  const plugins: JsonObject = {};
  for (const [id, p] of gateway.plugins) {
    plugins[id] = {
      name: p.info.name,
      author: p.info.author,
      description: p.info.description,
      version_string: p.info.versionString,
      version: p.info.version,
    };
  }
  return {
    janus: "server_info",
    transaction,
    name: "Janus WebRTC Server",
    version: VERSION.number,
    version_string: VERSION.string,
    author: "Janus-compatible gateway (Deno)",
    "commit-hash": "not-a-git-repo",
    "compile-time": "n/a",
    "log-to-stdout": true,
    "log-to-file": false,
    data_channels: true,
    "accepting-new-sessions": gateway.acceptingNewSessions,
    "session-timeout": gateway.sessionTimeout,
    "reclaim-session-timeout": general.reclaim_session_timeout,
    "candidates-timeout": general.candidates_timeout,
    "server-name": general.server_name,
    "local-ip": "127.0.0.1",
    ipv6: false,
    "ice-lite": false,
    "ice-tcp": false,
    "ice-nomination": "aggressive",
    "ice-keepalive-conncheck": false,
    "full-trickle": general.full_trickle,
    "mdns-enabled": false,
    "min-nack-queue": 200,
    "nack-optimizations": false,
    "twcc-period": 200,
    "dtls-mtu": 1200,
    "static-event-loops": 0,
    api_secret: general.api_secret !== undefined,
    auth_token: general.token_auth,
    event_handlers: gateway.events.enabled,
    opaqueid_in_api: false,
    dependencies: { deno: Deno.version.deno, v8: Deno.version.v8 },
    transports: TRANSPORTS,
    events: gateway.events.describe(),
    loggers: {},
    plugins,
  };
}
