/**
 * Who drains a session's events: the transport connection that created or last
 * claimed it.
 *
 * @module
 */
import type { JsonObject } from "./protocol.ts";

/** A transport connection that can own sessions. */
export interface Owner {
  /** Transport package id, as `handle_info` shows it (e.g. `janus.transport.http`). */
  readonly transport: string;
  /** Pushes one event to the connection; absent for long-poll transports (events queue). */
  readonly push?: (event: JsonObject) => void;
  /** Ids of the sessions this connection owns, kept by the core. */
  readonly sessions: Set<number>;
}

/** Creates an owner record for a connection. */
export function createOwner(
  transport: string,
  push?: (event: JsonObject) => void,
): Owner {
  return push ? { transport, push, sessions: new Set() } : { transport, sessions: new Set() };
}
