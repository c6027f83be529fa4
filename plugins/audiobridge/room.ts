/**
 * Rooms: their properties (as `create` and the configuration take them), the reference's
 * `list` entry, the participants in them, and the registry.
 *
 * @module
 */
import type { JsonObject, PluginMedia, PluginWebRTC } from "../../core/plugin.ts";
import { noSuchRoom } from "./errors.ts";
import { RoomMedia } from "./room_media.ts";

/** A room's properties; wire names, as `create` takes them. */
export interface RoomProps {
  room: number;
  description: string;
  secret?: string | undefined;
  pin?: string | undefined;
  is_private: boolean;
  sampling_rate: number;
  spatial_audio: boolean;
  /** Participants may join with plain RTP (`rtp`) instead of WebRTC. */
  allow_rtp_participants: boolean;
  record: boolean;
  record_file?: string | undefined;
  record_dir?: string | undefined;
  /** Every participant's own audio is recorded to an MJR file (`enable_mjrs` toggles it). */
  mjrs: boolean;
  /** Where those files go (none: the gateway's working folder). */
  mjrs_dir?: string | undefined;
  audiolevel_ext: boolean;
  audiolevel_event: boolean;
  audio_active_packets: number;
  audio_level_average: number;
  default_prebuffering: number;
  default_expectedloss: number;
  default_bitrate: number;
  /** Forwarding groups (at most 5): each participant and file is in one, forwarders pick one. */
  groups?: string[] | undefined;
}

/** The reference's stock room (janus.plugin.audiobridge.jcfg sample). */
export const STOCK_ROOMS: readonly JsonObject[] = [
  { room: 1234, description: "Demo Room", secret: "adminpwd", sampling_rate: 16000 },
];

/** What a room needs of a participant. */
export interface Member {
  readonly id: number;
  readonly display: string | undefined;
  readonly muted: boolean;
  /** The PeerConnection is up (`setup` in the reference's lists). */
  readonly setup: boolean;
  /** Whether talking is measured for it (`talking` shows in lists only then). */
  readonly measured: boolean;
  readonly talking: boolean;
  /** Its panning in a spatial-audio room (0 left .. 100 right). */
  readonly spatialPosition: number;
  /** Its PeerConnection, while it is in the room's mixer. */
  readonly mixingWebrtc: PluginWebRTC | undefined;
  /** It joined with plain RTP: its socket is in the room's mixer. */
  readonly plainRtp: boolean;
  /** Pushes an unprompted event to the participant's handle. */
  push(data: JsonObject): void;
  /** The room ended under it, or it was kicked: its PeerConnection goes. */
  evict(): void;
  /** A moderator muted or unmuted it. */
  setMuted(muted: boolean): void;
  /** `mute_room`/`unmute_room` changed what it may add to the mix. */
  roomMuteChanged(): void;
  /** `enable_mjrs` turned the recording of its own audio on or off (done when resolved). */
  setMjrRecording(on: boolean): Promise<void>;
}

/** An audio room. */
export class Room {
  readonly props: RoomProps;
  /** Tokens of the ACL. */
  readonly allowed: Set<string>;
  /** Whether `join` checks `allowed`. */
  checkTokens: boolean;
  /** Whether `mute_room` is on (participants without the room secret are not mixed). */
  muted = false;
  /** Participants by id, in the order they joined. */
  readonly participants = new Map<number, Member>();
  destroyed = false;
  /** Announcements, the mix's recording and forwarders. */
  readonly media: RoomMedia;

  constructor(props: RoomProps, allowed?: readonly string[]) {
    this.props = props;
    this.allowed = new Set(allowed ?? []);
    this.checkTokens = allowed !== undefined;
    this.media = new RoomMedia({
      id: props.room,
      mixerKey: this.mixerKey,
      sampleRate: props.sampling_rate,
      stereo: props.spatial_audio,
      notify: (data) => this.notify(data),
      mixing: () =>
        this.mixing() !== undefined || [...this.participants.values()].some((m) => m.plainRtp),
      // The reference's forwarders: the room's bitrate, and FEC when it expects loss.
      forwarderEncoder: () => ({
        bitrate: this.props.default_bitrate,
        fec: this.props.default_expectedloss > 0,
        expectedLoss: this.props.default_expectedloss,
      }),
    });
    this.media.recordPath = () => recordPath(this.props);
    if (props.record) this.media.recording = recordPath(props);
  }

  /** A PeerConnection in the room's mixer (other than `skip`'s), if any. */
  mixing(skip?: Member): PluginWebRTC | undefined {
    for (const m of this.participants.values()) {
      if (m !== skip && m.mixingWebrtc) return m.mixingWebrtc;
    }
    return undefined;
  }

  get id(): number {
    return this.props.room;
  }

  /** The mixer's key in the media worker. */
  get mixerKey(): string {
    return `audiobridge:${this.id}`;
  }

  /** The entry of `list`. */
  listEntry(): JsonObject {
    const p = this.props;
    return {
      room: p.room,
      description: p.description,
      sampling_rate: p.sampling_rate,
      spatial_audio: p.spatial_audio,
      pin_required: p.pin !== undefined,
      record: p.record,
      muted: this.muted,
      num_participants: this.participants.size,
    };
  }

  /** The entry written for a permanent room (its `create` fields). */
  savedEntry(): JsonObject {
    const p = this.props;
    const out: JsonObject = { room: p.room, description: p.description };
    if (p.secret !== undefined) out.secret = p.secret;
    if (p.pin !== undefined) out.pin = p.pin;
    if (p.is_private) out.is_private = true;
    out.sampling_rate = p.sampling_rate;
    if (p.spatial_audio) out.spatial_audio = true;
    if (p.allow_rtp_participants) out.allow_rtp_participants = true;
    if (p.record) out.record = true;
    if (p.record_file !== undefined) out.record_file = p.record_file;
    if (p.record_dir !== undefined) out.record_dir = p.record_dir;
    if (p.mjrs) out.mjrs = true;
    if (p.mjrs_dir !== undefined) out.mjrs_dir = p.mjrs_dir;
    if (!p.audiolevel_ext) out.audiolevel_ext = false;
    if (p.audiolevel_event) {
      out.audiolevel_event = true;
      out.audio_active_packets = p.audio_active_packets;
      out.audio_level_average = p.audio_level_average;
    }
    if (this.checkTokens) out.allowed = [...this.allowed];
    if (p.groups) out.groups = [...p.groups];
    return out;
  }

  /** Pushes `data` to every participant, except `skip`. */
  notify(data: JsonObject, skip?: Member): void {
    for (const m of this.participants.values()) if (m !== skip) m.push(data);
  }
}

/**
 * Where a recording of the room's mix goes, as the reference names it: `record_file` (in
 * `record_dir` when set), else `janus-audioroom-<room>-<now in us>.wav`.
 */
export function recordPath(p: RoomProps): string {
  const dir = p.record_dir ? `${p.record_dir}/` : "";
  const now = Date.now() * 1000;
  return `${dir}${p.record_file ?? `janus-audioroom-${p.room}-${now}.wav`}`;
}

/** A participant as the reference's lists and events show it. */
export function participantEntry(m: Member, room: Room, withTalking = true): JsonObject {
  const out: JsonObject = { id: m.id };
  if (m.display !== undefined) out.display = m.display;
  out.setup = m.setup;
  out.muted = m.muted;
  if (withTalking && m.measured) out.talking = m.talking;
  if (room.props.spatial_audio) out.spatial_position = m.spatialPosition;
  return out;
}

/** A random id in JSON's safe integer range (the reference uses 64-bit random ids). */
export function randomId(): number {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
  return ((hi! & 0x1fffff) * 0x100000000 + lo!) || 1;
}

/** Every room. */
export class RoomRegistry {
  readonly rooms = new Map<number, Room>();
  /** Where rooms' mixers are made (the plugin host's media). */
  media: PluginMedia | undefined;

  add(room: Room): void {
    room.media.useHost(this.media);
    this.rooms.set(room.id, room);
  }

  /** @throws {PluginError} 485 when there is no such room */
  get(id: number): Room {
    const room = this.rooms.get(id);
    if (!room) throw noSuchRoom(id);
    return room;
  }

  remove(room: Room): void {
    room.destroyed = true;
    room.media.close();
    this.rooms.delete(room.id);
  }

  /** A random unused room id. */
  freeId(): number {
    for (;;) {
      const id = randomId();
      if (!this.rooms.has(id)) return id;
    }
  }

  /** Participants in every room. */
  get participants(): number {
    let n = 0;
    for (const r of this.rooms.values()) n += r.participants.size;
    return n;
  }
}
