/**
 * A room's own media work, beside its participants: announcements (`play_file`), the WAV
 * recording of the mix (`record`, `enable_recording`) and RTP forwarders of the mix
 * (`rtp_forward`). The plugin keeps what is wanted here; the room's mixer in the media worker
 * does it, reached through any participant whose PeerConnection is in it. A mixer lives while
 * someone is in it: the first member to join a fresh mixer hands it all again (a recording then
 * goes to a new file, an announcement starts over).
 *
 * @module
 */
import { createLogger } from "../../core/log.ts";
import type { JsonObject, MixRequest, PluginWebRTC } from "../../core/plugin.ts";
import { parseOggOpus } from "../../core/media/ogg_opus.ts";

const log = createLogger("audiobridge");

/** An announcement being played. */
interface Announcement {
  path: string;
  loop: boolean;
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
}

/** What the room media needs of its room. */
export interface RoomMediaHost {
  readonly id: number;
  /** Sends `data` to every participant. */
  notify(data: JsonObject): void;
  /** A PeerConnection in the room's mixer, if any. */
  mixing(): PluginWebRTC | undefined;
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

  constructor(room: RoomMediaHost) {
    this.#room = room;
  }

  /**
   * Checks an Ogg/Opus file and starts it; resolves its playing time in ms.
   *
   * @throws {Error} when the file cannot be read or is not Ogg/Opus
   */
  async play(fileId: string, path: string, loop: boolean): Promise<number> {
    const { durationMs } = parseOggOpus(await Deno.readFile(path));
    const a: Announcement = { path, loop, timer: undefined };
    this.announcements.set(fileId, a);
    this.#send({ op: "play", id: fileId, path, loop });
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
    return true;
  }

  /** Starts (a new file) or stops recording the mix. */
  setRecording(on: boolean): void {
    if (on === (this.recording !== undefined)) return;
    this.recording = on && this.recordPath ? this.recordPath() : undefined;
    this.#send({ op: "record", path: this.recording ?? null });
  }

  addForwarder(f: MixForwarder): void {
    this.forwarders.set(f.streamId, f);
    this.#send(forwardOp(f));
  }

  removeForwarder(streamId: number): boolean {
    if (!this.forwarders.delete(streamId)) return false;
    this.#send({ op: "stopForward", id: String(streamId) });
    return true;
  }

  /**
   * `via` joined the room's mixer: hands it everything wanted (a no-op for a mixer that has
   * it); `fresh` when it is alone there (a recording goes to a new file).
   */
  async joined(via: PluginWebRTC, fresh: boolean): Promise<void> {
    if (fresh && this.recording !== undefined && this.recordPath) {
      this.recording = this.recordPath();
    }
    const ops: MixRequest[] = [];
    if (this.recording !== undefined) ops.push({ op: "record", path: this.recording });
    for (const f of this.forwarders.values()) ops.push(forwardOp(f));
    for (const [id, a] of this.announcements) {
      ops.push({ op: "play", id, path: a.path, loop: a.loop });
    }
    for (const op of ops) {
      await via.mix(op).catch((e) => log.warn(`room ${this.#room.id}: ${(e as Error).message}`));
    }
  }

  /** The room is gone: timers stop (its mixer ends with its last member). */
  close(): void {
    for (const a of this.announcements.values()) clearTimeout(a.timer);
    this.announcements.clear();
    this.forwarders.clear();
    this.recording = undefined;
  }

  #send(op: MixRequest): void {
    const via = this.#room.mixing();
    if (!via) return;
    void via.mix(op).catch((e) => log.warn(`room ${this.#room.id}: ${(e as Error).message}`));
  }
}

function forwardOp(f: MixForwarder): MixRequest {
  return {
    op: "forward",
    id: String(f.streamId),
    host: f.host,
    port: f.port,
    codec: f.codec,
    payloadType: f.ptype,
    ssrc: f.ssrc,
  };
}
