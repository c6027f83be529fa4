/**
 * Janus's event-handler vocabulary (events.h): the type bits, the subtypes, the labels of an
 * `events = "..."` filter, and the shape every handler receives.
 *
 * @module
 */
import type { JsonObject } from "../protocol.ts";

/** Event types: bits of a handler's mask (Janus `JANUS_EVENT_TYPE_*`). */
export const EVENT_TYPE = {
  session: 1,
  handle: 2,
  external: 4,
  jsep: 8,
  webrtc: 16,
  media: 32,
  plugin: 64,
  transport: 128,
  core: 256,
} as const;

/** One event type bit. */
export type EventType = (typeof EVENT_TYPE)[keyof typeof EVENT_TYPE];

/** Subtypes (Janus `JANUS_EVENT_SUBTYPE_*`); 0 is left out of the event. */
export const EVENT_SUBTYPE = {
  coreStartup: 1,
  coreShutdown: 2,
  webrtcIce: 1,
  webrtcLocalCandidate: 2,
  webrtcRemoteCandidate: 3,
  webrtcSelectedPair: 4,
  webrtcDtls: 5,
  webrtcState: 6,
  mediaState: 1,
  mediaSlowLink: 2,
  mediaStats: 3,
} as const;

/** Every type at once (`events = "all"`). */
export const ALL_EVENTS = 0x1ff;

/** The labels of an `events` filter, as the reference spells them (events.c). */
const LABELS: Readonly<Record<string, number>> = {
  sessions: EVENT_TYPE.session,
  handles: EVENT_TYPE.handle,
  external: EVENT_TYPE.external,
  jsep: EVENT_TYPE.jsep,
  webrtc: EVENT_TYPE.webrtc,
  media: EVENT_TYPE.media,
  plugins: EVENT_TYPE.plugin,
  transports: EVENT_TYPE.transport,
  core: EVENT_TYPE.core,
};

/** The labels a filter may name (plus `all` and `none`). */
export const EVENT_LABELS: readonly string[] = Object.keys(LABELS);

/**
 * The mask of a comma-separated filter ("sessions,handles,jsep", "all", "none"), as
 * `janus_events_edit_events_mask`: case-insensitive, blanks trimmed, unknown labels ignored.
 */
export function parseEventMask(list: string): number {
  const trimmed = list.trim().toLowerCase();
  if (trimmed === "none") return 0;
  if (trimmed === "all") return ALL_EVENTS;
  let mask = 0;
  for (const label of trimmed.split(",")) mask |= LABELS[label.trim()] ?? 0;
  return mask;
}

/**
 * One event as handlers get it (events.c): `emitter`, `type`, `subtype` (when not 0),
 * `timestamp` (wall clock, µs), the ids it concerns, and its body.
 */
export interface GatewayEvent extends JsonObject {
  emitter: string;
  type: EventType;
  timestamp: number;
  event: JsonObject;
}

/** A destination of events: filters by its mask, never blocks the caller of `receive`. */
export interface EventHandler {
  /** The package name `query_eventhandler` addresses (`janus.eventhandler.sampleevh` ...). */
  readonly name: string;
  /** The types it wants (bits of `EVENT_TYPE`); may change through `query`. */
  readonly mask: number;
  /** Takes one event; must return at once (queue it, send later). */
  receive(event: GatewayEvent): void;
  /** What server info lists under `events` (name, author, description, version). */
  describe(): JsonObject;
  /** Admin `query_eventhandler`: the `response` object. */
  query(request: JsonObject | undefined): JsonObject;
  /** Sends what is queued for at most `graceMs`, then stops. */
  close(graceMs?: number): Promise<void>;
}
