/**
 * Rooms: their properties (as `create` and the config take them), the reference's `list`
 * entry, the participants and subscribers they hold, and the registry of rooms.
 *
 * @module
 */
import type { JsonObject, PluginHandle, PluginWebRTC } from "../../core/plugin.ts";
import { PluginError } from "../../core/plugin.ts";
import { missing, noSuchRoom, unauthorized, VIDEOROOM_ERROR } from "./errors.ts";

/** A room's properties; wire names, as `create` takes them. */
export interface RoomProps {
  room: number;
  description: string;
  secret?: string | undefined;
  pin?: string | undefined;
  is_private: boolean;
  require_pvtid: boolean;
  publishers: number;
  bitrate: number;
  bitrate_cap: boolean;
  fir_freq: number;
  audiocodec: string;
  videocodec: string;
  vp9_profile?: string | undefined;
  h264_profile?: string | undefined;
  opus_fec: boolean;
  opus_dtx: boolean;
  video_svc: boolean;
  audiolevel_ext: boolean;
  /** Emit `talking` / `stopped-talking` (levels measured by the media engine). */
  audiolevel_event: boolean;
  audio_active_packets: number;
  audio_level_average: number;
  videoorient_ext: boolean;
  playoutdelay_ext: boolean;
  transport_wide_cc_ext: boolean;
  record: boolean;
  rec_dir?: string | undefined;
  lock_record: boolean;
  notify_joining: boolean;
  require_e2ee: boolean;
  dummy_publisher: boolean;
}

/** The reference's stock rooms (janus.plugin.videoroom.jcfg sample). */
export const STOCK_ROOMS: readonly JsonObject[] = [
  {
    room: 1234,
    description: "Demo Room",
    secret: "adminpwd",
    publishers: 6,
    bitrate: 128000,
    fir_freq: 10,
    audiocodec: "opus",
    videocodec: "vp8",
    record: false,
  },
  {
    room: 5678,
    description: "VP9-SVC Demo Room",
    secret: "adminpwd",
    publishers: 6,
    bitrate: 512000,
    fir_freq: 10,
    audiocodec: "opus",
    videocodec: "vp9",
    video_svc: true,
  },
];

/** One stream of a publisher, as events describe it. */
export interface FeedStream {
  type: "audio" | "video" | "data";
  mindex: number;
  mid: string;
  codec?: string | undefined;
  description?: string | undefined;
  fec?: boolean;
  /** Muted for everyone by `moderate`: not relayed. */
  moderated?: boolean;
  /** False when its publisher asked (`configure` `streams[].send`) not to relay it. */
  send?: boolean;
}

/** What a room needs of a participant (a publisher handle that joined). */
export interface Member {
  readonly id: number;
  readonly display: string | undefined;
  readonly privateId: number;
  /** Offer accepted (counts against `publishers`). */
  readonly publishing: boolean;
  /** PeerConnection up: a feed that can be subscribed to. */
  readonly active: boolean;
  /** Its audio is talking (`audiolevel_event` rooms). */
  readonly talking: boolean;
  readonly streams: readonly FeedStream[];
  readonly webrtc: PluginWebRTC;
  /** Subscribers currently fed by this member. */
  readonly subscribers: Set<Watcher>;
  /** The `publishers` entry for this member. */
  feedEntry(options?: { talking?: boolean }): JsonObject;
  push(data: JsonObject): void;
  /** `kick`: leave with reason kicked. */
  kicked(): void;
  /** The room is gone. */
  roomDestroyed(): void;
}

/** What a room needs of a subscriber handle. */
export interface Watcher {
  /** Forwarded streams this subscriber takes (admission control). */
  readonly forwarded: number;
  /**
   * A publisher it watches stopped publishing; settles once its `updated` is pushed (none
   * when `update` is false: the change waits for the next renegotiation).
   */
  feedGone(member: Member, options: { update: boolean; by?: PluginHandle }): Promise<void>;
  /** Streams of `member` were muted or unmuted (moderation, publisher `send`). */
  streamsChanged(member: Member): void;
  /** Whether it takes `member`'s stream `mid` of `type` (the admin's per-stream counts). */
  takes(member: Member, mid: string, type: string): boolean;
  /** A data-channel message of `member`, relayed when its data is subscribed to and flows. */
  relayData(member: Member, data: string | Uint8Array): void;
  roomDestroyed(): void;
}

/** Codec names a room may list, as the reference knows them (case-insensitive). */
const ROOM_CODECS = {
  audio: {
    names: ["opus", "multiopus", "isac32", "isac16", "pcmu", "pcma", "g722", "l16-48", "l16"],
    message: "audiocodec can only be or contain opus, isac32, isac16, pcmu, pcma or g722",
  },
  video: {
    names: ["vp8", "vp9", "h264", "av1", "h265"],
    message: "videocodec can only be or contain vp8, vp9, av1, h264 or h265",
  },
} as const;

/**
 * A room's `audiocodec` / `videocodec` as the reference takes it: up to five names, each
 * known (430 otherwise, an empty name included), lower-cased; what follows a fifth comma is
 * ignored. Undefined (the default codec) for an empty string.
 */
export function roomCodecs(kind: "audio" | "video", csv: string | undefined): string | undefined {
  if (csv === undefined || csv === "") return undefined;
  const known: readonly string[] = ROOM_CODECS[kind].names;
  const names = csv.split(",").slice(0, 5).map((c) => c.toLowerCase());
  if (names.some((c) => !known.includes(c))) {
    throw new PluginError(
      VIDEOROOM_ERROR.INVALID_ELEMENT,
      `Invalid element (${ROOM_CODECS[kind].message})`,
    );
  }
  return names.join(",");
}

/** Parses a codec list (`"vp9,vp8"`), keeping known names in order. */
export function codecList(csv: string): string[] {
  return csv.split(",").map((c) => c.trim().toLowerCase()).filter((c) => c !== "");
}

/** A room and the handles in it. */
export class Room {
  readonly props: RoomProps;
  permanent: boolean;
  /** Tokens of the ACL. */
  readonly allowed: Set<string>;
  /** Whether `join` checks `allowed`. */
  aclEnabled: boolean;
  readonly members = new Map<number, Member>();
  readonly watchers = new Set<Watcher>();
  #destroyed = false;
  /** Notices wait for this while subscriber updates are being prepared. */
  #held: Promise<unknown> | undefined;

  constructor(props: RoomProps, options: { permanent: boolean; allowed?: string[] }) {
    this.props = props;
    this.permanent = options.permanent;
    this.allowed = new Set(options.allowed ?? []);
    this.aclEnabled = options.allowed !== undefined;
  }

  get id(): number {
    return this.props.room;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Affinity key: every peer of this room lives in one media worker. */
  get mediaKey(): string {
    return `videoroom-${this.props.room}`;
  }

  /** 429 when the room has a secret and none was given, 433 when it is wrong. */
  checkSecret(body: JsonObject): void {
    if (this.props.secret === undefined) return;
    if (body.secret === undefined) throw missing("secret");
    if (body.secret !== this.props.secret) throw unauthorized("wrong secret");
  }

  /** The pin and token checks of `join`. */
  checkAccess(body: JsonObject): void {
    if (this.props.pin !== undefined) {
      if (body.pin === undefined) throw missing("pin");
      if (body.pin !== this.props.pin) throw unauthorized("wrong pin");
    }
    if (this.aclEnabled) {
      const token = body.token;
      if (typeof token !== "string" || !this.allowed.has(token)) {
        throw unauthorized("not in the allowed list");
      }
    }
  }

  /** Members with an accepted offer. */
  publishingCount(except?: Member): number {
    let n = 0;
    for (const m of this.members.values()) if (m !== except && m.publishing) n++;
    return n;
  }

  /** Forwarded streams across every subscriber. */
  forwardedStreams(): number {
    let n = 0;
    for (const w of this.watchers) n += w.forwarded;
    return n;
  }

  /** The member whose private id this is. */
  byPrivateId(privateId: number): Member | undefined {
    for (const m of this.members.values()) if (m.privateId === privateId) return m;
    return undefined;
  }

  /**
   * Sends `data` to every member but `except`: at once, or after the subscriber updates
   * still being prepared (`holdNotices`), to the members of now.
   */
  notify(data: JsonObject, except?: Member): void {
    if (!this.#held) {
      for (const m of this.members.values()) if (m !== except) m.push(data);
      return;
    }
    const to = [...this.members.values()].filter((m) => m !== except);
    this.#hold(this.#held.then(() => {
      for (const m of to) if (this.members.get(m.id) === m) m.push(data);
    }));
  }

  /**
   * Holds back the room's notices until `work` (subscribers' `updated` offers, made in a
   * media worker) is pushed: as on the reference, a departing feed's subscribers hear
   * `updated` before its `unpublished` / `leaving`. A client that detaches its subscription
   * on `unpublished` (the demos do) then never gets an offer on a handle it has let go.
   */
  holdNotices(work: Promise<unknown>): void {
    this.#hold((this.#held ?? Promise.resolve()).then(() => work));
  }

  #hold(step: Promise<unknown>): void {
    const held = step.then(() => {}, () => {});
    this.#held = held;
    void held.then(() => {
      if (this.#held === held) this.#held = undefined;
    });
  }

  /** The `list` entry, in the reference's key order. */
  listEntry(): JsonObject {
    const p = this.props;
    const out: JsonObject = {
      room: p.room,
      description: p.description,
      pin_required: p.pin !== undefined,
      is_private: p.is_private,
      max_publishers: p.publishers,
      bitrate: p.bitrate,
    };
    if (p.bitrate_cap) out.bitrate_cap = true;
    Object.assign(out, {
      fir_freq: p.fir_freq,
      require_pvtid: p.require_pvtid,
      require_e2ee: p.require_e2ee,
      dummy_publisher: p.dummy_publisher,
      notify_joining: p.notify_joining,
      audiocodec: p.audiocodec,
      videocodec: p.videocodec,
    });
    if (p.vp9_profile !== undefined) out.vp9_profile = p.vp9_profile;
    if (p.h264_profile !== undefined) out.h264_profile = p.h264_profile;
    out.opus_fec = p.opus_fec;
    if (p.opus_dtx) out.opus_dtx = true;
    if (p.video_svc) out.video_svc = true;
    out.record = p.record;
    if (p.rec_dir !== undefined) out.rec_dir = p.rec_dir;
    out.lock_record = p.lock_record;
    out.num_participants = this.members.size;
    out.audiolevel_ext = p.audiolevel_ext;
    out.audiolevel_event = p.audiolevel_event;
    if (p.audiolevel_event) {
      out.audio_active_packets = p.audio_active_packets;
      out.audio_level_average = p.audio_level_average;
    }
    out.videoorient_ext = p.videoorient_ext;
    out.playoutdelay_ext = p.playoutdelay_ext;
    out.transport_wide_cc_ext = p.transport_wide_cc_ext;
    return out;
  }

  /** Destroys the room: members hear `destroyed`, every handle is let go. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    const members = [...this.members.values()];
    const watchers = [...this.watchers];
    this.members.clear();
    this.watchers.clear();
    for (const m of members) m.push({ videoroom: "destroyed", room: this.id });
    for (const m of members) m.roomDestroyed();
    for (const w of watchers) w.roomDestroyed();
  }
}

/** Builds room properties from a `create` body (already type-checked). */
export function roomProps(id: number, body: JsonObject): RoomProps {
  const b = (name: string, fallback: boolean) =>
    typeof body[name] === "boolean" ? body[name] as boolean : fallback;
  const n = (name: string, fallback: number) =>
    typeof body[name] === "number" ? body[name] as number : fallback;
  const s = (name: string) => typeof body[name] === "string" ? body[name] as string : undefined;
  return {
    room: id,
    description: s("description") || `Room ${id}`,
    secret: s("secret"),
    pin: s("pin"),
    is_private: b("is_private", false),
    require_pvtid: b("require_pvtid", false),
    publishers: n("publishers", 3),
    bitrate: clampBitrate(n("bitrate", 0)),
    bitrate_cap: b("bitrate_cap", false),
    fir_freq: n("fir_freq", 0),
    audiocodec: roomCodecs("audio", s("audiocodec")) ?? "opus",
    videocodec: roomCodecs("video", s("videocodec")) ?? "vp8",
    vp9_profile: s("vp9_profile"),
    h264_profile: s("h264_profile"),
    opus_fec: b("opus_fec", true),
    opus_dtx: b("opus_dtx", false),
    video_svc: b("video_svc", false),
    audiolevel_ext: b("audiolevel_ext", true),
    audiolevel_event: b("audiolevel_event", false),
    audio_active_packets: n("audio_active_packets", 100),
    audio_level_average: n("audio_level_average", 25),
    videoorient_ext: b("videoorient_ext", true),
    playoutdelay_ext: b("playoutdelay_ext", true),
    transport_wide_cc_ext: b("transport_wide_cc_ext", true),
    record: b("record", false),
    rec_dir: s("rec_dir"),
    lock_record: b("lock_record", false),
    notify_joining: b("notify_joining", false),
    require_e2ee: b("require_e2ee", false),
    dummy_publisher: b("dummy_publisher", false),
  };
}

/** The reference raises a non-zero bitrate below 64 kbit/s to 64000 (measured). */
export function clampBitrate(bitrate: number): number {
  return bitrate > 0 && bitrate < 64000 ? 64000 : bitrate;
}

/** Every room of the plugin, by id. */
export class RoomRegistry {
  readonly rooms = new Map<number, Room>();

  /** The room, or 426. */
  get(id: number): Room {
    const room = this.rooms.get(id);
    if (!room || room.destroyed) throw noSuchRoom(id);
    return room;
  }

  /** Adds a room; 427 when the id is taken. */
  add(room: Room): void {
    if (this.rooms.has(room.id)) {
      throw new PluginError(VIDEOROOM_ERROR.ROOM_EXISTS, `Room ${room.id} already exists`);
    }
    this.rooms.set(room.id, room);
  }

  /** A random free room id (up to 16 digits, as the reference picks them). */
  freeId(): number {
    for (;;) {
      const id = randomId();
      if (!this.rooms.has(id)) return id;
    }
  }

  /** Removes and destroys a room. */
  remove(room: Room): void {
    this.rooms.delete(room.id);
    room.destroy();
  }

  /** Destroys every room. */
  clear(): void {
    for (const room of [...this.rooms.values()]) this.remove(room);
  }
}

/** A random positive safe integer of up to 16 digits. */
export function randomId(): number {
  const buf = new Uint32Array(2);
  crypto.getRandomValues(buf);
  const id = ((buf[0] ?? 0) % 2097152) * 4294967296 + (buf[1] ?? 0);
  return id % 9007199254740991 || 1;
}

/** A random 32-bit private id. */
export function randomPrivateId(): number {
  const buf = new Uint32Array(1);
  crypto.getRandomValues(buf);
  return buf[0] || 1;
}
