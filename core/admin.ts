/**
 * The Admin API: a parsed admin request in, a reply out. Global requests
 * (status, settings, tokens, plugin messages), session requests (handles,
 * destroy, timeout) and handle requests (`handle_info`, hangup, detach), with
 * the reference's checks in its order: envelope, ids, secret, session, handle.
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import { z } from "zod";
import { type AdminRequest, formatId, unhandled } from "./admin_common.ts";
import { handleRequest } from "./admin_handle.ts";
import { tokenRequest } from "./admin_tokens.ts";
import { errorReply, JanusError, PluginError } from "./errors.ts";
import { injectPath } from "./dispatch.ts";
import type { Gateway } from "./gateway.ts";
import { createLogger, logLevel, setLogLevel } from "./log.ts";
import { isJsonObject, JANUS_ERROR, type JsonObject } from "./protocol.ts";
import { ENVELOPE_STYLE, FIELD, type FieldRule, optional, required } from "./schemas.ts";
import { serverInfo } from "./server_info.ts";
import { testStunServer } from "./stun_check.ts";

const log = createLogger("admin");

/** Where an admin request came from: ids from an HTTP path are injected into the body. */
export interface AdminContext {
  path?: { sessionId?: number; handleId?: number };
}

/** Debug and media knobs the admin API sets and `get_status` reports. */
export interface AdminSettings {
  log_timestamps: boolean;
  log_colors: boolean;
  locking_debug: boolean;
  refcount_debug: boolean;
  libnice_debug: boolean;
  min_nack_queue: number;
  nack_optimizations: boolean;
  no_media_timer: number;
  slowlink_threshold: number;
}

type BoolKey = { [K in keyof AdminSettings]: AdminSettings[K] extends boolean ? K : never }[
  keyof AdminSettings
];
type NumberKey = Exclude<keyof AdminSettings, BoolKey>;
type Setter =
  | { field: string; kind: "bool"; key: BoolKey; reply: string }
  | { field: string; kind: "int"; key: NumberKey; reply: string };

/** The `set_*` knobs: request field, stored setting, reply key (as the reference names them). */
const SETTERS: Readonly<Record<string, Setter>> = {
  set_log_timestamps: {
    field: "timestamps",
    kind: "bool",
    key: "log_timestamps",
    reply: "log_timestamps",
  },
  set_log_colors: { field: "colors", kind: "bool", key: "log_colors", reply: "log_colors" },
  set_locking_debug: { field: "debug", kind: "bool", key: "locking_debug", reply: "locking_debug" },
  set_refcount_debug: {
    field: "debug",
    kind: "bool",
    key: "refcount_debug",
    reply: "refcount_debug",
  },
  set_libnice_debug: { field: "debug", kind: "bool", key: "libnice_debug", reply: "libnice_debug" },
  set_min_nack_queue: {
    field: "min_nack_queue",
    kind: "int",
    key: "min_nack_queue",
    reply: "min_nack_queue",
  },
  set_nack_optimizations: {
    field: "nack_optimizations",
    kind: "bool",
    key: "nack_optimizations",
    reply: "nack-optimizations",
  },
  set_no_media_timer: {
    field: "no_media_timer",
    kind: "int",
    key: "no_media_timer",
    reply: "no_media_timer",
  },
  set_slowlink_threshold: {
    field: "slowlink_threshold",
    kind: "int",
    key: "slowlink_threshold",
    reply: "slowlink_threshold",
  },
};

const SETTINGS = new WeakMap<Gateway, AdminSettings>();

/** The admin-set knobs of a gateway (created from its configuration on first use). */
export function adminSettings(gateway: Gateway): AdminSettings {
  let settings = SETTINGS.get(gateway);
  if (!settings) {
    const { general } = gateway.config;
    settings = {
      log_timestamps: true, // core/log.ts always prints them
      log_colors: false,
      locking_debug: false,
      refcount_debug: false,
      libnice_debug: false,
      min_nack_queue: 200,
      nack_optimizations: false,
      no_media_timer: general.no_media_timer,
      slowlink_threshold: general.slowlink_threshold,
    };
    SETTINGS.set(gateway, settings);
  }
  return settings;
}

/** Request objects that may be absent (`message_plugin`, `query_*`). */
const OBJECT_RULE: FieldRule<JsonObject> = FIELD.object as FieldRule<JsonObject>;

/**
 * Handles one admin request. Never throws: every failure becomes an error reply.
 *
 * @param gateway the gateway to inspect and steer
 * @param request the parsed JSON body
 * @param context the ids of an HTTP path, if any
 * @returns the reply, in Janus's key order
 */
export async function dispatchAdmin(
  gateway: Gateway,
  request: unknown,
  context: AdminContext,
): Promise<JsonObject> {
  if (!isJsonObject(request)) {
    return errorReply(JANUS_ERROR.INVALID_JSON_OBJECT, "JSON error: not an object", {});
  }
  const conflict = injectPath(request, context.path);
  if (conflict) return conflict.toReply({});
  // Like the reference, only integer ids count; anything else reads as 0 (absent).
  const sessionId = Number.isInteger(request.session_id) ? (request.session_id as number) : 0;
  const handleId = Number.isInteger(request.handle_id) ? (request.handle_id as number) : 0;
  const transaction = typeof request.transaction === "string" ? request.transaction : undefined;
  try {
    const tx = required(request, "transaction", FIELD.string, ENVELOPE_STYLE);
    const raw = required(request, "janus", FIELD.string, ENVELOPE_STYLE);
    const req: AdminRequest = { name: raw.toLowerCase(), raw, transaction: tx, body: request };
    return await route(gateway, req, { sessionId, handleId });
  } catch (e) {
    if (e instanceof JanusError) return e.toReply({ sessionId, transaction });
    log.error(`unexpected failure: ${(e as Error).stack ?? e}`);
    return new JanusError(JANUS_ERROR.UNKNOWN, `Unexpected error: ${(e as Error).message}`)
      .toReply({ sessionId, transaction });
  }
}

function authorized(gateway: Gateway, given: unknown): boolean {
  const expected = gateway.config.general.admin_secret;
  // No secret configured: the transport does not start; refuse anyway if called.
  if (expected === undefined || typeof given !== "string") return false;
  const a = new TextEncoder().encode(expected);
  const b = new TextEncoder().encode(given);
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

async function route(
  gateway: Gateway,
  req: AdminRequest,
  ids: { sessionId: number; handleId: number },
): Promise<JsonObject> {
  const { sessionId, handleId } = ids;
  if (sessionId === 0 && handleId === 0) {
    if (req.name === "info") return serverInfo(gateway, req.transaction);
    if (req.name === "ping") return { janus: "pong", transaction: req.transaction };
    if (!authorized(gateway, req.body.admin_secret)) throw new JanusError(JANUS_ERROR.UNAUTHORIZED);
    return { janus: "success", transaction: req.transaction, ...await global(gateway, req) };
  }
  // A handle_id that is present but not a usable integer is a 458, as the reference.
  if (sessionId === 0 || (req.body.handle_id !== undefined && handleId === 0)) {
    throw new JanusError(JANUS_ERROR.SESSION_NOT_FOUND);
  }
  if (!authorized(gateway, req.body.admin_secret)) throw new JanusError(JANUS_ERROR.UNAUTHORIZED);
  // Admin requests do not refresh the session's activity (as the reference).
  const session = gateway.sessions.get(sessionId);
  if (!session) {
    throw new JanusError(JANUS_ERROR.SESSION_NOT_FOUND, `No such session ${formatId(sessionId)}`);
  }
  const ok = (extra: JsonObject = {}): JsonObject => ({
    janus: "success",
    session_id: session.id,
    transaction: req.transaction,
    ...extra,
  });
  if (handleId !== 0) {
    const handle = session.handles.get(handleId);
    if (!handle) {
      throw new JanusError(
        JANUS_ERROR.HANDLE_NOT_FOUND,
        `No such handle ${formatId(handleId)} in session ${formatId(sessionId)}`,
      );
    }
    return ok(await handleRequest(gateway, handle, req));
  }
  switch (req.name) {
    case "list_handles":
      return ok({ handles: [...session.handles.keys()] });
    case "destroy_session":
      await gateway.destroySession(session, "admin");
      return ok();
    case "set_session_timeout": {
      const timeout = required(req.body, "timeout", INTEGER);
      if (timeout < -1) {
        throw new JanusError(
          JANUS_ERROR.INVALID_ELEMENT_TYPE,
          "Invalid element type (timeout should be a non-negative integer or -1)",
        );
      }
      session.timeoutOverride = timeout === -1 ? undefined : timeout;
      // The reference puts session_id last in this one reply.
      return { janus: "success", transaction: req.transaction, timeout, session_id: session.id };
    }
    default:
      throw unhandled(req);
  }
}

const INTEGER: FieldRule<number> = { schema: z.number().int(), expected: "an integer" };

/** The fields of a global request's success reply (after `janus` and `transaction`). */
async function global(gateway: Gateway, req: AdminRequest): Promise<JsonObject> {
  const { body } = req;
  const setter = SETTERS[req.name];
  if (setter) {
    const settings = adminSettings(gateway);
    if (setter.kind === "bool") settings[setter.key] = required(body, setter.field, FIELD.boolean);
    else settings[setter.key] = required(body, setter.field, FIELD.positiveInteger);
    if (setter.key === "no_media_timer" || setter.key === "slowlink_threshold") {
      await applyMediaSettings(gateway, settings);
    }
    return { [setter.reply]: settings[setter.key] };
  }
  const tokens = tokenRequest(gateway, req);
  if (tokens) return tokens;
  switch (req.name) {
    case "get_status":
      return { status: status(gateway) };
    case "list_sessions":
      return { sessions: [...gateway.sessions.keys()] };
    case "accept_new_sessions":
      gateway.acceptingNewSessions = required(body, "accept", FIELD.boolean);
      return { accept: gateway.acceptingNewSessions };
    case "set_session_timeout":
      gateway.sessionTimeout = required(body, "timeout", FIELD.positiveInteger);
      return { timeout: gateway.sessionTimeout };
    case "set_log_level": {
      const level = required(body, "level", FIELD.positiveInteger);
      if (level > 7) {
        throw new JanusError(
          JANUS_ERROR.INVALID_ELEMENT_TYPE,
          "Invalid element type (level should be between 0 and 7)",
        );
      }
      setLogLevel(level);
      return { level };
    }
    case "message_plugin":
      return { response: await messagePlugin(gateway, body) };
    case "query_eventhandler": {
      const name = required(body, "handler", FIELD.string);
      const request = optional(body, "request", OBJECT_RULE);
      const handler = gateway.events.handler(name);
      if (!handler) throw new JanusError(JANUS_ERROR.PLUGIN_NOT_FOUND, "Invalid event handler");
      return { response: handler.query(request) };
    }
    case "query_transport": {
      const name = required(body, "transport", FIELD.string);
      const request = optional(body, "request", OBJECT_RULE);
      const query = gateway.transports.get(name);
      if (!query) throw new JanusError(JANUS_ERROR.PLUGIN_NOT_FOUND, "Invalid transport");
      return { response: query(request) };
    }
    case "query_logger":
      required(body, "logger", FIELD.string);
      optional(body, "request", OBJECT_RULE);
      // None are loaded.
      throw new JanusError(JANUS_ERROR.PLUGIN_NOT_FOUND, "Invalid logger");
    case "custom_event":
      gateway.events.external(
        required(body, "schema", FIELD.string),
        required(body, "data", OBJECT_RULE),
      );
      return {};
    case "custom_logline":
      customLogline(body);
      return {};
    case "resolve_address":
      return await resolveAddress(required(body, "address", FIELD.string));
    case "test_stun":
      return await testStun(body);
    case "loops_info":
      return { loops: [] };
    default:
      throw unhandled(req);
  }
}

/** Hands the media knobs to the media workers, live peers included. */
async function applyMediaSettings(gateway: Gateway, settings: AdminSettings): Promise<void> {
  try {
    await gateway.media?.updateSettings?.({
      noMediaMs: settings.no_media_timer * 1000,
      slowLinkThreshold: settings.slowlink_threshold,
    });
  } catch (e) {
    log.error(`media settings not applied: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function status(gateway: Gateway): JsonObject {
  const { general } = gateway.config;
  const s = adminSettings(gateway);
  return {
    token_auth: general.token_auth,
    session_timeout: gateway.sessionTimeout,
    reclaim_session_timeout: general.reclaim_session_timeout,
    candidates_timeout: general.candidates_timeout,
    log_level: logLevel(),
    log_timestamps: s.log_timestamps,
    log_colors: s.log_colors,
    locking_debug: s.locking_debug,
    refcount_debug: s.refcount_debug,
    libnice_debug: s.libnice_debug,
    min_nack_queue: s.min_nack_queue,
    "nack-optimizations": s.nack_optimizations,
    no_media_timer: s.no_media_timer,
    slowlink_threshold: s.slowlink_threshold,
  };
}

async function messagePlugin(gateway: Gateway, body: JsonObject): Promise<JsonObject> {
  const id = required(body, "plugin", FIELD.string);
  const request = optional(body, "request", OBJECT_RULE);
  const plugin = gateway.plugins.get(id);
  if (!plugin) throw new JanusError(JANUS_ERROR.PLUGIN_NOT_FOUND, "Invalid plugin");
  if (!plugin.handleAdminMessage) {
    throw new JanusError(JANUS_ERROR.UNKNOWN, "Plugin doesn't support Admin API messages");
  }
  try {
    return await plugin.handleAdminMessage(
      request ?? {},
      (data) => gateway.events.plugin({}, id, data),
    );
  } catch (e) {
    if (e instanceof PluginError) return plugin.formatError(e);
    throw e;
  }
}

function customLogline(body: JsonObject): void {
  const line = required(body, "line", FIELD.string);
  let level = optional(body, "level", FIELD.positiveInteger) ?? 4;
  if (level > 7) level = 4; // Out of range falls back to info, as the reference.
  if (level <= 2) log.error(line);
  else if (level === 3) log.warn(line);
  else if (level === 4) log.info(line);
  else if (level < 7) log.verbose(line);
  else log.debug(line);
}

/** `test_stun`: resolve the server, ask it for our mapped address, say how long it took (µs). */
async function testStun(body: JsonObject): Promise<JsonObject> {
  const address = required(body, "address", FIELD.string);
  const port = required(body, "port", FIELD.positiveInteger);
  const localPort = optional(body, "localport", FIELD.positiveInteger) ?? 0;
  const start = performance.now();
  let ip: string;
  try {
    ip = (await lookup(address)).address;
  } catch {
    throw new JanusError(JANUS_ERROR.UNKNOWN, "Could not resolve address");
  }
  try {
    // Ports wrap to 16 bits, as the reference's uint16_t.
    const mapped = await testStunServer(ip, port & 0xffff, localPort & 0xffff);
    return {
      public_ip: mapped.ip,
      public_port: mapped.port,
      elapsed: Math.round((performance.now() - start) * 1000),
    };
  } catch (e) {
    log.warn(`test_stun ${address}:${port}: ${e instanceof Error ? e.message : String(e)}`);
    throw new JanusError(JANUS_ERROR.UNKNOWN, "STUN request failed");
  }
}

async function resolveAddress(address: string): Promise<JsonObject> {
  const start = performance.now();
  try {
    const { address: ip } = await lookup(address);
    return { ip, elapsed: Math.round((performance.now() - start) * 1000) };
  } catch {
    throw new JanusError(JANUS_ERROR.UNKNOWN, "Could not resolve address");
  }
}
