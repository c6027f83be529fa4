/**
 * The `events` section of the configuration: Janus's event broadcasting (`events.broadcast`)
 * and its sample HTTP (`sampleevh`) and WebSocket (`wsevh`) handlers, with explicit bounds.
 *
 * @module
 */
import { z } from "zod";

/** One handler: where events go, which types, and how hard to try. */
export const EventHandlerConfigSchema = z.object({
  /** `http`: batches POSTed as JSON (sampleevh); `ws`: messages on a WebSocket (wsevh). */
  kind: z.enum(["http", "ws"]),
  /** The name `query_eventhandler` uses; default the reference's package of that kind. */
  name: z.string().min(1).optional(),
  /** Types wanted, as Janus's `events`: "all", "none" or e.g. "sessions,handles,jsep,media". */
  events: z.string().default("all"),
  /** `http(s)://...` for `http`, `ws(s)://...` for `ws`. */
  backend: z.string().regex(/^(https?|wss?):\/\//, "an http(s):// or ws(s):// URL"),
  backend_user: z.string().optional(),
  backend_pwd: z.string().optional(),
  /** WebSocket subprotocol (wsevh's default). */
  subprotocol: z.string().default("janus-event-handlers"),
  /** Send events as a JSON array of up to `max_nev` (Janus `grouping`), else one per message. */
  grouping: z.boolean().default(true),
  /** Most events in one POST or message (the reference groups 100). */
  max_nev: z.number().int().positive().default(100),
  /** Retries of a failed POST before its events are dropped (Janus `max_retransmissions`). */
  max_retransmissions: z.number().int().min(0).default(5),
  /** First retry delay in ms, doubled at each retry (Janus `retransmissions_backoff`). */
  retransmissions_backoff: z.number().int().positive().default(100),
  /** Events held while the backend is slow or down; past it the oldest are dropped. */
  max_queue: z.number().int().positive().default(10_000),
  /** Longest wait for one POST, in ms (the reference gives curl 10 s). */
  timeout_ms: z.number().int().positive().default(10_000),
  /** On shutdown, how long queued events may still be sent, in ms. */
  grace_ms: z.number().int().min(0).default(2000),
});

/** The `events` section. */
export const EventsConfigSchema = z.object({
  /** Off: no event is built anywhere (Janus `broadcast = false`). */
  enabled: z.boolean().default(false),
  handlers: z.array(EventHandlerConfigSchema).default([]),
  /**
   * Seconds between media `stats` events (type 32, subtype 3) of each PeerConnection, as
   * Janus's `stats_period`; 0 = none.
   */
  stats_period: z.number().int().min(0).max(3600).default(5),
}).prefault({});

/** One parsed handler configuration. */
export type EventHandlerConfig = z.infer<typeof EventHandlerConfigSchema>;
