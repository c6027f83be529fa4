/**
 * Publisher streams as VideoRoom events show them, and the `descriptions` they carry.
 *
 * @module
 */
import type { JsonObject } from "../../core/plugin.ts";
import type { FeedStream } from "./room.ts";

/** A publisher stream as events show it. */
export function streamJson(s: FeedStream, talking: boolean): JsonObject {
  const out: JsonObject = { type: s.type, mindex: s.mindex, mid: s.mid };
  if (s.description !== undefined) out.description = s.description;
  if (s.codec !== undefined) out.codec = s.codec;
  if (s.fec) out.fec = true;
  if (s.moderated) out.moderated = true;
  if (talking && s.type === "audio") out.talking = false;
  return out;
}

/**
 * A publisher stream as event handlers' `published` / `updated` show it: codecs of audio and
 * video; `moderated` only on video (the reference's).
 */
export function handlerStreamJson(s: FeedStream): JsonObject {
  const out: JsonObject = { type: s.type, mindex: s.mindex, mid: s.mid };
  if (s.description !== undefined) out.description = s.description;
  if (s.type !== "data" && s.codec !== undefined) out.codec = s.codec;
  if (s.type === "video" && s.moderated) out.moderated = true;
  return out;
}

/** `descriptions:[{mid, description}]` of `publish` / `configure`, by mid. */
export function readDescriptions(raw: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (!Array.isArray(raw)) return out;
  for (const d of raw) {
    const entry = d as { mid?: unknown; description?: unknown };
    if (typeof entry?.mid === "string" && typeof entry.description === "string") {
      out.set(entry.mid, entry.description);
    }
  }
  return out;
}
