/**
 * Janus requests generated from the request grammar: core verbs, admin verbs, and
 * EchoTest/VideoRoom bodies, with real ids (from the pool of what the fuzzer made)
 * or random ones.
 *
 * @module
 */
import type { Json, JsonObject } from "../core/protocol.ts";
import { ASYNC_REQUESTS } from "../plugins/videoroom/plugin.ts";
import { SYNC_REQUESTS } from "../plugins/videoroom/requests.ts";
import { ADMIN_SECRET, ECHOTEST, VALID_SDP } from "../tests/api/_util.ts";
import type { Rng } from "./prng.ts";

export { ADMIN_SECRET, ECHOTEST };
export const VIDEOROOM = "janus.plugin.videoroom";
/** Rooms the fuzzer may create and destroy (so the room list stays bounded). */
export const ROOM_POOL: readonly number[] = [1234, 9001, 9002, 9003];

/** Ids the fuzzer has seen live: sessions with their handles. */
export interface IdPool {
  sessions: number[];
  handles: Map<number, number[]>;
}

const CORE_VERBS = [
  "create",
  "attach",
  "message",
  "trickle",
  "keepalive",
  "hangup",
  "detach",
  "destroy",
  "claim",
  "info",
  "ping",
] as const;

const ADMIN_VERBS = [
  "info",
  "ping",
  "get_status",
  "list_sessions",
  "list_handles",
  "handle_info",
  "set_session_timeout",
  "set_log_level",
  "set_log_timestamps",
  "set_log_colors",
  "set_locking_debug",
  "set_refcount_debug",
  "set_libnice_debug",
  "set_min_nack_queue",
  "set_no_media_timer",
  "set_slowlink_threshold",
  "accept_new_sessions",
  "add_token",
  "list_tokens",
  "allow_token",
  "disallow_token",
  "remove_token",
  "query_eventhandler",
  "query_logger",
  "custom_event",
  "custom_logline",
  "resolve_address",
  "message_plugin",
  "hangup_webrtc",
  "detach_handle",
  "destroy_session",
  "loops_info",
  "start_pcap",
  "stop_pcap",
] as const;

/** VideoRoom request names: the plugin's own synchronous and asynchronous lists. */
const VIDEOROOM_REQUESTS: readonly string[] = [...SYNC_REQUESTS, ...ASYNC_REQUESTS];

/** A random or real session id. */
export function sessionId(rng: Rng, pool: IdPool): number {
  if (pool.sessions.length > 0 && rng.chance(0.7)) return rng.pick(pool.sessions);
  return rng.pick([rng.int(1, 2 ** 53 - 1), rng.int(1, 1000), 0, -1]);
}

/** A random or real handle id (of `session` when it has some). */
export function handleId(rng: Rng, pool: IdPool, session: number): number {
  const handles = pool.handles.get(session);
  if (handles && handles.length > 0 && rng.chance(0.7)) return rng.pick(handles);
  return rng.pick([rng.int(1, 2 ** 53 - 1), rng.int(1, 1000), 0]);
}

function candidate(rng: Rng): Json {
  return rng.weighted<Json>([
    [3, {
      candidate: "candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host",
      sdpMid: "0",
      sdpMLineIndex: 0,
    }],
    [1, { completed: true }],
    [1, null],
    [1, { candidate: rng.string(40) }],
  ]);
}

function echoBody(rng: Rng): JsonObject {
  const body: JsonObject = {};
  const fields: [string, () => Json][] = [
    ["audio", () => rng.chance(0.5)],
    ["video", () => rng.chance(0.5)],
    ["data", () => rng.chance(0.5)],
    ["bitrate", () => rng.int(0, 5_000_000)],
    ["substream", () => rng.int(0, 2)],
    ["temporal", () => rng.int(0, 2)],
    ["fallback", () => rng.int(0, 10_000_000)],
    ["min_delay", () => rng.int(0, 1000)],
    ["max_delay", () => rng.int(0, 1000)],
    ["videocodec", () => rng.pick(["vp8", "h264", "av1", rng.string()])],
  ];
  for (const [name, value] of fields) if (rng.chance(0.3)) body[name] = value();
  return body;
}

function videoroomBody(rng: Rng, pool: IdPool): JsonObject {
  const request = rng.pick(VIDEOROOM_REQUESTS);
  const body: JsonObject = { request };
  if (rng.chance(0.85)) body.room = rng.chance(0.8) ? rng.pick(ROOM_POOL) : rng.int(0, 2 ** 40);
  if (request === "join" || request === "joinandconfigure") {
    body.ptype = rng.pick(["publisher", "subscriber", "listener", rng.string()]);
  }
  const fields: [string, () => Json][] = [
    ["display", () => rng.string(30)],
    ["id", () => rng.int(1, 1000)],
    ["feed", () => rng.int(1, 1000)],
    ["streams", () => [{ feed: rng.int(1, 1000), mid: rng.pick(["0", "1", rng.string(3)]) }]],
    ["audio", () => rng.chance(0.5)],
    ["video", () => rng.chance(0.5)],
    ["bitrate", () => rng.int(0, 5_000_000)],
    ["secret", () => rng.string(8)],
    ["pin", () => rng.string(8)],
    ["description", () => rng.string(30)],
    ["publishers", () => rng.int(0, 100)],
    ["is_private", () => rng.chance(0.5)],
    ["allowed", () => [rng.string(8)]],
    ["action", () => rng.pick(["enable", "disable", "add", "remove", "nope"])],
    ["mid", () => rng.pick(["0", "1", rng.string(3)])],
    ["mute", () => rng.chance(0.5)],
    ["host", () => "127.0.0.1"],
    ["stream_id", () => rng.int(0, 100000)],
    ["private_id", () => rng.int(0, 100000)],
  ];
  for (const [name, value] of fields) if (rng.chance(0.12)) body[name] = value();
  void pool;
  return body;
}

/** A core API request. */
export function coreRequest(rng: Rng, pool: IdPool): JsonObject {
  const janus = rng.pick(CORE_VERBS);
  const req: JsonObject = { janus, transaction: rng.chance(0.95) ? rng.string(12) : rng.int(0, 9) };
  const level = janus === "create" || janus === "info" || janus === "ping"
    ? 0
    : janus === "attach" || janus === "destroy"
    ? 1
    : janus === "keepalive" || janus === "claim"
    ? rng.int(1, 2)
    : 2;
  // Verbs at the wrong level now and then.
  const at = rng.chance(0.1) ? rng.int(0, 2) : level;
  if (at >= 1) req.session_id = sessionId(rng, pool);
  if (at >= 2) req.handle_id = handleId(rng, pool, req.session_id as number);
  switch (janus) {
    case "create":
      if (rng.chance(0.1)) req.id = rng.int(1, 2 ** 53 - 1);
      break;
    case "attach":
      req.plugin = rng.weighted([[5, ECHOTEST], [4, VIDEOROOM], [1, "janus.plugin.nope"]]);
      if (rng.chance(0.2)) req.opaque_id = rng.string(20);
      if (rng.chance(0.05)) req.loop_index = rng.int(-1, 3);
      break;
    case "message":
      req.body = rng.chance(0.5) ? echoBody(rng) : videoroomBody(rng, pool);
      if (rng.chance(0.15)) {
        req.jsep = {
          type: rng.pick(["offer", "answer", "pranswer"]),
          sdp: rng.chance(0.8) ? VALID_SDP : "x",
        };
      }
      break;
    case "trickle":
      if (rng.chance(0.6)) req.candidate = candidate(rng);
      else req.candidates = [candidate(rng), candidate(rng)];
      break;
  }
  return req;
}

function adminFields(rng: Rng, janus: string): JsonObject {
  switch (janus) {
    case "set_session_timeout":
      return { timeout: rng.int(-2, 600) };
    case "set_log_level":
      return { level: rng.int(-1, 9) };
    case "set_log_timestamps":
      return { timestamps: rng.chance(0.5) };
    case "set_log_colors":
      return { colors: rng.chance(0.5) };
    case "set_locking_debug":
    case "set_refcount_debug":
    case "set_libnice_debug":
      return { debug: rng.chance(0.5) };
    case "set_min_nack_queue":
      return { min_nack_queue: rng.int(-1, 5000) };
    case "set_no_media_timer":
      return { no_media_timer: rng.int(-1, 60) };
    case "set_slowlink_threshold":
      return { slowlink_threshold: rng.int(-1, 100) };
    case "accept_new_sessions":
      return { accept: rng.chance(0.5) };
    case "add_token":
    case "allow_token":
    case "disallow_token":
    case "remove_token":
      return { token: rng.pick(["t1", "t2", rng.string(6)]), plugins: [ECHOTEST] };
    case "query_eventhandler":
      return { handler: rng.string(10), request: {} };
    case "query_logger":
      return { logger: rng.string(10), request: {} };
    case "custom_event":
      return { schema: rng.string(10), data: { a: rng.string(10) } };
    case "custom_logline":
      return { line: rng.string(30), level: rng.int(0, 9) };
    case "resolve_address":
      return { address: "localhost" };
    case "message_plugin":
      return {
        plugin: rng.weighted([[4, VIDEOROOM], [1, ECHOTEST], [1, rng.string(8)]]),
        request: {
          request: rng.pick(["list", "exists", "create", "destroy", "listparticipants"]),
          room: rng.pick(ROOM_POOL),
        },
      };
    case "handle_info":
      return rng.chance(0.3) ? { plugin_only: rng.chance(0.5) } : {};
    default:
      return {};
  }
}

/** An admin API request (with its session/handle ids in the body; the caller may move them to the path). */
export function adminRequest(rng: Rng, pool: IdPool): JsonObject {
  const janus = rng.pick(ADMIN_VERBS);
  const req: JsonObject = { janus, transaction: rng.string(12) };
  const secret = rng.weighted<string | undefined>([[8, ADMIN_SECRET], [1, "wrong"], [
    1,
    undefined,
  ]]);
  if (secret !== undefined) req.admin_secret = secret;
  const sessionLevel = ["list_handles", "destroy_session"].includes(janus);
  const handleLevel = ["handle_info", "hangup_webrtc", "detach_handle", "start_pcap", "stop_pcap"]
    .includes(janus);
  if (sessionLevel || handleLevel || rng.chance(0.1)) req.session_id = sessionId(rng, pool);
  if (handleLevel || rng.chance(0.05)) {
    req.handle_id = handleId(rng, pool, (req.session_id as number | undefined) ?? 0);
  }
  return { ...req, ...adminFields(rng, janus) };
}

/**
 * Keeps a request from steering the shared gateway somewhere that hides later findings or
 * leaves the machine: verbose logs, refused sessions, DNS look-ups, recordings, unbounded rooms.
 */
export function tame(value: unknown): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return;
  const o = value as JsonObject;
  const name = typeof o.janus === "string" ? o.janus.toLowerCase() : "";
  if (name === "set_log_level" && typeof o.level === "number" && o.level > 1) o.level = 1;
  if (name === "accept_new_sessions" && o.accept === false) o.accept = true;
  if (name === "custom_logline" && (typeof o.level !== "number" || o.level <= 3)) o.level = 5;
  if (name === "resolve_address" && typeof o.address === "string") o.address = "localhost";
  for (const body of [o.body, o.request]) tameBody(body);
}

function tameBody(body: unknown): void {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return;
  const b = body as JsonObject;
  for (
    const key of [
      "record",
      "rec_dir",
      "filename",
      "permanent",
      "recording_folder",
      "recording_base",
    ]
  ) {
    delete b[key];
  }
  if ("host" in b) b.host = "127.0.0.1";
  const request = typeof b.request === "string" ? b.request.toLowerCase() : "";
  // Rooms are created only from the pool, so the fuzz leaves a bounded room list.
  if (request === "create" && !ROOM_POOL.includes(b.room as number)) b.room = ROOM_POOL[1]!;
}
