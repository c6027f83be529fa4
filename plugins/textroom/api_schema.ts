/**
 * TextRoom's part of the API's JSON Schema: the Janus API bodies (management requests and the
 * PeerConnection's `setup`/`ack`/`restart`), from the field lists the plugin checks them with,
 * and its data. Data-channel messages are not Janus API messages and are not described here.
 *
 * @module
 */
import { z } from "zod";
import type { PluginApiSchema } from "../../core/schema/types.ts";
import { fieldsObject } from "../_shared/api_schema.ts";
import {
  ALLOWED_FIELDS,
  ANNOUNCEMENT_FIELDS,
  CREATE_FIELDS,
  DESTROY_FIELDS,
  EDIT_FIELDS,
  KICK_FIELDS,
  ROOM_FIELD,
  ROOM_OPTIONAL,
} from "./schemas.ts";

const request = <T extends string>(name: T) => ({ request: z.literal(name) });
const room = z.number().int().min(0);
const list = z.array(z.record(z.string(), z.unknown()));
const adminKey = { admin_key: z.string().optional() };

/** `janus.plugin.textroom`. */
export const TEXTROOM_API: PluginApiSchema = {
  plugin: "janus.plugin.textroom",
  request: z.union([
    fieldsObject([], { request: z.enum(["setup", "ack", "restart"]) }),
    fieldsObject([], { ...request("list"), ...adminKey }),
    fieldsObject(ROOM_FIELD, { request: z.enum(["listparticipants", "exists"]) }),
    fieldsObject([...CREATE_FIELDS, ...ROOM_OPTIONAL], { ...request("create"), ...adminKey }),
    fieldsObject([...EDIT_FIELDS, ...ROOM_FIELD], request("edit")),
    fieldsObject([...DESTROY_FIELDS, ...ROOM_FIELD], {
      ...request("destroy"),
      secret: z.string().optional(),
    }),
    fieldsObject([...ANNOUNCEMENT_FIELDS, ...ROOM_FIELD], request("announcement")),
    fieldsObject([...ALLOWED_FIELDS, ...ROOM_FIELD], request("allowed")),
    fieldsObject([...KICK_FIELDS, ...ROOM_FIELD], request("kick")),
  ]),
  data: z.union([
    // Janus API errors are `event`, request errors `error` (the reference's two paths).
    z.object({
      textroom: z.enum(["event", "error"]),
      error_code: z.number().int(),
      error: z.string(),
    }),
    z.object({ textroom: z.literal("event"), result: z.literal("ok") }),
    z.object({ textroom: z.literal("success"), list }),
    z.object({ textroom: z.literal("success"), room, exists: z.boolean() }),
    z.object({ textroom: z.literal("success"), room, allowed: z.array(z.string()).optional() }),
    z.object({ textroom: z.literal("success") }),
    // `listparticipants` answers without the plugin's key.
    z.object({ room, participants: list }),
    z.object({
      textroom: z.enum(["created", "edited", "destroyed"]),
      room,
      permanent: z.boolean(),
    }),
    // `kick`: the reference's key, typo included.
    z.object({ textbridge: z.literal("success") }),
  ]),
};
