/**
 * Pieces shared by the admin API modules.
 *
 * @module
 */
import { JanusError } from "./errors.ts";
import { JANUS_ERROR, type JsonObject } from "./protocol.ts";

/** One admin request whose envelope passed validation. */
export interface AdminRequest {
  /** The request name, lower-cased for matching. */
  name: string;
  /** The request name as sent (the reference quotes it unchanged in errors). */
  raw: string;
  transaction: string;
  body: JsonObject;
}

/** The 457 for a request unknown at its level, quoting the name as sent. */
export function unhandled(req: AdminRequest): JanusError {
  return new JanusError(
    JANUS_ERROR.INVALID_REQUEST_PATH,
    `Unhandled request '${req.raw}' at this path`,
  );
}

/** An id as the reference prints it in reasons: as an unsigned 64-bit integer. */
export function formatId(id: number): string {
  return id < 0 ? (BigInt(id) + (1n << 64n)).toString() : String(id);
}
