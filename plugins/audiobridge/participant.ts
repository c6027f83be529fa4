/**
 * One participant: who it is in its room, what it chose (display, muted, volume) and what a
 * moderator did to it; the room reads it through `Member`, and every change that touches the
 * media goes to its session.
 *
 * @module
 */
import type { JsonObject, PluginWebRTC } from "../../core/plugin.ts";
import type { Member, Room } from "./room.ts";

/** What a participant needs of its handle's session. */
export interface ParticipantSession {
  /** The PeerConnection is up. */
  readonly started: boolean;
  /** Talking is measured (the PeerConnection carries the audio-level extension). */
  readonly measured: boolean;
  push(data: JsonObject): void;
  evict(participant: Participant): void;
  /** Its mute or gain changed: the mixer must hear of it. */
  updateMix(): void;
  /** Its PeerConnection, while it is in the room's mixer. */
  readonly mixingWebrtc: PluginWebRTC | undefined;
  /** It joined with plain RTP. */
  readonly plainRtp: boolean;
  /** Records its own audio to an MJR file, or stops (done when resolved). */
  setMjrRecording(on: boolean): Promise<void>;
}

/** The settings `join` and `configure` take. */
export interface ParticipantSettings {
  display: string | undefined;
  muted: boolean;
  /** Gain in percent (`volume`, 100 = as received). */
  volume: number;
  /** Joined with the room secret: `mute_room` does not silence it. */
  admin: boolean;
  codec: string;
  /** Opus encoder bitrate for its mix (0: automatic) and complexity (`quality`, 1-10). */
  bitrate: number;
  quality: number;
  /** The loss (0-20 %) its mix's in-band FEC is sized for (`expected_loss`). */
  expectedLoss: number;
  /** Per-user talking window and threshold (0: the room's). */
  activePackets: number;
  levelAverage: number;
  /** Its forwarding group, in a room with groups. */
  group?: string | undefined;
  /** Panning in a spatial-audio room: 0 left, 50 centre, 100 right. */
  spatialPosition: number;
  /** Packets buffered before its audio is mixed (`prebuffer`, the room's by default). */
  prebuffer: number;
}

/** A handle in a room. */
export class Participant implements Member, ParticipantSettings {
  id: number;
  room: Room;
  display: string | undefined;
  muted: boolean;
  volume: number;
  admin: boolean;
  codec: string;
  bitrate: number;
  quality: number;
  expectedLoss: number;
  /** Its stream has Opus in-band FEC (`useinbandfec=1` offered, or `rtp.fec`): used both ways. */
  fec = false;
  activePackets: number;
  levelAverage: number;
  spatialPosition: number;
  prebuffer: number;
  talking = false;
  group: string | undefined;
  readonly #session: ParticipantSession;

  constructor(id: number, room: Room, settings: ParticipantSettings, session: ParticipantSession) {
    this.id = id;
    this.room = room;
    this.display = settings.display;
    this.muted = settings.muted;
    this.volume = settings.volume;
    this.admin = settings.admin;
    this.codec = settings.codec;
    this.bitrate = settings.bitrate;
    this.quality = settings.quality;
    this.expectedLoss = settings.expectedLoss;
    this.activePackets = settings.activePackets;
    this.levelAverage = settings.levelAverage;
    this.group = settings.group;
    this.spatialPosition = settings.spatialPosition;
    this.prebuffer = settings.prebuffer;
    this.#session = session;
  }

  get setup(): boolean {
    return this.#session.started;
  }

  get measured(): boolean {
    return this.#session.measured;
  }

  get mixingWebrtc(): PluginWebRTC | undefined {
    return this.#session.mixingWebrtc;
  }

  get plainRtp(): boolean {
    return this.#session.plainRtp;
  }

  /** Whether it adds nothing to the mix: muted by itself or a moderator, or by `mute_room`. */
  get silenced(): boolean {
    return this.muted || (this.room.muted && !this.admin);
  }

  push(data: JsonObject): void {
    this.#session.push(data);
  }

  evict(): void {
    this.#session.evict(this);
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
    this.#session.updateMix();
  }

  roomMuteChanged(): void {
    this.#session.updateMix();
  }

  setMjrRecording(on: boolean): Promise<void> {
    return this.#session.setMjrRecording(on);
  }
}
