/**
 * The synchronous requests (`create`, `edit`, `destroy`, `exists`, `list`, `allowed`, `kick`,
 * `moderate`, `enable_recording`, `listparticipants`, `listforwarders`, `rtp_forward`,
 * `stop_rtp_forward`), shared by the Janus API and the admin API's `message_plugin`.
 *
 * @module
 */
import { type JsonObject, PluginError } from "../../core/plugin.ts";
import { noSuchFeed, VIDEOROOM_ERROR } from "./errors.ts";
import {
  forwarderJson,
  type ForwardPlan,
  planRtpForward,
  rtpForward,
  stopForwardEvent,
} from "./forwarders.ts";
import type { RoomStore } from "./persist.ts";
import { Publisher } from "./publisher.ts";
import { clampBitrate, Room, roomProps, type RoomRegistry } from "./room.ts";
import {
  BEFORE_ROOM_FIELDS,
  check,
  CREATE_FIELDS,
  EDIT_FIELDS,
  REQUEST_FIELDS,
  ROOM_FIELD,
  ROOM_UNCHECKED,
} from "./schemas.ts";

/** Names of the synchronous requests. */
export const SYNC_REQUESTS: ReadonlySet<string> = new Set([
  "create",
  "edit",
  "destroy",
  "exists",
  "list",
  "allowed",
  "kick",
  "moderate",
  "enable_recording",
  "listparticipants",
  "listforwarders",
  "rtp_forward",
  "stop_rtp_forward",
]);

/** What the synchronous requests work on. */
export interface SyncContext {
  rooms: RoomRegistry;
  store: RoomStore;
}

/**
 * Answers one synchronous request; `notify` gets the events it tells event handlers with no
 * session or handle (the reference's `rtp_forward` and `stop_rtp_forward`).
 *
 * @throws {PluginError} with the reference's code and text
 */
export async function handleSync(
  ctx: SyncContext,
  request: string,
  body: JsonObject,
  notify: (event: JsonObject) => void = () => {},
): Promise<JsonObject> {
  switch (request) {
    case "create":
      return await create(ctx, body);
    case "list":
      return {
        videoroom: "success",
        list: [...ctx.rooms.rooms.values()].filter((r) => !r.props.is_private).map((r) =>
          r.listEntry()
        ),
      };
  }
  const before = BEFORE_ROOM_FIELDS[request];
  if (before) check(body, before);
  let room: Room | undefined;
  if (ROOM_UNCHECKED.has(request)) room = uncheckedRoom(ctx, body.room);
  else check(body, ROOM_FIELD);
  const id = room?.id ?? body.room as number;
  if (request === "exists") {
    const room = ctx.rooms.rooms.get(id);
    return { videoroom: "success", room: id, exists: room !== undefined && !room.destroyed };
  }
  if (request === "edit") check(body, EDIT_FIELDS);
  const fields = REQUEST_FIELDS[request];
  if (fields) check(body, fields);
  // The reference refuses an unknown `allowed` action before it looks the room up.
  if (request === "allowed" && !ALLOWED_ACTIONS.has(body.action as string)) {
    throw new PluginError(
      VIDEOROOM_ERROR.INVALID_ELEMENT,
      `Unsupported action '${body.action as string}' (allowed)`,
    );
  }
  // The reference resolves the forwarding target before it looks the room up.
  let plan: ForwardPlan | undefined;
  if (request === "rtp_forward") plan = await planRtpForward(body);
  room ??= ctx.rooms.get(id);
  if (request !== "listparticipants") room.checkSecret(body);
  switch (request) {
    case "edit":
      return await edit(ctx, room, body);
    case "destroy": {
      ctx.rooms.remove(room);
      const permanent = body.permanent === true && room.permanent &&
        await ctx.store.save(ctx.rooms.rooms.values());
      return { videoroom: "destroyed", room: id, permanent };
    }
    case "allowed":
      return allowed(room, body);
    case "kick": {
      const member = room.members.get(body.id as number);
      if (!member) throw noSuchUser(body.id as number, id);
      member.kicked();
      return { videoroom: "success" };
    }
    case "moderate":
      return moderate(room, body);
    case "enable_recording": {
      const record = body.record as boolean;
      if (record !== room.props.record) {
        room.props.record = record;
        const publishers = [...room.members.values()].filter((m) => m instanceof Publisher);
        await Promise.all(publishers.map((p) => p.setRecording(record)));
      }
      return { videoroom: "success", record };
    }
    case "listparticipants":
      return { videoroom: "participants", room: id, participants: participants(room) };
    case "listforwarders":
      return { videoroom: "forwarders", room: id, publishers: forwarderList(room) };
    default: {
      // The feed must exist (publishing or not), as in the reference.
      const publisherId = body.publisher_id as number;
      const member = room.members.get(publisherId);
      if (!(member instanceof Publisher)) throw noSuchFeed(publisherId);
      if (request === "rtp_forward") return await rtpForward(id, member, plan!, body, notify);
      const streamId = body.stream_id as number;
      if (!member.stopForwarder(streamId)) {
        throw new PluginError(VIDEOROOM_ERROR.NO_SUCH_FEED, `No such stream (${streamId})`);
      }
      notify(stopForwardEvent(id, publisherId, streamId));
      return {
        videoroom: "stop_rtp_forward",
        room: id,
        publisher_id: publisherId,
        stream_id: streamId,
      };
    }
  }
}

async function create(ctx: SyncContext, body: JsonObject): Promise<JsonObject> {
  check(body, CREATE_FIELDS);
  const requested = typeof body.room === "number" && body.room > 0 ? body.room : undefined;
  const id = requested ?? ctx.rooms.freeId();
  const props = roomProps(id, body);
  const list = allowedTokens(body);
  const wantSave = body.permanent === true;
  const room = new Room(props, {
    permanent: wantSave,
    ...(list ? { allowed: list } : {}),
  });
  ctx.rooms.add(room);
  const permanent = wantSave && await ctx.store.save(ctx.rooms.rooms.values());
  room.permanent = permanent;
  return { videoroom: "created", room: id, permanent };
}

async function edit(ctx: SyncContext, room: Room, body: JsonObject): Promise<JsonObject> {
  const p = room.props;
  const s = (name: string) => typeof body[name] === "string" ? body[name] as string : undefined;
  const n = (name: string) => typeof body[name] === "number" ? body[name] as number : undefined;
  const b = (name: string) => typeof body[name] === "boolean" ? body[name] as boolean : undefined;
  // An empty new description keeps the old one (the reference).
  p.description = s("new_description") || p.description;
  p.secret = s("new_secret") ?? p.secret;
  p.pin = s("new_pin") ?? p.pin;
  p.is_private = b("new_is_private") ?? p.is_private;
  p.require_pvtid = b("new_require_pvtid") ?? p.require_pvtid;
  const bitrate = n("new_bitrate");
  if (bitrate !== undefined) p.bitrate = clampBitrate(bitrate);
  p.fir_freq = n("new_fir_freq") ?? p.fir_freq;
  p.publishers = n("new_publishers") ?? p.publishers;
  p.lock_record = b("new_lock_record") ?? p.lock_record;
  p.rec_dir = s("new_rec_dir") ?? p.rec_dir;
  let permanent = false;
  if (body.permanent === true) {
    room.permanent = true;
    permanent = await ctx.store.save(ctx.rooms.rooms.values());
    room.permanent = permanent;
  }
  return { videoroom: "edited", room: room.id, permanent };
}

/**
 * `room` as the reference reads it for kick, moderate and enable_recording: a non-integer is
 * 0, and a negative one wraps around as an unsigned 64-bit number in the 426 text.
 */
function uncheckedRoom(ctx: SyncContext, value: unknown): Room {
  const id = typeof value === "number" && Number.isInteger(value) ? value : 0;
  if (id < 0) {
    const wrapped = BigInt.asUintN(64, BigInt(id)).toString();
    throw new PluginError(VIDEOROOM_ERROR.NO_SUCH_ROOM, `No such room (${wrapped})`);
  }
  return ctx.rooms.get(id);
}

const ALLOWED_ACTIONS: ReadonlySet<string> = new Set(["enable", "disable", "add", "remove"]);

function allowed(room: Room, body: JsonObject): JsonObject {
  const action = body.action as string;
  const tokens = action === "add" || action === "remove" ? allowedTokens(body) ?? [] : [];
  switch (action) {
    case "enable":
      room.aclEnabled = true;
      break;
    case "disable":
      room.aclEnabled = false;
      return { videoroom: "success", room: room.id };
    case "add":
      for (const t of tokens) room.allowed.add(t);
      break;
    case "remove":
      for (const t of tokens) room.allowed.delete(t);
      break;
  }
  return { videoroom: "success", room: room.id, allowed: [...room.allowed] };
}

/** The `allowed` tokens of `body` (430 unless every one is a string), if any. */
export function allowedTokens(body: JsonObject): string[] | undefined {
  if (!Array.isArray(body.allowed)) return undefined;
  const tokens = body.allowed.filter((t): t is string => typeof t === "string");
  if (tokens.length !== body.allowed.length) {
    throw new PluginError(
      VIDEOROOM_ERROR.INVALID_ELEMENT,
      "Invalid element in the allowed array (not a string)",
    );
  }
  return tokens;
}

function moderate(room: Room, body: JsonObject): JsonObject {
  const id = body.id as number;
  const member = room.members.get(id);
  if (!member) throw noSuchUser(id, room.id);
  const mid = body.mid as string;
  const stream = member.streams.find((s) => s.mid === mid);
  if (!stream) throw new PluginError(VIDEOROOM_ERROR.NO_SUCH_FEED, `No such stream ${mid}`);
  // The relay of that one stream pauses for every subscriber (and resumes on unmute).
  stream.moderated = body.mute as boolean;
  for (const w of member.subscribers) w.streamsChanged(member);
  const event: JsonObject = {
    videoroom: "event",
    room: room.id,
    id,
    mid,
    moderation: stream.moderated ? "muted" : "unmuted",
  };
  room.notify(event);
  return { videoroom: "success" };
}

/** `listforwarders`: publishers that have forwarders, each with theirs. */
function forwarderList(room: Room): JsonObject[] {
  const out: JsonObject[] = [];
  for (const m of room.members.values()) {
    if (!(m instanceof Publisher) || m.forwarders.entries.size === 0) continue;
    const entry: JsonObject = { publisher_id: m.id };
    if (m.display !== undefined) entry.display = m.display;
    entry.forwarders = [...m.forwarders.entries.values()].map(forwarderJson);
    out.push(entry);
  }
  return out;
}

function participants(room: Room): JsonObject[] {
  const out: JsonObject[] = [];
  for (const m of room.members.values()) {
    const entry: JsonObject = { id: m.id };
    if (m.display !== undefined) entry.display = m.display;
    entry.publisher = m.active;
    if (m.active && room.props.audiolevel_ext && m.streams.some((s) => s.type === "audio")) {
      entry.talking = m.talking;
    }
    out.push(entry);
  }
  return out;
}

function noSuchUser(id: number, room: number): PluginError {
  return new PluginError(VIDEOROOM_ERROR.NO_SUCH_FEED, `No such user ${id} in room ${room}`);
}
