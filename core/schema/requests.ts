/**
 * zod schemas of the Janus and Admin API requests, built from the field rules the core checks
 * requests with (`FIELD` in core/schemas.ts): what a valid request looks like, for the JSON
 * Schema. Authorization (`apisecret`, `token`, `admin_secret`) is a check of values, not of shape.
 *
 * @module
 */
import { z } from "zod";
import { CandidateSchema, FIELD } from "../schemas.ts";

const transaction = FIELD.string.schema;
const id = FIELD.positiveInteger.schema;
const object = z.record(z.string(), z.unknown());
const auth = { apisecret: z.string().optional(), token: z.string().optional() };

const jsep = z.object({ type: z.enum(["offer", "answer"]), sdp: z.string().regex(/^v=/) });
const candidate = z.union([CandidateSchema, z.object({ completed: z.literal(true) })]);

const base = { transaction, ...auth };
const session = { ...base, session_id: id.optional() };
const handle = { ...session, handle_id: id.optional() };

/** A Janus API request (the ids may come from the HTTP path instead of the body). */
export const CoreRequestSchema = z.union([
  z.object({ janus: z.enum(["info", "ping"]), transaction: transaction.optional() }),
  z.object({ janus: z.literal("create"), ...base, id: id.optional() }),
  z.object({ janus: z.enum(["keepalive", "claim", "destroy"]), ...session }),
  z.object({
    janus: z.literal("attach"),
    ...session,
    plugin: FIELD.string.schema,
    opaque_id: FIELD.string.schema.optional(),
    loop_index: id.optional(),
  }),
  z.object({ janus: z.enum(["detach", "hangup"]), ...handle }),
  z.object({ janus: z.literal("message"), ...handle, body: object, jsep: jsep.optional() }),
  z.union([
    z.object({ janus: z.literal("trickle"), ...handle, candidate }),
    z.object({ janus: z.literal("trickle"), ...handle, candidates: z.array(candidate) }),
  ]),
]);

const admin = { transaction, admin_secret: z.string().optional() };

/** An Admin API request. */
export const AdminRequestSchema = z.union([
  z.object({ janus: z.enum(["info", "ping"]), transaction: transaction.optional() }),
  z.object({
    janus: z.enum([
      "get_status",
      "list_sessions",
      "list_tokens",
      "loops_info",
      "list_handles",
      "handle_info",
      "destroy_session",
      "hangup_webrtc",
      "detach_handle",
      "start_pcap",
      "stop_pcap",
      "start_text2pcap",
      "stop_text2pcap",
    ]),
    ...admin,
    session_id: id.optional(),
    handle_id: id.optional(),
  }),
  z.object({ janus: z.literal("accept_new_sessions"), ...admin, accept: FIELD.boolean.schema }),
  z.object({
    janus: z.literal("set_session_timeout"),
    ...admin,
    session_id: id.optional(),
    timeout: z.number().int().min(-1),
  }),
  z.object({ janus: z.literal("set_log_level"), ...admin, level: z.number().int().min(0).max(7) }),
  z.object({
    janus: z.enum(["add_token", "allow_token", "disallow_token", "remove_token"]),
    ...admin,
    token: FIELD.string.schema,
    plugins: z.array(z.string()).optional(),
  }),
  z.object({
    janus: z.literal("message_plugin"),
    ...admin,
    plugin: FIELD.string.schema,
    request: object.optional(),
  }),
  z.object({
    janus: z.literal("query_eventhandler"),
    ...admin,
    handler: FIELD.string.schema,
    request: object.optional(),
  }),
  z.object({
    janus: z.literal("query_transport"),
    ...admin,
    transport: FIELD.string.schema,
    request: object.optional(),
  }),
  z.object({
    janus: z.literal("query_logger"),
    ...admin,
    logger: FIELD.string.schema,
    request: object.optional(),
  }),
  z.object({
    janus: z.literal("custom_event"),
    ...admin,
    schema: FIELD.string.schema,
    data: object,
  }),
  z.object({
    janus: z.literal("custom_logline"),
    ...admin,
    line: FIELD.string.schema,
    level: z.number().int().min(0).optional(),
  }),
  z.object({ janus: z.literal("resolve_address"), ...admin, address: FIELD.string.schema }),
  z.object({
    janus: z.literal("test_stun"),
    ...admin,
    address: FIELD.string.schema,
    port: FIELD.positiveInteger.schema,
    localport: FIELD.positiveInteger.schema.optional(),
  }),
  z.object({
    janus: z.enum([
      "set_log_timestamps",
      "set_log_colors",
      "set_locking_debug",
      "set_refcount_debug",
      "set_libnice_debug",
      "set_nack_optimizations",
    ]),
    ...admin,
  }).catchall(z.unknown()),
  z.object({
    janus: z.enum(["set_min_nack_queue", "set_no_media_timer", "set_slowlink_threshold"]),
    ...admin,
  }).catchall(z.unknown()),
]);
