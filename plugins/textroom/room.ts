/**
 * Rooms: their properties (as `create` and the configuration take them), the reference's
 * `list` entry, the participants in them, the history replayed to joiners, and the registry.
 *
 * @module
 */
import { type JsonObject, PluginError } from "../../core/plugin.ts";
import { noSuchRoom, TEXTROOM_ERROR } from "./errors.ts";

/** A room's properties; wire names, as `create` takes them. */
export interface RoomProps {
  room: number;
  description: string;
  secret?: string | undefined;
  pin?: string | undefined;
  is_private: boolean;
  /** Messages kept and replayed to joiners (0: none). */
  history: number;
  /** HTTP backend every public message and announcement is POSTed to. */
  post?: string | undefined;
}

/** The reference's stock room (janus.plugin.textroom.jcfg sample). */
export const STOCK_ROOMS: readonly JsonObject[] = [
  { room: 1234, description: "Demo Room", secret: "adminpwd" },
];

/** What a room needs of a user's handle. */
export interface Member {
  /** Writes one text message on the handle's data channel (dropped without one). */
  send(text: string): void;
  /** The rooms this handle is in, by id. */
  readonly rooms: Map<number, Participant>;
  /** Tells event handlers something about this handle (Janus's `notify_event`). */
  notify?(data: JsonObject): void;
}

/** One user in one room. */
export interface Participant {
  readonly username: string;
  readonly display: string | undefined;
  readonly member: Member;
}

/** A text room. */
export class Room {
  readonly props: RoomProps;
  /** Tokens of the ACL. */
  readonly allowed: Set<string>;
  /** Whether `join` checks `allowed`. */
  checkTokens: boolean;
  /** Participants by username, in the order they joined. */
  readonly participants = new Map<string, Participant>();
  #history: string[] = [];

  constructor(props: RoomProps, allowed?: readonly string[]) {
    this.props = props;
    this.allowed = new Set(allowed ?? []);
    this.checkTokens = allowed !== undefined;
  }

  get id(): number {
    return this.props.room;
  }

  /** The messages (already serialised) a joiner is sent first, oldest first. */
  get history(): readonly string[] {
    return this.#history;
  }

  /** Keeps a public message or announcement, dropping the oldest past `history`. */
  remember(text: string): void {
    if (this.props.history <= 0) return;
    this.#history.push(text);
    if (this.#history.length > this.props.history) this.#history.shift();
  }

  /** Writes `text` to every participant, in join order. */
  broadcast(text: string, except?: Participant): void {
    for (const p of this.participants.values()) if (p !== except) p.member.send(text);
  }

  /** The room's `list` entry. */
  listEntry(): JsonObject {
    return {
      room: this.id,
      description: this.props.description,
      pin_required: this.props.pin !== undefined,
      num_participants: this.participants.size,
      history: this.props.history,
    };
  }

  /** The entry a permanent room is saved as (the shape `create` and the config take). */
  savedEntry(): JsonObject {
    const p = this.props;
    const entry: JsonObject = { room: p.room, description: p.description };
    if (p.is_private) entry.is_private = true;
    if (p.secret !== undefined) entry.secret = p.secret;
    if (p.pin !== undefined) entry.pin = p.pin;
    if (p.history > 0) entry.history = p.history;
    if (p.post !== undefined) entry.post = p.post;
    if (this.checkTokens) entry.allowed = [...this.allowed];
    return entry;
  }

  /** Every participant leaves (the room is gone): their handles forget it. */
  clear(): void {
    for (const p of this.participants.values()) p.member.rooms.delete(this.id);
    this.participants.clear();
    this.#history = [];
  }
}

/** Every room of the plugin. */
export class RoomRegistry {
  readonly rooms = new Map<number, Room>();

  /** The room `id` (417 when there is none). */
  get(id: number): Room {
    const room = this.rooms.get(id);
    if (!room) throw noSuchRoom(id);
    return room;
  }

  /** Adds a room; 418 when the id is taken. */
  add(room: Room): void {
    if (this.rooms.has(room.id)) {
      throw new PluginError(TEXTROOM_ERROR.ROOM_EXISTS, `Room ${room.id} already exists`);
    }
    this.rooms.set(room.id, room);
  }

  /** A random free room id (a positive safe integer, as VideoRoom picks them). */
  freeId(): number {
    for (;;) {
      const buf = new Uint32Array(2);
      crypto.getRandomValues(buf);
      const id = ((buf[0] ?? 0) % 2097152) * 4294967296 + (buf[1] ?? 0);
      if (id > 0 && !this.rooms.has(id)) return id;
    }
  }

  /** Removes a room and forgets its participants. */
  remove(room: Room): void {
    this.rooms.delete(room.id);
    room.clear();
  }

  /** Participants in every room. */
  get participants(): number {
    let n = 0;
    for (const room of this.rooms.values()) n += room.participants.size;
    return n;
  }
}
