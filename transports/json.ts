/**
 * Wire encoding shared by the transports: Janus pretty-prints with 3 spaces.
 *
 * @module
 */
import type { JsonObject } from "../core/protocol.ts";

/** Serialises a reply or event the way the reference does (`json = "indented"`). */
export function encode(value: JsonObject | JsonObject[]): string {
  return JSON.stringify(value, null, 3);
}

/** Parses a request; undefined with a reason when it is not JSON. */
export function parseRequest(
  text: string,
): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}
