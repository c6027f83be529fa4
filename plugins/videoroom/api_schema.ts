/**
 * VideoRoom's part of the API's JSON Schema: one body per request, built from the field lists
 * the plugin checks requests with, and its data (replies, events, errors).
 *
 * @module
 */
import { z } from "zod";
import type { PluginApiSchema } from "../../core/schema/types.ts";
import { fieldsObject, pluginError } from "../_shared/api_schema.ts";
import {
  BEFORE_ROOM_FIELDS,
  CONFIGURE_FIELDS,
  CREATE_FIELDS,
  EDIT_FIELDS,
  JOIN_FIELDS,
  PUBLISHER_JOIN_FIELDS,
  REQUEST_FIELDS,
  ROOM_FIELD,
  SUBSCRIBER_JOIN_FIELDS,
  UPDATE_FIELDS,
} from "./schemas.ts";

const request = <T extends string>(name: T) => ({ request: z.literal(name) });
const room = z.number().int().min(0);
const list = z.array(z.record(z.string(), z.unknown()));

/** A body per request, with the fields checked for it. */
const REQUESTS = [
  fieldsObject(CREATE_FIELDS, request("create")),
  fieldsObject([...ROOM_FIELD, ...EDIT_FIELDS], request("edit")),
  ...["destroy", "allowed", "listforwarders", "stop_rtp_forward"].map((name) =>
    fieldsObject([...ROOM_FIELD, ...(REQUEST_FIELDS[name] ?? [])], request(name))
  ),
  ...["kick", "moderate", "enable_recording", "rtp_forward"].map((name) =>
    fieldsObject(
      [...(BEFORE_ROOM_FIELDS[name] ?? []), ...ROOM_FIELD, ...(REQUEST_FIELDS[name] ?? [])],
      request(name),
    )
  ),
  fieldsObject([], request("list")),
  fieldsObject(ROOM_FIELD, request("exists")),
  fieldsObject(ROOM_FIELD, request("listparticipants")),
  fieldsObject([...ROOM_FIELD, ...JOIN_FIELDS, ...PUBLISHER_JOIN_FIELDS], {
    request: z.enum(["join", "joinandconfigure"]),
    ptype: z.literal("publisher"),
  }),
  fieldsObject([...ROOM_FIELD, ...JOIN_FIELDS, ...SUBSCRIBER_JOIN_FIELDS], {
    request: z.literal("join"),
    ptype: z.literal("subscriber"),
  }),
  fieldsObject(CONFIGURE_FIELDS, { request: z.enum(["configure", "publish"]) }),
  fieldsObject(UPDATE_FIELDS, { request: z.enum(["update", "subscribe", "unsubscribe"]) }),
  fieldsObject([], {
    request: z.enum(["unpublish", "leave", "start", "pause", "switch"]),
  }),
] as const;

/** `janus.plugin.videoroom`. */
export const VIDEOROOM_API: PluginApiSchema = {
  plugin: "janus.plugin.videoroom",
  request: z.union(REQUESTS),
  data: z.union([
    pluginError("videoroom"),
    z.object({ videoroom: z.enum(["created", "destroyed"]), room, permanent: z.boolean() }),
    z.object({ videoroom: z.literal("edited"), room }),
    z.object({ videoroom: z.literal("participants"), room, participants: list }),
    z.object({ videoroom: z.literal("forwarders"), room, publishers: list }),
    z.object({
      videoroom: z.literal("joined"),
      room,
      description: z.string().optional(),
      id: z.number().int(),
      private_id: z.number().int(),
      publishers: list,
      attendees: list.optional(),
    }),
    z.object({ videoroom: z.literal("attached"), room, streams: list }),
    z.object({ videoroom: z.literal("updated"), room, streams: list }),
    z.object({ videoroom: z.enum(["talking", "stopped-talking"]), room, id: z.number().int() }),
    // `list`, `exists`, `allowed`, `kick`, `moderate` ... answer `success` with their fields.
    z.looseObject({ videoroom: z.literal("success") }),
    // Asynchronous results and notifications: `configured`, `started`, `unpublished`,
    // `leaving`, `publishers`, `joining`, `paused`, `switched`, ...
    z.looseObject({
      videoroom: z.enum(["event", "slow_link", "rtp_forward", "stop_rtp_forward"]),
      room: room.optional(),
    }),
  ]),
};
