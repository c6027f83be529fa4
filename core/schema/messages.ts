/**
 * zod schemas of what the gateway sends: Janus API replies and events (janus-core-api.md) and
 * Admin API replies. Plugin data is an object here; each plugin's own schema refines it. Messages
 * are closed (no other keys) except server info and admin `success`, whose fields vary by request.
 *
 * @module
 */
import { z } from "zod";

const id = z.number().int().positive();
const object = z.record(z.string(), z.unknown());
const transaction = z.string();

/** `error`: a code and a reason; `transaction` and `session_id` when they were readable. */
const ErrorReply = z.object({
  janus: z.literal("error"),
  session_id: id.optional(),
  transaction: transaction.optional(),
  error: z.object({ code: z.number().int(), reason: z.string() }),
});

const plugindata = z.object({ plugin: z.string(), data: object });
const jsep = z.object({ type: z.enum(["offer", "answer"]), sdp: z.string() });

/** `server_info` (GET /info, `info` on both APIs). */
export const ServerInfoSchema = z.looseObject({
  janus: z.literal("server_info"),
  transaction: transaction.optional(),
  name: z.string(),
  version: z.number().int(),
  version_string: z.string(),
  author: z.string(),
  "session-timeout": z.number(),
  "reclaim-session-timeout": z.number(),
  "candidates-timeout": z.number(),
  "server-name": z.string(),
  api_secret: z.boolean(),
  auth_token: z.boolean(),
  event_handlers: z.boolean(),
  dependencies: object,
  transports: object,
  events: object,
  loggers: object,
  plugins: z.record(
    z.string(),
    z.object({
      name: z.string(),
      author: z.string(),
      description: z.string(),
      version_string: z.string(),
      version: z.number().int(),
    }),
  ),
});

/** Every message of the Janus API: replies, then asynchronous events. */
export const CoreMessageSchema = z.union([
  ServerInfoSchema,
  ErrorReply,
  z.object({ janus: z.literal("pong"), transaction: transaction.optional() }),
  // `create` and `attach` answer their new id; others a bare success.
  z.object({
    janus: z.literal("success"),
    session_id: id.optional(),
    transaction,
    data: z.object({ id }).optional(),
  }),
  // A plugin's synchronous answer.
  z.object({
    janus: z.literal("success"),
    session_id: id,
    transaction,
    sender: id,
    plugindata,
  }),
  z.object({
    janus: z.literal("ack"),
    session_id: id,
    transaction,
    hint: z.string().optional(),
  }),
  z.object({
    janus: z.literal("event"),
    session_id: id,
    transaction: transaction.optional(),
    sender: id,
    plugindata,
    jsep: jsep.optional(),
  }),
  z.object({ janus: z.literal("webrtcup"), session_id: id, sender: id }),
  z.object({
    janus: z.literal("media"),
    session_id: id,
    sender: id,
    mid: z.string(),
    type: z.enum(["audio", "video"]),
    receiving: z.boolean(),
    seconds: z.number().int().optional(),
    substream: z.number().int().optional(),
  }),
  z.object({
    janus: z.literal("slowlink"),
    session_id: id,
    sender: id,
    mid: z.string(),
    media: z.enum(["audio", "video"]),
    uplink: z.boolean(),
    lost: z.number().int(),
  }),
  z.object({
    janus: z.literal("trickle"),
    session_id: id,
    sender: id,
    candidate: z.union([
      z.object({ sdpMid: z.string(), sdpMLineIndex: z.number().int(), candidate: z.string() }),
      z.object({ completed: z.literal(true) }),
    ]),
  }),
  z.object({
    janus: z.literal("hangup"),
    session_id: id,
    sender: id,
    reason: z.string().optional(),
  }),
  z.object({ janus: z.literal("detached"), session_id: id, sender: id }),
  z.object({ janus: z.literal("timeout"), session_id: id }),
  z.object({ janus: z.literal("keepalive") }),
]);

/** Every reply of the Admin API (`success` carries the request's own fields). */
export const AdminMessageSchema = z.union([
  ServerInfoSchema,
  ErrorReply,
  z.object({ janus: z.literal("pong"), transaction: transaction.optional() }),
  z.looseObject({
    janus: z.literal("success"),
    transaction,
    session_id: id.optional(),
    handle_id: id.optional(),
    status: object.optional(),
    sessions: z.array(id).optional(),
    handles: z.array(id).optional(),
    info: object.optional(),
    timeout: z.number().int().optional(),
    // `message_plugin` and `query_eventhandler`: the plugin's or handler's own answer.
    response: object.optional(),
  }),
]);
