/**
 * A room's own media work, beside its participants: announcements (`play_file`), the WAV
 * recording of the mix (`record`, `enable_recording`) and RTP forwarders of the mix
 * (`rtp_forward`). The plugin keeps what is wanted here; the room's mixer does it, a mixer the
 * plugin owns in a media worker (through the plugin host, as Streaming's sources): made on first
 * need (a participant's PeerConnection, a file, a forwarder), it goes on in an empty room, as
 * the reference's mixer thread does, and is let go once nothing is wanted of it (no
 * PeerConnection in it, no file, forwarder or recording) or the room is destroyed.
 *
 * @module
 */
import { createLogger } from "../../core/log.ts";
import type {
  EncoderSettings,
  JsonObject,
  MixRoomRequest,
  PluginMedia,
  RoomMixer,
  RtpLevel,
} from "../../core/plugin.ts";
import { parseOggOpus } from "../../core/media/ogg_opus.ts";

const log = createLogger("audiobridge");

/** An announcement being played. */
interface Announcement {
  path: string;
  loop: boolean;
  /** Its forwarding group, in a room with groups. */
  group: string | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** An RTP forwarder of the mix, as `listforwarders` shows it. */
export interface MixForwarder {
  streamId: number;
  host: string;
  port: number;
  ssrc: number;
  codec: "opus" | "pcma" | "pcmu";
  ptype: number;
  /** Sends silence while the room is empty (otherwise nothing is sent then). */
  alwaysOn: boolean;
  /** Sends only this group's participants and files (a room with groups). */
  group?: string | undefined;
  /** SRTP: suite and the 30-byte master key and salt in base64. */
  srtp?: { suite: 32 | 80; key: string };
}

/**
 * The affinity key of every room's mixer and every participant's PeerConnection: one media
 * worker for the whole plugin, so that `changeroom` (which keeps the PeerConnection, as the
 * reference does) finds the new room's mixer beside it.
 */
export const MIXER_AFFINITY = "janus.plugin.audiobridge";

/** What the room media needs of its room. */
export interface RoomMediaHost {
  readonly id: number;
  /** The mixer's key (participants join it by this key). */
  readonly mixerKey: string;
  readonly sampleRate: number;
  /** A stereo mix, each participant panned by its spatial position. */
  readonly stereo: boolean;
  /** Sends `data` to every participant. */
  notify(data: JsonObject): void;
  /** Whether a participant's PeerConnection is in the room's mixer. */
  mixing(): boolean;
  /** The forwarders' Opus settings: the room's `default_bitrate` and `default_expectedloss`. */
  forwarderEncoder(): EncoderSettings;
}

/** The room's announcements, recording and forwarders. */
export class RoomMedia {
  readonly #room: RoomMediaHost;
  readonly announcements = new Map<string, Announcement>();
  readonly forwarders = new Map<number, MixForwarder>();
  /** Where the mix is recorded, while it is. */
  recording: string | undefined;
  /** How a new recording file is named (the room's `record_file`/`record_dir`). */
  recordPath: (() => string) | undefined;
  /** Where mixers are made (absent without a media engine: nothing is mixed). */
  #host: PluginMedia | undefined;
  /** Listeners of plain-RTP participants' levels, by member id (the mixer reports them). */
  readonly rtpLevels = new Map<string, (level: RtpLevel) => void>();
  /** The room's mixer, once it is needed. */
  #mixer: Promise<RoomMixer | undefined> | undefined;
  #closed = false;

  constructor(room: RoomMediaHost) {
    this.#room = room;
  }

  /** Where the room's mixer is made. */
  useHost(host: PluginMedia | undefined): void {
    this.#host = host;
  }

  /**
   * The room's mixer, made on first need and handed everything wanted; undefined without a
   * media engine, or when it could not be made (logged).
   */
  mixer(): Promise<RoomMixer | undefined> {
    if (this.#closed || !this.#host) return Promise.resolve(undefined);
    if (this.#mixer) return this.#mixer;
    const made: Promise<RoomMixer | undefined> = this.#host.createMixer({
      key: this.#room.mixerKey,
      sampleRate: this.#room.sampleRate,
      stereo: this.#room.stereo,
      affinity: MIXER_AFFINITY,
      // Its worker died: the next need makes another (a recording then goes to a new file).
      onClosed: () => {
        if (this.#mixer !== made) return;
        this.#mixer = undefined;
        if (this.recording !== undefined && this.recordPath) this.recording = this.recordPath();
      },
    }).then(async (m) => {
      m.onRtpLevel((level) => this.rtpLevels.get(level.id)?.(level));
      for (const op of this.#wanted()) await m.work(op).catch((e) => this.#warn(e));
      return m;
    }, (e) => {
      this.#warn(e);
      if (this.#mixer === made) this.#mixer = undefined;
      return undefined;
    });
    this.#mixer = made;
    return made;
  }

  /** Lets the mixer go once nothing is wanted of it (so an idle media worker can stop). */
  settle(): void {
    const idle = !this.#room.mixing() && this.announcements.size === 0 &&
      this.forwarders.size === 0 && this.recording === undefined;
    if (!idle || !this.#mixer) return;
    const mixer = this.#mixer;
    this.#mixer = undefined;
    void mixer.then((m) => m?.close()).catch((e) => this.#warn(e));
  }

  /**
   * Checks an Ogg/Opus file and starts it; resolves its playing time in ms.
   *
   * @throws {Error} when the file cannot be read or is not Ogg/Opus
   */
  async play(fileId: string, path: string, loop: boolean, group?: string): Promise<number> {
    const { durationMs } = parseOggOpus(await Deno.readFile(path));
    const a: Announcement = { path, loop, group, timer: undefined };
    this.announcements.set(fileId, a);
    this.#send(playOp(fileId, a), true);
    this.#room.notify({
      audiobridge: "announcement-started",
      room: this.#room.id,
      file_id: fileId,
    });
    // The plugin's clock ends a file played once, as the mixer's runs out of it.
    if (!loop) a.timer = setTimeout(() => this.stop(fileId), durationMs + 100);
    return durationMs;
  }

  /** Stops an announcement; false when there is none of that id. */
  stop(fileId: string): boolean {
    const a = this.announcements.get(fileId);
    if (!a) return false;
    clearTimeout(a.timer);
    this.announcements.delete(fileId);
    this.#send({ op: "stopPlay", id: fileId });
    this.#room.notify({
      audiobridge: "announcement-stopped",
      room: this.#room.id,
      file_id: fileId,
    });
    this.settle();
    return true;
  }

  /** Starts (a new file) or stops recording the mix. */
  setRecording(on: boolean): void {
    if (on === (this.recording !== undefined)) return;
    this.recording = on && this.recordPath ? this.recordPath() : undefined;
    // Nothing is written while the room is empty: the first member's mixer gets it.
    this.#send({ op: "record", path: this.recording ?? null });
    this.settle();
  }

  addForwarder(f: MixForwarder): void {
    this.forwarders.set(f.streamId, f);
    this.#send(forwardOp(f, this.#room.forwarderEncoder()), true);
  }

  removeForwarder(streamId: number): boolean {
    if (!this.forwarders.delete(streamId)) return false;
    this.#send({ op: "stopForward", id: String(streamId) });
    this.settle();
    return true;
  }

  /** The room is gone: timers stop, and so does its mixer. */
  close(): void {
    this.#closed = true;
    for (const a of this.announcements.values()) clearTimeout(a.timer);
    this.announcements.clear();
    this.forwarders.clear();
    this.recording = undefined;
    const mixer = this.#mixer;
    this.#mixer = undefined;
    void mixer?.then((m) => m?.close()).catch((e) => this.#warn(e));
  }

  /** What a new mixer is handed: the recording, forwarders and files wanted now. */
  #wanted(): MixRoomRequest[] {
    const ops: MixRoomRequest[] = [];
    if (this.recording !== undefined) ops.push({ op: "record", path: this.recording });
    const encoder = this.#room.forwarderEncoder();
    for (const f of this.forwarders.values()) ops.push(forwardOp(f, encoder));
    for (const [id, a] of this.announcements) ops.push(playOp(id, a));
    return ops;
  }

  /** Sends `op` to the mixer; with `make`, one is made if needed (and handed `op` as wanted). */
  #send(op: MixRoomRequest, make = false): void {
    if (!this.#mixer) {
      if (make) void this.mixer();
      return;
    }
    void this.#mixer.then((m) => m?.work(op)).catch((e) => this.#warn(e));
  }

  #warn(e: unknown): void {
    log.warn(`room ${this.#room.id}: ${(e as Error).message}`);
  }
}

function playOp(id: string, a: Announcement): MixRoomRequest {
  const { path, loop, group } = a;
  return { op: "play", id, path, loop, ...(group !== undefined ? { group } : {}) };
}

function forwardOp(f: MixForwarder, encoder: EncoderSettings): MixRoomRequest {
  return {
    op: "forward",
    id: String(f.streamId),
    host: f.host,
    port: f.port,
    codec: f.codec,
    payloadType: f.ptype,
    ssrc: f.ssrc,
    alwaysOn: f.alwaysOn,
    ...(f.group !== undefined ? { group: f.group } : {}),
    ...(f.srtp ? { srtp: f.srtp } : {}),
    encoder,
  };
}
