/**
 * TextRoom requests, as the reference's `janus_textroom_handle_incoming_request` answers them
 * wherever they come from: the data channel (`{"textroom":...,"transaction":...}`), the Janus
 * API (`request`, management only) and the admin API's `message_plugin`. Checks run in the
 * reference's order, with its codes and words; events and replies keep its key order.
 *
 * @module
 */
import { type JsonObject, PluginError } from "../../core/plugin.ts";
import { answerAllowed } from "../_shared/allowed.ts";
import { createLogger } from "../../core/log.ts";
import { noConfigFile, notInRoom, notStrings, TEXTROOM_ERROR } from "./errors.ts";
import { messageDate } from "./format.ts";
import type { RoomStore } from "./persist.ts";
import { type Member, type Participant, Room, type RoomProps, type RoomRegistry } from "./room.ts";
import {
  ALLOWED_FIELDS,
  ANNOUNCEMENT_FIELDS,
  check,
  checkSecret,
  CREATE_FIELDS,
  DESTROY_FIELDS,
  EDIT_FIELDS,
  JOIN_FIELDS,
  KICK_FIELDS,
  MESSAGE_FIELDS,
  ROOM_FIELD,
  ROOM_OPTIONAL,
  TRANSACTION_FIELDS,
} from "./schemas.ts";

const log = createLogger("textroom");

/** Requests the Janus API and the admin API take too (answered at once). */
export const MANAGEMENT_REQUESTS: ReadonlySet<string> = new Set([
  "list",
  "listparticipants",
  "exists",
  "create",
  "edit",
  "announcement",
  "allowed",
  "kick",
  "destroy",
]);

/** Where a request came from: replies differ (`created` over the APIs, `success` here). */
export type Via = "data" | "api" | "admin";

/** What every request works on (one per plugin). */
export interface TextRoomContext {
  rooms: RoomRegistry;
  store: RoomStore;
  adminKey: string | undefined;
  maxHistory: number;
  /** Serialises an event or reply as the configuration says. */
  encode(value: JsonObject): string;
  /** POSTs a message to a room's HTTP backend (fire and forget). */
  post(url: string, text: string): void;
}

/**
 * Answers one request. Resolves the reply to send back (with the request's `transaction`
 * over the data channel), or undefined when none is due (`message` with `ack: false`).
 */
export async function answerRequest(
  ctx: TextRoomContext,
  caller: Member | undefined,
  root: JsonObject,
  via: Via,
  adminNotify?: (data: JsonObject) => void,
): Promise<JsonObject | undefined> {
  let transaction: string | undefined;
  let reply: JsonObject | undefined;
  try {
    check(root, TRANSACTION_FIELDS);
    transaction = root.transaction as string;
    // Without a handle (admin), room management is still told, with no ids (the reference).
    const tell = caller ? (data: JsonObject) => caller.notify?.(data) : adminNotify;
    reply = await handle(ctx, caller, root, via, tell);
    if (reply === undefined) return undefined;
  } catch (e) {
    let error = e;
    if (!(e instanceof PluginError)) {
      log.warn(`request failed: ${(e as Error).message}`);
      error = new PluginError(TEXTROOM_ERROR.UNKNOWN, (e as Error).message || "Unknown error");
    }
    const { code, message } = error as PluginError;
    reply = { textroom: "error", error_code: code, error: message };
  }
  return via === "data" && transaction !== undefined ? { ...reply, transaction } : reply;
}

function handle(
  ctx: TextRoomContext,
  caller: Member | undefined,
  root: JsonObject,
  via: Via,
  tell: ((data: JsonObject) => void) | undefined,
): Promise<JsonObject | undefined> | JsonObject | undefined {
  const name = root.textroom as string;
  switch (name.toLowerCase()) {
    case "message":
      return message(ctx, member(caller, name), root);
    case "join":
      return join(ctx, member(caller, name), root);
    case "leave": {
      check(root, ROOM_FIELD);
      const room = ctx.rooms.get(root.room as number);
      const username = leave(ctx, member(caller, name), room);
      caller?.notify?.({ event: "leave", room: room.id, username });
      return { textroom: "success" };
    }
    case "list":
      return list(ctx, root);
    case "listparticipants":
      return listParticipants(ctx, root);
    case "allowed":
      return allowed(ctx, root);
    case "kick":
      return kick(ctx, caller, root);
    case "announcement":
      return announcement(ctx, root);
    case "create":
      return create(ctx, tell, root, via);
    case "exists": {
      check(root, ROOM_FIELD);
      const id = root.room as number;
      return { textroom: "success", room: id, exists: ctx.rooms.rooms.has(id) };
    }
    case "edit":
      return edit(ctx, tell, root, via);
    case "destroy":
      return destroy(ctx, caller, root, via, tell);
    default:
      throw unsupported(name);
  }
}

function unsupported(name: string): PluginError {
  return new PluginError(TEXTROOM_ERROR.INVALID_REQUEST, `Unsupported request ${name}`);
}

/** `join`, `leave` and `message` need a user's handle (the admin API has none). */
function member(caller: Member | undefined, name: string): Member {
  if (!caller) throw unsupported(name);
  return caller;
}

/** The participant `caller` is in room `room` as (422 when none). */
function participantOf(caller: Member, room: Room): Participant {
  const participant = caller.rooms.get(room.id);
  if (!participant) throw notInRoom(room.id);
  return participant;
}

function message(ctx: TextRoomContext, caller: Member, root: JsonObject): JsonObject | undefined {
  check(root, MESSAGE_FIELDS);
  check(root, ROOM_FIELD);
  const room = ctx.rooms.get(root.room as number);
  const from = participantOf(caller, room);
  const to = root.to as string | undefined;
  const tos = root.tos as unknown[] | undefined;
  if (to !== undefined && tos !== undefined) {
    throw new PluginError(TEXTROOM_ERROR.INVALID_ELEMENT, "Both to and tos array provided");
  }
  // The reference crashes on a non-string entry; here it is refused.
  if (tos?.some((t) => typeof t !== "string")) throw notStrings("tos");
  const event: JsonObject = {
    textroom: "message",
    room: room.id,
    from: from.username,
    date: messageDate(),
    text: root.text as string,
  };
  if (to !== undefined || tos !== undefined) event.whisper = true;
  const text = ctx.encode(event);
  const reply: JsonObject = { textroom: "success" };
  if (to !== undefined || tos !== undefined) {
    const sent: JsonObject = {};
    for (const username of tos ?? [to]) {
      const target = room.participants.get(username as string);
      target?.member.send(text);
      sent[username as string] = target !== undefined;
    }
    reply.sent = sent;
  } else {
    room.broadcast(text);
    if (room.props.history > 0) {
      room.remember(
        ctx.encode(from.display !== undefined ? { ...event, display: from.display } : event),
      );
    }
    if (room.props.post !== undefined) ctx.post(room.props.post, text);
  }
  return root.ack === false ? undefined : reply;
}

function join(ctx: TextRoomContext, caller: Member, root: JsonObject): JsonObject {
  check(root, JOIN_FIELDS);
  check(root, ROOM_FIELD);
  const room = ctx.rooms.get(root.room as number);
  checkSecret(room.props.pin, root, "pin");
  if (caller.rooms.has(room.id)) {
    throw new PluginError(TEXTROOM_ERROR.ALREADY_IN_ROOM, `Already in room ${room.id}`);
  }
  const username = root.username as string;
  if (room.participants.has(username)) {
    throw new PluginError(TEXTROOM_ERROR.USERNAME_EXISTS, "Username already taken");
  }
  if (room.checkTokens) {
    const token = root.token;
    if (typeof token !== "string" || !room.allowed.has(token)) {
      throw new PluginError(TEXTROOM_ERROR.UNAUTHORIZED, "Unauthorized (not in the allowed list)");
    }
  }
  const display = root.display as string | undefined;
  const participant: Participant = { username, display, member: caller };
  caller.rooms.set(room.id, participant);
  room.participants.set(username, participant);
  // History first, then the join (to the joiner, then to the others), then the reply.
  if (root.history !== false) { for (const text of room.history) caller.send(text); }
  const event: JsonObject = { textroom: "join", room: room.id, username };
  if (display !== undefined) event.display = display;
  const text = ctx.encode(event);
  caller.send(text);
  room.broadcast(text, participant);
  const info: JsonObject = { event: "join", room: room.id, username };
  if (display !== undefined) info.display = display;
  caller.notify?.(info);
  const others: JsonObject[] = [];
  for (const p of room.participants.values()) if (p !== participant) others.push(entryOf(p));
  return { textroom: "success", participants: others };
}

/** Takes `caller` out of `room`, telling it and everyone left (`leave`); returns who left. */
export function leave(ctx: TextRoomContext, caller: Member, room: Room): string {
  const participant = participantOf(caller, room);
  caller.rooms.delete(room.id);
  room.participants.delete(participant.username);
  const text = ctx.encode({ textroom: "leave", room: room.id, username: participant.username });
  caller.send(text);
  room.broadcast(text);
  return participant.username;
}

function entryOf(p: Participant): JsonObject {
  return p.display !== undefined
    ? { username: p.username, display: p.display }
    : { username: p.username };
}

function list(ctx: TextRoomContext, root: JsonObject): JsonObject {
  // Private rooms are listed to whoever gives the right admin key.
  let showPrivate = false;
  const key = root.admin_key;
  if (ctx.adminKey !== undefined && typeof key === "string" && key.length > 0) {
    checkSecret(ctx.adminKey, root, "admin_key");
    showPrivate = true;
  }
  const rooms: JsonObject[] = [];
  for (const room of ctx.rooms.rooms.values()) {
    if (room.props.is_private && !showPrivate) continue;
    rooms.push(room.listEntry());
  }
  return { textroom: "success", list: rooms };
}

function listParticipants(ctx: TextRoomContext, root: JsonObject): JsonObject {
  check(root, ROOM_FIELD);
  const room = ctx.rooms.get(root.room as number);
  return { room: room.id, participants: [...room.participants.values()].map(entryOf) };
}

function allowed(ctx: TextRoomContext, root: JsonObject): JsonObject {
  check(root, ALLOWED_FIELDS);
  check(root, ROOM_FIELD);
  return answerAllowed(root, "textroom", TEXTROOM_ERROR.INVALID_ELEMENT, () => {
    const room = ctx.rooms.get(root.room as number);
    checkSecret(room.props.secret, root, "secret");
    return room;
  });
}

/** The strings of an `allowed` array (414 unless every entry is one). */
function stringsOf(items: unknown[]): string[] {
  if (items.some((t) => typeof t !== "string")) throw notStrings("allowed");
  return items as string[];
}

function kick(ctx: TextRoomContext, caller: Member | undefined, root: JsonObject): JsonObject {
  check(root, KICK_FIELDS);
  check(root, ROOM_FIELD);
  const room = ctx.rooms.get(root.room as number);
  checkSecret(room.props.secret, root, "secret");
  const username = root.username as string;
  const participant = room.participants.get(username);
  if (!participant) {
    throw new PluginError(
      TEXTROOM_ERROR.NO_SUCH_USER,
      `No such user ${username} in room ${room.id}`,
    );
  }
  // Everyone hears it, the kicked user included; its PeerConnection stays.
  room.broadcast(ctx.encode({ textroom: "kicked", room: room.id, username }));
  // The reference's event-handler event names itself `textroom`, not `event`.
  caller?.notify?.({ textroom: "kicked", room: room.id, username });
  participant.member.rooms.delete(room.id);
  room.participants.delete(username);
  // The reference's answer, typo included.
  return { textbridge: "success" };
}

function announcement(ctx: TextRoomContext, root: JsonObject): JsonObject {
  check(root, ANNOUNCEMENT_FIELDS);
  check(root, ROOM_FIELD);
  const room = ctx.rooms.get(root.room as number);
  checkSecret(room.props.secret, root, "secret");
  const text = ctx.encode({
    textroom: "announcement",
    room: room.id,
    date: messageDate(),
    text: root.text as string,
  });
  room.broadcast(text);
  room.remember(text);
  if (room.props.post !== undefined) ctx.post(room.props.post, text);
  return { textroom: "success" };
}

/** Reads a room entry of `create` or the configuration into a room (checks done). */
export function roomOf(ctx: TextRoomContext, id: number, body: JsonObject): Room {
  const history = (body.history as number | undefined) ?? 0;
  if (history > ctx.maxHistory) {
    throw new PluginError(
      TEXTROOM_ERROR.INVALID_ELEMENT,
      `Invalid element (history should be at most ${ctx.maxHistory})`,
    );
  }
  const description = body.description as string | undefined;
  const props: RoomProps = {
    room: id,
    description: description ? description : `Room ${id}`,
    secret: body.secret as string | undefined,
    pin: body.pin as string | undefined,
    is_private: body.is_private === true,
    history,
    post: body.post as string | undefined,
  };
  const tokens = body.allowed === undefined ? undefined : stringsOf(body.allowed as unknown[]);
  return new Room(props, tokens);
}

async function create(
  ctx: TextRoomContext,
  tell: ((data: JsonObject) => void) | undefined,
  root: JsonObject,
  via: Via,
): Promise<JsonObject> {
  check(root, CREATE_FIELDS);
  check(root, ROOM_OPTIONAL);
  if (ctx.adminKey !== undefined) checkSecret(ctx.adminKey, root, "admin_key");
  if (root.allowed !== undefined) stringsOf(root.allowed as unknown[]);
  const save = root.permanent === true;
  if (save && !ctx.store.writable) throw noConfigFile("create permanent room");
  const requested = (root.room as number | undefined) ?? 0;
  if (requested > 0 && ctx.rooms.rooms.has(requested)) {
    throw new PluginError(TEXTROOM_ERROR.ROOM_EXISTS, `Room ${requested} already exists`);
  }
  const room = roomOf(ctx, requested > 0 ? requested : ctx.rooms.freeId(), root);
  ctx.rooms.add(room);
  const permanent = save && await ctx.store.save(room);
  tell?.({ event: "created", room: room.id });
  return { textroom: via === "data" ? "success" : "created", room: room.id, permanent };
}

async function edit(
  ctx: TextRoomContext,
  tell: ((data: JsonObject) => void) | undefined,
  root: JsonObject,
  via: Via,
): Promise<JsonObject> {
  check(root, EDIT_FIELDS);
  check(root, ROOM_FIELD);
  const save = root.permanent === true;
  if (save && !ctx.store.writable) throw noConfigFile("edit room permanently");
  const room = ctx.rooms.get(root.room as number);
  checkSecret(room.props.secret, root, "secret");
  const p = room.props;
  // Empty strings keep the old values (the reference).
  const s = (name: string) => (root[name] as string | undefined) || undefined;
  p.description = s("new_description") ?? p.description;
  if (root.new_is_private !== undefined) p.is_private = root.new_is_private === true;
  p.secret = s("new_secret") ?? p.secret;
  p.post = s("new_post") ?? p.post;
  p.pin = s("new_pin") ?? p.pin;
  const permanent = save && await ctx.store.save(room);
  tell?.({ event: "edited", room: room.id });
  return { textroom: via === "data" ? "success" : "edited", room: room.id, permanent };
}

async function destroy(
  ctx: TextRoomContext,
  caller: Member | undefined,
  root: JsonObject,
  via: Via,
  tell: ((data: JsonObject) => void) | undefined,
): Promise<JsonObject> {
  check(root, DESTROY_FIELDS);
  check(root, ROOM_FIELD);
  const save = root.permanent === true;
  if (save && !ctx.store.writable) throw noConfigFile("destroy room permanently");
  const room = ctx.rooms.get(root.room as number);
  checkSecret(room.props.secret, root, "secret");
  ctx.rooms.rooms.delete(room.id);
  // The requester hears it, then every participant (the requester again if it is one).
  const text = ctx.encode({ textroom: "destroyed", room: room.id });
  caller?.send(text);
  room.broadcast(text);
  room.clear();
  const permanent = save && await ctx.store.forget(room.id);
  tell?.({ event: "destroyed", room: room.id });
  return { textroom: via === "data" ? "success" : "destroyed", room: room.id, permanent };
}
