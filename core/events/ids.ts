/**
 * Transport instance ids for events: the reference hashes the connection's pointer into a
 * decimal string; here each connection (owner) gets a random one, kept as long as it lives.
 *
 * @module
 */
import { randomId } from "../ids.ts";
import type { Owner } from "../owner.ts";

const IDS = new WeakMap<Owner, string>();

/** A fresh id, for a connection without an owner record (one HTTP request). */
export function newTransportId(): string {
  return String(randomId());
}

/** The id of `owner`'s connection, the same for its whole life. */
export function transportInstanceId(owner: Owner): string {
  let id = IDS.get(owner);
  if (id === undefined) {
    id = newTransportId();
    IDS.set(owner, id);
  }
  return id;
}
