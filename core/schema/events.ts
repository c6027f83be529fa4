/**
 * zod schema of what event handlers receive (events.c): the envelope, and the body of each
 * type as the reference words it.
 *
 * @module
 */
import { z } from "zod";

const id = z.number().int().positive();
const object = z.record(z.string(), z.unknown());
const stream = { stream_id: z.number().int(), component_id: z.number().int() };

const envelope = {
  emitter: z.string(),
  subtype: z.number().int().positive().optional(),
  timestamp: z.number().int(),
  session_id: id.optional(),
  handle_id: id.optional(),
  opaque_id: z.string().optional(),
};

const candidate = z.object({
  address: z.string(),
  port: z.number().int(),
  type: z.string(),
  transport: z.string(),
  family: z.number().int(),
});

/** One event-handler event. */
export const HandlerEventSchema = z.union([
  z.object({
    ...envelope,
    type: z.literal(1),
    session_id: id,
    event: z.object({
      name: z.enum(["created", "destroyed", "timeout"]),
      transport: z.object({ transport: z.string(), id: z.string() }).optional(),
    }),
  }),
  z.object({
    ...envelope,
    type: z.literal(2),
    session_id: id,
    handle_id: id,
    event: z.object({
      name: z.enum(["attached", "detached"]),
      plugin: z.string(),
      opaque_id: z.string().optional(),
      token: z.string().optional(),
    }),
  }),
  z.object({
    ...envelope,
    type: z.literal(4),
    event: z.object({ schema: z.string(), data: object }),
  }),
  z.object({
    ...envelope,
    type: z.literal(8),
    session_id: id,
    handle_id: id,
    event: z.object({
      owner: z.enum(["local", "remote"]),
      jsep: z.object({ type: z.enum(["offer", "answer"]), sdp: z.string() }),
    }),
  }),
  z.object({
    ...envelope,
    type: z.literal(16),
    subtype: z.number().int().min(1).max(6),
    session_id: id,
    handle_id: id,
    event: z.union([
      z.object({ ice: z.string(), ...stream }),
      z.object({ "local-candidate": z.string(), ...stream }),
      z.object({ "remote-candidate": z.string(), ...stream }),
      z.object({
        "selected-pair": z.string(),
        candidates: z.object({ local: candidate, remote: candidate }).optional(),
        ...stream,
      }),
      z.object({ dtls: z.string(), ...stream, retransmissions: z.number().int() }),
      z.object({ connection: z.enum(["webrtcup", "hangup"]), reason: z.string().optional() }),
    ]),
  }),
  z.object({
    ...envelope,
    type: z.literal(32),
    subtype: z.number().int().min(1).max(3),
    session_id: id,
    handle_id: id,
    event: z.union([
      z.object({
        media: z.enum(["audio", "video"]),
        mid: z.string(),
        receiving: z.boolean(),
        seconds: z.number().int().optional(),
      }),
      z.object({
        mid: z.string(),
        media: z.enum(["audio", "video"]),
        slow_link: z.enum(["uplink", "downlink"]),
        lost_lastsec: z.number().int(),
      }),
      // Periodic statistics (per m-line, or an array of them when combined).
      z.looseObject({ mid: z.string(), mindex: z.number().int(), media: z.string() }),
      z.array(object),
    ]),
  }),
  z.object({
    ...envelope,
    type: z.literal(64),
    event: z.object({ plugin: z.string(), data: object }),
  }),
  z.object({
    ...envelope,
    type: z.literal(128),
    event: z.object({ transport: z.string(), id: z.string(), data: object }),
  }),
  z.object({
    ...envelope,
    type: z.literal(256),
    subtype: z.union([z.literal(1), z.literal(2)]),
    event: z.union([
      z.object({ status: z.literal("started"), info: object }),
      z.object({ status: z.literal("shutdown"), signum: z.number().int().optional() }),
    ]),
  }),
]);
