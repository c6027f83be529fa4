/**
 * The Janus wire vocabulary: error codes with their default reasons.
 *
 * @module
 */

/** Janus core error codes (`apierror.h`), by name. */
export const JANUS_ERROR = {
  UNAUTHORIZED: 403,
  UNAUTHORIZED_PLUGIN: 405,
  TRANSPORT_SPECIFIC: 450,
  MISSING_REQUEST: 452,
  UNKNOWN_REQUEST: 453,
  INVALID_JSON: 454,
  INVALID_JSON_OBJECT: 455,
  MISSING_MANDATORY_ELEMENT: 456,
  INVALID_REQUEST_PATH: 457,
  SESSION_NOT_FOUND: 458,
  HANDLE_NOT_FOUND: 459,
  PLUGIN_NOT_FOUND: 460,
  PLUGIN_ATTACH: 461,
  PLUGIN_MESSAGE: 462,
  PLUGIN_DETACH: 463,
  JSEP_UNKNOWN_TYPE: 464,
  JSEP_INVALID_SDP: 465,
  TRICKLE_INVALID_STREAM: 466,
  INVALID_ELEMENT_TYPE: 467,
  SESSION_CONFLICT: 468,
  UNEXPECTED_ANSWER: 469,
  TOKEN_NOT_FOUND: 470,
  WEBRTC_STATE: 471,
  NOT_ACCEPTING_SESSIONS: 472,
  UNKNOWN: 490,
} as const;

/** Any Janus core error code. */
export type JanusErrorCode = typeof JANUS_ERROR[keyof typeof JANUS_ERROR];

/** Reasons used when an error is raised without a text of its own. */
export const DEFAULT_REASON: Readonly<Partial<Record<JanusErrorCode, string>>> = {
  403: "Unauthorized request (wrong or missing secret/token)",
  405: "Unauthorized access to plugin (token is not allowed to)",
  458: "Session not found",
  459: "Handle not found",
  469: "Unexpected ANSWER (no OFFER)",
  471: "Wrong WebRTC state",
  490: "Unknown error",
};

/** Requests accepted at the root level (no session). */
export const ROOT_REQUESTS: ReadonlySet<string> = new Set(["info", "ping", "create"]);
/** Requests accepted at the session level. */
export const SESSION_REQUESTS: ReadonlySet<string> = new Set([
  "attach",
  "keepalive",
  "claim",
  "destroy",
]);
/** Requests accepted at the handle level. */
export const HANDLE_REQUESTS: ReadonlySet<string> = new Set([
  "keepalive",
  "claim",
  "message",
  "trickle",
  "hangup",
  "detach",
]);

/** Messages that arrive on their own (events), as opposed to direct replies. */
export const ASYNC_EVENTS: ReadonlySet<string> = new Set([
  "event",
  "webrtcup",
  "media",
  "slowlink",
  "hangup",
  "detached",
  "trickle",
  "timeout",
]);

/** A JSON value as it travels on the wire. */
export type Json = string | number | boolean | null | Json[] | JsonObject;
/** A JSON object. */
export interface JsonObject {
  [key: string]: Json | undefined;
}

/** True for a plain (non-array, non-null) object. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
