/**
 * The Janus API: a parsed request in, a reply out (plus work to run once the
 * reply is on its way, so that an `ack` always precedes its event).
 *
 * @module
 */
import { JanusError, PluginError } from "./errors.ts";
import type { Gateway } from "./gateway.ts";
import type { Handle } from "./handle.ts";
import { createLogger } from "./log.ts";
import type { Owner } from "./owner.ts";
import type { Jsep, PluginMessage, PluginReply, PluginSession } from "./plugin.ts";
import {
  HANDLE_REQUESTS,
  isJsonObject,
  JANUS_ERROR,
  type JsonObject,
  ROOT_REQUESTS,
  SESSION_REQUESTS,
} from "./protocol.ts";
import {
  CandidateSchema,
  checkSdp,
  ENVELOPE_STYLE,
  FIELD,
  isId,
  JSEP_STYLE,
  optional,
  required,
  TRICKLE_STYLE,
} from "./schemas.ts";
import { serverInfo } from "./server_info.ts";
import type { Session } from "./session.ts";
import type { IceCandidate } from "./media/types.ts";

const log = createLogger("dispatch");

/** Where a request came from. */
export interface RequestContext {
  owner: Owner;
  /** Ids from an HTTP path; they are injected into the body. */
  path?: { sessionId?: number; handleId?: number };
}

/** A reply, and work to run after it has been sent. */
export interface DispatchResult {
  reply: JsonObject;
  after?: () => void;
}

interface Envelope {
  /** The request name, lower-cased for matching. */
  janus: string;
  /** The request name as sent, for error texts (the reference quotes it unchanged). */
  name: string;
  transaction: string;
  body: JsonObject;
  sessionId: number | undefined;
}

/** Handles one Janus API request. Never throws: every failure becomes an error reply. */
export async function dispatch(
  gateway: Gateway,
  request: unknown,
  context: RequestContext,
): Promise<DispatchResult> {
  const started = performance.now();
  const result = await dispatchRequest(gateway, request, context);
  gateway.metrics.request(request, result.reply, (performance.now() - started) / 1000);
  return result;
}

async function dispatchRequest(
  gateway: Gateway,
  request: unknown,
  context: RequestContext,
): Promise<DispatchResult> {
  if (!isJsonObject(request)) {
    return {
      reply: new JanusError(JANUS_ERROR.INVALID_JSON_OBJECT, "JSON error: not an object").toReply(
        {},
      ),
    };
  }
  const pathConflict = injectPath(request, context.path);
  if (pathConflict) return { reply: pathConflict.toReply({}) };
  const rawSession = request.session_id;
  const readableSession = isId(rawSession) ? (rawSession as number) : undefined;
  const transaction = typeof request.transaction === "string" ? request.transaction : undefined;
  try {
    const envelope = readEnvelope(request, readableSession);
    return await route(gateway, envelope, context);
  } catch (e) {
    if (e instanceof JanusError) {
      return { reply: e.toReply({ sessionId: readableSession, transaction }) };
    }
    log.error(`unexpected failure: ${(e as Error).stack ?? e}`);
    return {
      reply: new JanusError(JANUS_ERROR.UNKNOWN, `Unexpected error: ${(e as Error).message}`)
        .toReply({ sessionId: readableSession, transaction }),
    };
  }
}

/** Copies HTTP path ids into the body; a body id that differs is 457 (as the reference). */
export function injectPath(
  body: JsonObject,
  path: RequestContext["path"],
): JanusError | undefined {
  const ids = [
    ["session_id", path?.sessionId, "session"],
    ["handle_id", path?.handleId, "handle"],
  ] as const;
  for (const [key, id, name] of ids) {
    if (id === undefined) continue;
    if (body[key] !== undefined && body[key] !== id) {
      return new JanusError(
        JANUS_ERROR.INVALID_REQUEST_PATH,
        `Conflicting ${name} ID (payload and path)`,
      );
    }
    body[key] = id;
  }
  return undefined;
}

function readEnvelope(body: JsonObject, sessionId: number | undefined): Envelope {
  const transaction = required(body, "transaction", FIELD.string, ENVELOPE_STYLE);
  const name = required(body, "janus", FIELD.string, ENVELOPE_STYLE);
  const janus = name.toLowerCase();
  optional(body, "id", FIELD.positiveInteger, ENVELOPE_STYLE);
  return { janus, name, transaction, body, sessionId };
}

function authorized(gateway: Gateway, body: JsonObject): boolean {
  const { api_secret, token_auth } = gateway.config.general;
  if (api_secret === undefined && !token_auth) return true;
  if (api_secret !== undefined && body.apisecret === api_secret) return true;
  if (token_auth && typeof body.token === "string" && gateway.tokens.has(body.token)) return true;
  return false;
}

/** True when auth is off or the GET query carries a valid secret or token. */
export function authorizedQuery(
  gateway: Gateway,
  query: { apisecret?: string | undefined; token?: string | undefined },
): boolean {
  return authorized(gateway, { apisecret: query.apisecret, token: query.token });
}

async function route(
  gateway: Gateway,
  env: Envelope,
  context: RequestContext,
): Promise<DispatchResult> {
  const { janus, name, transaction, body } = env;
  const rawHandle = body.handle_id;
  let handleId: number | undefined;
  if (rawHandle !== undefined && rawHandle !== 0) {
    if (!isId(rawHandle)) throw new JanusError(JANUS_ERROR.HANDLE_NOT_FOUND);
    handleId = rawHandle as number;
    if (env.sessionId === undefined) throw new JanusError(JANUS_ERROR.SESSION_NOT_FOUND);
  }
  if (env.sessionId === undefined) {
    if (janus === "info") return { reply: serverInfo(gateway, transaction) };
    if (janus === "ping") return { reply: { janus: "pong", transaction } };
    // At the root only `create` is checked for a secret: others are 457 first (as the reference).
    if (janus === "create") {
      if (!authorized(gateway, body)) throw new JanusError(JANUS_ERROR.UNAUTHORIZED);
      return create(gateway, env, context.owner);
    }
    throw new JanusError(
      JANUS_ERROR.INVALID_REQUEST_PATH,
      `Unhandled request '${name}' at this path`,
    );
  }
  if (!authorized(gateway, body)) throw new JanusError(JANUS_ERROR.UNAUTHORIZED);
  const session = gateway.sessions.get(env.sessionId);
  if (!session) {
    throw new JanusError(JANUS_ERROR.SESSION_NOT_FOUND, `No such session ${env.sessionId}`);
  }
  session.touch(gateway.clock.now());
  const ok = (extra: JsonObject = {}): DispatchResult => ({
    reply: { janus: "success", session_id: session.id, transaction, ...extra },
  });
  if (handleId === undefined) {
    if (!SESSION_REQUESTS.has(janus)) throw levelError(janus, name);
    switch (janus) {
      case "keepalive":
        return { reply: { janus: "ack", session_id: session.id, transaction } };
      case "claim":
        session.setOwner(context.owner);
        return ok();
      case "destroy":
        await gateway.destroySession(session, "destroy");
        return ok();
      default:
        return await attach(gateway, session, env);
    }
  }
  const handle = session.handles.get(handleId);
  if (!handle) {
    throw new JanusError(
      JANUS_ERROR.HANDLE_NOT_FOUND,
      `No such handle ${handleId} in session ${session.id}`,
    );
  }
  if (!HANDLE_REQUESTS.has(janus)) throw levelError(janus, name);
  switch (janus) {
    case "keepalive":
      return { reply: { janus: "ack", session_id: session.id, transaction } };
    case "claim":
      session.setOwner(context.owner);
      return ok();
    case "hangup":
      return { ...ok(), after: () => void handle.hangup("Janus API") };
    case "detach":
      return { ...ok(), after: () => void handle.detach() };
    case "trickle":
      return trickle(handle, env);
    default:
      return await message(gateway, handle, env);
  }
}

/** 457 for a verb of another level (or any verb at the root), else 453. */
function levelError(janus: string, name: string): JanusError {
  const known = SESSION_REQUESTS.has(janus) || HANDLE_REQUESTS.has(janus);
  if (known && !ROOT_REQUESTS.has(janus)) {
    return new JanusError(
      JANUS_ERROR.INVALID_REQUEST_PATH,
      `Unhandled request '${name}' at this path`,
    );
  }
  return new JanusError(JANUS_ERROR.UNKNOWN_REQUEST, `Unknown request '${name}'`);
}

function create(gateway: Gateway, env: Envelope, owner: Owner): DispatchResult {
  const id = optional(env.body, "id", FIELD.positiveInteger, ENVELOPE_STYLE);
  try {
    const session = gateway.createSession({ id, owner });
    return { reply: { janus: "success", transaction: env.transaction, data: { id: session.id } } };
  } catch (e) {
    if (e instanceof JanusError && e.code === JANUS_ERROR.SESSION_CONFLICT) {
      return { reply: e.toReply({ sessionId: id, transaction: env.transaction }) };
    }
    throw e;
  }
}

async function attach(gateway: Gateway, session: Session, env: Envelope): Promise<DispatchResult> {
  const pluginId = required(env.body, "plugin", FIELD.string);
  const opaqueId = optional(env.body, "opaque_id", FIELD.string);
  // Checked as the reference does; there is one event loop, so its value picks nothing.
  optional(env.body, "loop_index", FIELD.positiveInteger);
  const plugin = gateway.plugins.get(pluginId);
  if (!plugin) throw new JanusError(JANUS_ERROR.PLUGIN_NOT_FOUND, `No such plugin '${pluginId}'`);
  if (gateway.config.general.token_auth) {
    const token = env.body.token;
    if (typeof token !== "string" || !gateway.tokens.canAccess(token, pluginId)) {
      throw new JanusError(
        JANUS_ERROR.UNAUTHORIZED_PLUGIN,
        `Provided token can't access plugin '${pluginId}'`,
      );
    }
  }
  const token = typeof env.body.token === "string" ? env.body.token : undefined;
  const handle = await gateway.attach(session, { plugin, opaqueId, token });
  return {
    reply: {
      janus: "success",
      session_id: session.id,
      transaction: env.transaction,
      data: { id: handle.id },
    },
  };
}

function readJsep(handle: Handle, raw: unknown): Jsep | undefined {
  if (raw === undefined) return undefined;
  if (!isJsonObject(raw)) {
    throw new JanusError(JANUS_ERROR.INVALID_JSON_OBJECT, "Invalid jsep object");
  }
  const type = required(raw, "type", FIELD.string, JSEP_STYLE);
  const sdp = required(raw, "sdp", FIELD.string, JSEP_STYLE);
  if (type !== "offer" && type !== "answer") {
    throw new JanusError(
      JANUS_ERROR.JSEP_UNKNOWN_TYPE,
      `JSEP error: unknown message type '${type}'`,
    );
  }
  checkSdp(sdp);
  if (type === "answer" && !handle.webrtc.awaitingAnswer) {
    throw new JanusError(JANUS_ERROR.UNEXPECTED_ANSWER, "Unexpected ANSWER (did we offer?)");
  }
  return type === "offer" && handle.webrtc.negotiated ? { type, sdp, update: true } : { type, sdp };
}

/** The plugin's reply to a message; its own errors become its error event, others 458. */
async function pluginReply(
  handle: Handle,
  pluginSession: PluginSession,
  message: PluginMessage,
): Promise<PluginReply> {
  try {
    return await pluginSession.handleMessage(message);
  } catch (e) {
    if (e instanceof PluginError) return { kind: "success", data: handle.plugin.formatError(e) };
    if (e instanceof JanusError) throw e;
    log.warn(`[${handle.session.id}][${handle.id}] plugin failed: ${(e as Error).message}`);
    throw new JanusError(
      JANUS_ERROR.PLUGIN_MESSAGE,
      (e as Error).message || "Plugin didn't give a result",
    );
  }
}

async function message(
  gateway: Gateway,
  handle: Handle,
  env: Envelope,
): Promise<DispatchResult> {
  const body = required(env.body, "body", FIELD.object) as JsonObject;
  const jsep = readJsep(handle, env.body.jsep);
  const pluginSession = handle.pluginSession;
  if (!pluginSession) {
    throw new JanusError(JANUS_ERROR.PLUGIN_MESSAGE, "No plugin to handle this message");
  }
  const { transaction } = env;
  const sessionId = handle.session.id;
  if (jsep) gateway.events.jsep(handle.eventScope(), "remote", jsep.type, jsep.sdp);
  // `webrtcup` of the PeerConnection an answer completes waits until the plugin has the
  // message and its reply went out (the reference starts ICE only then).
  const release = jsep?.type === "answer" ? handle.holdUp() : () => {};
  let reply: PluginReply;
  try {
    if (jsep?.type === "answer") await handle.webrtc.acceptAnswer(jsep);
    if (jsep?.type === "offer") handle.noteOffer();
    const message = jsep ? { transaction, body, jsep } : { transaction, body };
    reply = await pluginReply(handle, pluginSession, message);
  } catch (e) {
    release();
    throw e;
  }
  if (reply.kind === "success") {
    return {
      after: release,
      reply: {
        janus: "success",
        session_id: sessionId,
        transaction,
        sender: handle.id,
        plugindata: { plugin: handle.plugin.info.id, data: reply.data },
      },
    };
  }
  const ack: JsonObject = { janus: "ack", session_id: sessionId, transaction };
  if (reply.hint !== undefined) ack.hint = reply.hint;
  const pending = reply.event;
  if (!pending) return { reply: ack, after: release };
  return {
    reply: ack,
    after: () => {
      // The event of the message is pushed before a `setupMedia` event the release brings.
      pending.then(
        (event) => {
          if (event) {
            handle.pushPluginEvent({ ...event, transaction: event.transaction ?? transaction });
          }
        },
        (e: unknown) => {
          const error = e instanceof PluginError
            ? e
            : new PluginError(499, (e as Error).message ?? String(e));
          handle.pushPluginEvent({ transaction, data: handle.plugin.formatError(error) });
        },
      );
      release();
    },
  };
}

function trickle(handle: Handle, env: Envelope): DispatchResult {
  const { body, transaction } = env;
  const hasOne = "candidate" in body;
  const hasMany = "candidates" in body;
  if (hasOne && hasMany) {
    throw new JanusError(JANUS_ERROR.INVALID_JSON, "Can't have both candidate and candidates");
  }
  if (!hasOne && !hasMany) {
    throw new JanusError(
      JANUS_ERROR.MISSING_MANDATORY_ELEMENT,
      "Missing mandatory element (candidate|candidates)",
    );
  }
  const ack: DispatchResult = {
    reply: { janus: "ack", session_id: handle.session.id, transaction },
  };
  const raw = hasOne ? [body.candidate] : body.candidates;
  if (!handle.webrtc.negotiated) {
    // Queued and acked without validation until offer/answer is done (as the reference).
    const list = Array.isArray(raw) ? raw : [];
    for (const c of list) void handle.webrtc.trickle(toCandidate(c));
    return ack;
  }
  if (!Array.isArray(raw)) {
    throw new JanusError(JANUS_ERROR.INVALID_ELEMENT_TYPE, "candidates is not an array");
  }
  const accepted = raw.map((c) => validateCandidate(c));
  for (const c of accepted) if (c !== "ignored") void handle.webrtc.trickle(c);
  return ack;
}

function toCandidate(raw: unknown): IceCandidate | null {
  const parsed = CandidateSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/** Validates a candidate once a PeerConnection exists; non-objects and `completed` end trickling. */
function validateCandidate(raw: unknown): IceCandidate | null | "ignored" {
  if (!isJsonObject(raw) || raw.completed === true) return null;
  required(raw, "candidate", FIELD.string, TRICKLE_STYLE);
  if (raw.sdpMid === undefined && raw.sdpMLineIndex === undefined) {
    throw new JanusError(
      JANUS_ERROR.MISSING_MANDATORY_ELEMENT,
      "Trickle error: missing mandatory element (sdpMid or sdpMLineIndex)",
    );
  }
  optional(raw, "sdpMid", FIELD.string, TRICKLE_STYLE);
  optional(raw, "sdpMLineIndex", FIELD.positiveInteger, TRICKLE_STYLE);
  const parsed = CandidateSchema.safeParse(raw);
  return parsed.success ? parsed.data : "ignored";
}
