/**
 * AudioBridge's part of the API's JSON Schema: a body per request, from the field lists the
 * plugin checks them with, and its data (replies, participant events, errors).
 *
 * @module
 */
import { z } from "zod";
import type { PluginApiSchema } from "../../core/schema/types.ts";
import { fieldsObject, pluginError } from "../_shared/api_schema.ts";
import {
  FILE_ID_FIELDS,
  PLAY_FILE_FIELDS,
  RECORD_FIELDS,
  RTP_FORWARD_FIELDS,
  STOP_FORWARD_FIELDS,
} from "./room_media_requests.ts";
import {
  ALLOWED_FIELDS,
  CHANGEROOM_FIELDS,
  CONFIGURE_FIELDS,
  CREATE_FIELDS,
  DESTROY_FIELDS,
  EDIT_FIELDS,
  ID_FIELD,
  ID_OPTIONAL,
  JOIN_FIELDS,
  MJRS_FIELDS,
  ROOM_FIELD,
  ROOM_OPTIONAL,
  SECRET_FIELD,
} from "./schemas.ts";

const request = <T extends string>(name: T) => ({ request: z.literal(name) });
const room = z.number().int().min(0);
const id = z.number().int().min(0);
const list = z.array(z.record(z.string(), z.unknown()));
const secret = SECRET_FIELD;
// Checked as a secret (JANUS_CHECK_SECRET), not in the field lists.
const pin = z.string().optional();

/** `janus.plugin.audiobridge`. */
export const AUDIOBRIDGE_API: PluginApiSchema = {
  plugin: "janus.plugin.audiobridge",
  request: z.union([
    fieldsObject([], { ...request("list"), admin_key: z.string().optional() }),
    fieldsObject([...CREATE_FIELDS, ...ROOM_OPTIONAL], {
      ...request("create"),
      admin_key: z.string().optional(),
    }),
    fieldsObject([...EDIT_FIELDS, ...ROOM_FIELD], request("edit")),
    fieldsObject([...DESTROY_FIELDS, ...secret, ...ROOM_FIELD], request("destroy")),
    fieldsObject(ROOM_FIELD, { request: z.enum(["exists", "listparticipants"]) }),
    fieldsObject([...ALLOWED_FIELDS, ...ROOM_FIELD], request("allowed")),
    fieldsObject([...secret, ...ROOM_FIELD, ...ID_FIELD], {
      request: z.enum(["kick", "mute", "unmute"]),
    }),
    fieldsObject([...secret, ...ROOM_FIELD], {
      request: z.enum(["kick_all", "mute_room", "unmute_room", "listforwarders"]),
    }),
    fieldsObject([...secret, ...ROOM_FIELD, ...PLAY_FILE_FIELDS], request("play_file")),
    fieldsObject([...secret, ...ROOM_FIELD, ...FILE_ID_FIELDS], {
      request: z.enum(["is_playing", "stop_file"]),
    }),
    fieldsObject([...secret, ...ROOM_FIELD, ...RECORD_FIELDS], request("enable_recording")),
    fieldsObject([...secret, ...ROOM_FIELD, ...MJRS_FIELDS], request("enable_mjrs")),
    fieldsObject([...secret, ...ROOM_FIELD, ...RTP_FORWARD_FIELDS], request("rtp_forward")),
    fieldsObject([...secret, ...ROOM_FIELD, ...STOP_FORWARD_FIELDS], request("stop_rtp_forward")),
    // Answered by events: `join` (with the client's offer), `configure` (maybe a new offer).
    fieldsObject([...JOIN_FIELDS, ...ROOM_FIELD, ...ID_OPTIONAL], { ...request("join"), pin }),
    fieldsObject(CONFIGURE_FIELDS, request("configure")),
    fieldsObject(CHANGEROOM_FIELDS, { ...request("changeroom"), pin }),
    fieldsObject([], { request: z.enum(["leave", "hangup", "resetdecoder"]) }),
  ]),
  data: z.union([
    pluginError("audiobridge"),
    z.object({
      audiobridge: z.enum(["created", "edited", "destroyed"]),
      room,
      permanent: z.boolean(),
    }),
    // The `destroyed` every participant of the room hears.
    z.object({ audiobridge: z.literal("destroyed"), room }),
    z.object({ audiobridge: z.literal("participants"), room, participants: list }),
    z.object({ audiobridge: z.literal("forwarders"), room, rtp_forwarders: list }),
    // The joiner's own (with its id) and the others' (without).
    z.object({
      audiobridge: z.enum(["joined", "roomchanged"]),
      room,
      id: id.optional(),
      participants: list,
      rtp: z.record(z.string(), z.unknown()).optional(),
    }),
    z.object({ audiobridge: z.literal("left"), room: room.optional(), id }),
    z.object({ audiobridge: z.literal("hangingup") }),
    z.object({ audiobridge: z.enum(["talking", "stopped-talking"]), room, id }),
    z.object({
      audiobridge: z.enum(["announcement-started", "announcement-stopped"]),
      room,
      file_id: z.string(),
    }),
    // `exists`, `list`, `allowed`, `kick`, `mute`, `play_file`, `rtp_forward` ... answer
    // `success` with their fields.
    z.looseObject({ audiobridge: z.literal("success") }),
    // `configure`'s `result: "ok"`, and what participants hear: `leaving`, `kicked`,
    // `kicked_all`, `muted`, a participant's changed `participants` entry.
    z.union([
      z.object({ audiobridge: z.literal("event"), result: z.literal("ok") }),
      z.object({
        audiobridge: z.literal("event"),
        room,
        leaving: id.optional(),
        kicked: id.optional(),
        kicked_all: id.optional(),
        muted: z.boolean().optional(),
        participants: list.optional(),
      }),
    ]),
  ]),
};
