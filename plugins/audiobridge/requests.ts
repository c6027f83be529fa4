/**
 * The requests answered at once (Janus API `message` and admin `message_plugin`): room
 * management, lists, moderation (kick, mute), as the reference words and orders them.
 *
 * @module
 */
import { createLogger } from "../../core/log.ts";
import { type JsonObject, PluginError } from "../../core/plugin.ts";
import { answerAllowed } from "../_shared/allowed.ts";
import { AUDIOBRIDGE_ERROR, noConfigFile, noSuchUser, notJoined, notStrings } from "./errors.ts";
import type { RoomStore } from "./persist.ts";
import { participantEntry, Room, type RoomProps, type RoomRegistry } from "./room.ts";
import { answerRoomMedia } from "./room_media_requests.ts";
import {
  ALLOWED_FIELDS,
  check,
  checkSecret,
  CREATE_FIELDS,
  DESTROY_FIELDS,
  EDIT_FIELDS,
  ID_FIELD,
  MJRS_FIELDS,
  ROOM_FIELD,
  ROOM_OPTIONAL,
  SAMPLING_RATES,
  SECRET_FIELD,
} from "./schemas.ts";

const log = createLogger("audiobridge");

/** What the requests share. */
export interface AudioBridgeContext {
  rooms: RoomRegistry;
  store: RoomStore;
  adminKey: string | undefined;
  maxRooms: number;
  maxParticipants: number;
  maxForwarders: number;
  /** Where plain-RTP participants' sockets bind (`local_ip`, `rtp_port_range`). */
  plainRtp: { ip: string; portRange: { min: number; max: number } };
}

/** The handle a request came from (admin `message_plugin`: in no room, told with no ids). */
export interface Caller {
  /** Its own participant is in a room (`resetdecoder`). */
  readonly inRoom: boolean;
  /** Tells event handlers, from this handle (the reference's `notify_event`). */
  notify(data: JsonObject): void;
}

/** Requests answered at once. */
export const SYNC_REQUESTS: ReadonlySet<string> = new Set([
  "create",
  "edit",
  "destroy",
  "exists",
  "list",
  "allowed",
  "kick",
  "kick_all",
  "listparticipants",
  "mute",
  "unmute",
  "mute_room",
  "unmute_room",
  "resetdecoder",
  "rtp_forward",
  "stop_rtp_forward",
  "listforwarders",
  "play_file",
  "is_playing",
  "stop_file",
  "enable_recording",
  "enable_mjrs",
]);

/** Answers one synchronous request (`request` is checked and lower case). */
export async function answerRequest(
  ctx: AudioBridgeContext,
  request: string,
  root: JsonObject,
  caller?: Caller,
): Promise<JsonObject> {
  switch (request) {
    case "create":
      return told(await create(ctx, root), caller);
    case "edit":
      return told(await edit(ctx, root), caller);
    case "destroy":
      return told(await destroy(ctx, root), caller);
    case "exists":
      check(root, ROOM_FIELD);
      return {
        audiobridge: "success",
        room: root.room as number,
        exists: ctx.rooms.rooms.has(root.room as number),
      };
    case "list":
      return list(ctx, root);
    case "allowed":
      return allowed(ctx, root);
    case "kick":
      return kick(ctx, root, caller);
    case "kick_all":
      return kickAll(ctx, root, caller);
    case "listparticipants": {
      check(root, ROOM_FIELD);
      const room = ctx.rooms.get(root.room as number);
      return {
        audiobridge: "participants",
        room: room.id,
        participants: [...room.participants.values()].map((m) => participantEntry(m, room)),
      };
    }
    case "mute":
    case "unmute":
      return mute(ctx, root, request === "mute", caller);
    case "mute_room":
    case "unmute_room":
      return muteRoom(ctx, root, request === "mute_room", caller);
    case "resetdecoder":
      if (!caller?.inRoom) throw notJoined("Can't reset (not in a room)");
      return { audiobridge: "success" };
    case "play_file":
    case "is_playing":
    case "stop_file":
    case "enable_recording":
    case "rtp_forward":
    case "stop_rtp_forward":
    case "listforwarders":
      return await answerRoomMedia(ctx, request, root);
    case "enable_mjrs":
      return await enableMjrs(ctx, root);
  }
  throw new PluginError(AUDIOBRIDGE_ERROR.INVALID_REQUEST, `Unknown request '${request}'`);
}

/** Tells event handlers of a room created, edited or destroyed: `{event, room}`. */
function told(reply: JsonObject, caller: Caller | undefined): JsonObject {
  caller?.notify({ event: reply.audiobridge as string, room: reply.room as number });
  return reply;
}

/** A room in a room-scoped admin request: checks, lookup and the secret. */
function adminRoom(ctx: AudioBridgeContext, root: JsonObject): Room {
  check(root, SECRET_FIELD);
  check(root, ROOM_FIELD);
  const room = ctx.rooms.get(root.room as number);
  checkSecret(room.props.secret, root, "secret");
  return room;
}

function list(ctx: AudioBridgeContext, root: JsonObject): JsonObject {
  // Private rooms show to whoever gives the admin key.
  let all = false;
  if (ctx.adminKey !== undefined && root.admin_key !== undefined) {
    checkSecret(ctx.adminKey, root, "admin_key");
    all = true;
  }
  const rooms = [...ctx.rooms.rooms.values()].filter((r) => all || !r.props.is_private);
  return { audiobridge: "success", list: rooms.map((r) => r.listEntry()) };
}

function allowed(ctx: AudioBridgeContext, root: JsonObject): JsonObject {
  check(root, ALLOWED_FIELDS);
  check(root, ROOM_FIELD);
  return answerAllowed(root, "audiobridge", AUDIOBRIDGE_ERROR.INVALID_ELEMENT, () => {
    const room = ctx.rooms.get(root.room as number);
    checkSecret(room.props.secret, root, "secret");
    return room;
  });
}

function kick(ctx: AudioBridgeContext, root: JsonObject, caller?: Caller): JsonObject {
  check(root, SECRET_FIELD);
  check(root, ROOM_FIELD);
  check(root, ID_FIELD);
  const room = ctx.rooms.get(root.room as number);
  checkSecret(room.props.secret, root, "secret");
  const id = root.id as number;
  const target = room.participants.get(id);
  if (!target) throw noSuchUser(id, room.id);
  // Everyone hears it, the kicked user included; then its PeerConnection goes.
  room.notify({ audiobridge: "event", room: room.id, kicked: id });
  caller?.notify({ event: "kicked", room: room.id, id });
  target.evict();
  return { audiobridge: "success" };
}

function kickAll(ctx: AudioBridgeContext, root: JsonObject, caller?: Caller): JsonObject {
  const room = adminRoom(ctx, root);
  for (const m of [...room.participants.values()]) {
    m.push({ audiobridge: "event", room: room.id, kicked_all: m.id });
    caller?.notify({ event: "kicked_all", room: room.id, id: m.id });
    m.evict();
  }
  return { audiobridge: "success" };
}

function mute(
  ctx: AudioBridgeContext,
  root: JsonObject,
  muted: boolean,
  caller?: Caller,
): JsonObject {
  check(root, SECRET_FIELD);
  check(root, ROOM_FIELD);
  check(root, ID_FIELD);
  const room = ctx.rooms.get(root.room as number);
  checkSecret(room.props.secret, root, "secret");
  const id = root.id as number;
  const target = room.participants.get(id);
  if (!target) throw noSuchUser(id, room.id);
  // Nothing to change: the reference answers without the room.
  if (target.muted === muted) return { audiobridge: "success" };
  target.setMuted(muted);
  room.notify({
    audiobridge: "event",
    room: room.id,
    participants: [participantEntry(target, room, false)],
  });
  // The request's name as the client spelled it (the reference's `request_text`).
  caller?.notify({ event: root.request as string, room: room.id, id });
  return { audiobridge: "success", room: room.id };
}

function muteRoom(
  ctx: AudioBridgeContext,
  root: JsonObject,
  muted: boolean,
  caller?: Caller,
): JsonObject {
  const room = adminRoom(ctx, root);
  // Already in that state: the reference's reply names no room.
  if (room.muted === muted) return { audiobridge: "success" };
  room.muted = muted;
  for (const m of room.participants.values()) m.roomMuteChanged();
  room.notify({ audiobridge: "event", room: room.id, muted });
  caller?.notify({ event: root.request as string, room: room.id });
  return { audiobridge: "success", room: room.id };
}

/**
 * `enable_mjrs`: every participant's own audio recorded (or not) from now on, as the reference:
 * `mjrs` and `mjrs_dir` checked first, then the room (a missing or non-integer one is room 0)
 * and its secret; the folder changes only when turning on; participants are told only when
 * the room's setting changes (then also those recording on their own `record` stop).
 */
async function enableMjrs(ctx: AudioBridgeContext, root: JsonObject): Promise<JsonObject> {
  check(root, MJRS_FIELDS);
  const id = Number.isInteger(root.room) ? root.room as number : 0;
  const room = ctx.rooms.get(id);
  checkSecret(room.props.secret, root, "secret");
  const on = root.mjrs === true;
  if (on && root.mjrs_dir !== undefined) room.props.mjrs_dir = root.mjrs_dir as string;
  if (on !== room.props.mjrs) {
    room.props.mjrs = on;
    // Started or stopped when the reply goes, as the reference's.
    await Promise.all([...room.participants.values()].map((m) => m.setMjrRecording(on)));
  }
  return { audiobridge: "success", mjrs: on };
}

/** Most forwarding groups in a room (the reference's JANUS_AUDIOBRIDGE_MAX_GROUPS). */
const MAX_GROUPS = 5;

/** Reads a room entry of `create` or the configuration into a room (types checked). */
export function roomOf(id: number, body: JsonObject): Room {
  const rate = (body.sampling_rate ?? body.sampling ?? 16000) as number;
  if (!SAMPLING_RATES.includes(rate)) {
    throw new PluginError(AUDIOBRIDGE_ERROR.UNKNOWN, `Unsupported sampling rate ${rate}`);
  }
  const description = body.description as string | undefined;
  const positive = (name: string, fallback: number) => {
    const v = body[name] as number | undefined;
    return v !== undefined && v > 0 ? v : fallback;
  };
  const props: RoomProps = {
    room: id,
    description: description ? description : `Room ${id}`,
    secret: body.secret as string | undefined,
    pin: body.pin as string | undefined,
    is_private: body.is_private === true,
    sampling_rate: rate,
    spatial_audio: body.spatial_audio === true,
    allow_rtp_participants: body.allow_rtp_participants === true,
    record: body.record === true,
    record_file: body.record_file as string | undefined,
    record_dir: body.record_dir as string | undefined,
    mjrs: body.mjrs === true,
    mjrs_dir: body.mjrs_dir as string | undefined,
    audiolevel_ext: body.audiolevel_ext !== false,
    audiolevel_event: body.audiolevel_event === true,
    audio_active_packets: positive("audio_active_packets", 100),
    audio_level_average: positive("audio_level_average", 25),
    default_prebuffering: positive("default_prebuffering", 6),
    default_expectedloss: expectedLossOf(body.default_expectedloss),
    default_bitrate: (body.default_bitrate as number | undefined) ?? 0,
  };
  const tokens = body.allowed === undefined
    ? undefined
    : stringsOf(body.allowed as unknown[], "allowed");
  // Duplicates count once; none (or an empty list) leaves groups off (the reference).
  const groups = Array.isArray(body.groups)
    ? [...new Set(body.groups.filter((g): g is string => typeof g === "string"))]
    : [];
  if (groups.length > 0) props.groups = groups.slice(0, MAX_GROUPS);
  return new Room(props, tokens);
}

async function create(ctx: AudioBridgeContext, root: JsonObject): Promise<JsonObject> {
  check(root, CREATE_FIELDS);
  check(root, ROOM_OPTIONAL);
  if (ctx.adminKey !== undefined) checkSecret(ctx.adminKey, root, "admin_key");
  if (root.allowed !== undefined) stringsOf(root.allowed as unknown[], "allowed");
  if (root.groups !== undefined) {
    if ((root.groups as unknown[]).length > MAX_GROUPS) {
      throw new PluginError(
        AUDIOBRIDGE_ERROR.INVALID_ELEMENT,
        `Too many groups specified (max ${MAX_GROUPS} allowed)`,
      );
    }
    stringsOf(root.groups as unknown[], "groups");
  }
  const save = root.permanent === true;
  if (save && !ctx.store.writable) throw noConfigFile("create permanent room");
  const requested = (root.room as number | undefined) ?? 0;
  if (requested > 0 && ctx.rooms.rooms.has(requested)) {
    throw new PluginError(AUDIOBRIDGE_ERROR.ROOM_EXISTS, `Room ${requested} already exists`);
  }
  if (ctx.rooms.rooms.size >= ctx.maxRooms) {
    throw new PluginError(AUDIOBRIDGE_ERROR.UNKNOWN, `Too many rooms (max ${ctx.maxRooms})`);
  }
  const room = roomOf(requested > 0 ? requested : ctx.rooms.freeId(), root);
  ctx.rooms.add(room);
  const permanent = save && await ctx.store.save(room);
  return { audiobridge: "created", room: room.id, permanent };
}

async function edit(ctx: AudioBridgeContext, root: JsonObject): Promise<JsonObject> {
  check(root, EDIT_FIELDS);
  check(root, ROOM_FIELD);
  const save = root.permanent === true;
  if (save && !ctx.store.writable) throw noConfigFile("edit room permanently");
  const room = ctx.rooms.get(root.room as number);
  checkSecret(room.props.secret, root, "secret");
  const p = room.props;
  const s = (name: string) => root[name] as string | undefined;
  if (s("new_description")) p.description = s("new_description")!;
  if (root.new_is_private !== undefined) p.is_private = root.new_is_private === true;
  if (s("new_secret") !== undefined) p.secret = s("new_secret") || undefined;
  // An empty new pin removes the pin.
  if (s("new_pin") !== undefined) p.pin = s("new_pin") || undefined;
  if (s("new_record_dir")) p.record_dir = s("new_record_dir");
  if (s("new_mjrs_dir") !== undefined) p.mjrs_dir = s("new_mjrs_dir");
  const permanent = save && await ctx.store.save(room);
  return { audiobridge: "edited", room: room.id, permanent };
}

async function destroy(ctx: AudioBridgeContext, root: JsonObject): Promise<JsonObject> {
  check(root, DESTROY_FIELDS);
  check(root, ROOM_FIELD);
  const save = root.permanent === true;
  if (save && !ctx.store.writable) throw noConfigFile("destroy room permanently");
  const room = ctx.rooms.get(root.room as number);
  checkSecret(room.props.secret, root, "secret");
  ctx.rooms.remove(room);
  // Every participant hears it, then its PeerConnection goes.
  room.notify({ audiobridge: "destroyed", room: room.id });
  for (const m of [...room.participants.values()]) m.evict();
  room.participants.clear();
  const permanent = save && await ctx.store.forget(room.id);
  return { audiobridge: "destroyed", room: room.id, permanent };
}

/** The strings of an array field (484 unless every entry is one). */
function stringsOf(items: unknown[], name: string): string[] {
  if (items.some((t) => typeof t !== "string")) throw notStrings(name);
  return items as string[];
}

/** A room's `default_expectedloss`: over 20 % the reference warns and uses 0. */
function expectedLossOf(value: unknown): number {
  const loss = (value as number | undefined) ?? 0;
  if (loss <= 20) return loss;
  log.warn(`Invalid expectedloss value provided (${loss}), using default: 0`);
  return 0;
}
