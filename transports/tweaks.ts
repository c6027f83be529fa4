/**
 * What the admin API's `query_transport` can change or read on a transport, as the
 * reference's HTTP and WebSocket transports answer it: `configure` (`json` format, `events`
 * to handlers) and `connections`. Each transport keeps one `TransportTweaks`, shared by its
 * Janus API and admin listeners as in the reference.
 *
 * @module
 */
import type { JsonObject } from "../core/protocol.ts";
import type { JsonFormat } from "./json.ts";

/** A transport's settings that `configure` changes at run time. */
export interface TransportTweaks {
  json: JsonFormat;
  /** Tell event handlers of requests and connections (the transport's `events` setting). */
  events: boolean;
}

/** Error codes of the reference transports' query answers (janus_http.c, janus_websockets.c). */
const QUERY_ERROR = { invalidRequest: 411, missing: 412, invalid: 413 } as const;

const JSON_FORMATS: readonly string[] = ["indented", "plain", "compact"];

/** How one transport answers queries. */
export interface TransportQueryOptions {
  /** The core's event handlers are on (else `events: true` comes back with a note). */
  eventsEnabled: () => boolean;
  /** The `connections` answer's fields after `result`. */
  connections: () => JsonObject;
  /** Accepts `logging` (the WebSocket transport's libwebsockets log mask; no effect here). */
  logging?: boolean;
}

/** The reference's "should be" wording of a field's expected kind. */
function typeError(name: string, expected: string): { code: number; reason: string } {
  return {
    code: QUERY_ERROR.invalid,
    reason: `Invalid element type (${name} should be ${expected})`,
  };
}

/**
 * A transport's `query_transport` handler. Like the reference, a `configure` with a bad field
 * still applies the rest and answers `result: 200` with the error beside it.
 */
export function transportQuery(
  tweaks: TransportTweaks,
  options: TransportQueryOptions,
): (request: JsonObject | undefined) => JsonObject {
  return (request) => {
    const response: JsonObject = {};
    let error: { code: number; reason: string } | undefined;
    const name = request?.request;
    if (name === undefined) {
      error = { code: QUERY_ERROR.missing, reason: "Missing mandatory element (request)" };
    } else if (typeof name !== "string") {
      error = typeError("request", "a string");
    } else if (name.toLowerCase() === "configure" && request) {
      error = configure(tweaks, request, options, response);
    } else if (name.toLowerCase() === "connections") {
      response.result = 200;
      Object.assign(response, options.connections());
    } else {
      error = { code: QUERY_ERROR.invalidRequest, reason: `Unknown request '${name}'` };
    }
    if (error) {
      response.error_code = error.code;
      response.error = error.reason;
    }
    return response;
  };
}

function configure(
  tweaks: TransportTweaks,
  request: JsonObject,
  options: TransportQueryOptions,
  response: JsonObject,
): { code: number; reason: string } | undefined {
  const { events, json, logging } = request;
  let error: { code: number; reason: string } | undefined;
  if (events !== undefined && typeof events !== "boolean") error = typeError("events", "a boolean");
  else if (json !== undefined && typeof json !== "string") error = typeError("json", "a string");
  else if (options.logging && logging !== undefined && typeof logging !== "string") {
    error = typeError("logging", "a string");
  }
  response.result = 200;
  const notes: string[] = [];
  // As the reference: anything but `true` turns the notifications off.
  const wanted = events === true;
  if (wanted && !options.eventsEnabled()) notes.push("Event handlers disabled at the core level");
  tweaks.events = wanted;
  if (typeof json === "string") {
    const format = json.toLowerCase();
    if (JSON_FORMATS.includes(format)) tweaks.json = format as JsonFormat;
    else notes.push("Ignored unsupported indentation format");
  }
  if (notes.length > 0) response.notes = notes;
  return error;
}
