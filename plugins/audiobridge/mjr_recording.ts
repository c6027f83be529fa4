/**
 * A participant's own audio recorded to an MJR file (`record` on join/configure, the room's
 * `mjrs`), as the reference names it: `<filename>-audio.mjr`, else
 * `audiobridge-<room>-user-<id>-<µs now>-audio.mjr`, in the room's `mjrs_dir` (made when
 * missing; without one, relative to the gateway's working folder). The media worker writes the
 * packets as received: a PeerConnection's (`PluginWebRTC.startRecording`: the RTP engine; the
 * wrtc engine refuses, which is logged as the reference logs a file it cannot open) or a
 * plain-RTP participant's socket's (`RoomMixer.rtp` `record`). While the participant is muted,
 * its packets are not written and their time stays a gap, as the reference's.
 *
 * @module
 */
import { basename, join, resolve } from "node:path";
import { createLogger } from "../../core/log.ts";
import type { PluginWebRTC, RoomMixer } from "../../core/plugin.ts";

const log = createLogger("audiobridge");

/** The wall clock in µs, as the reference's `janus_get_real_time`. */
function nowUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/** The absolute path of a participant's recording. */
export function mjrPath(options: {
  dir: string | undefined;
  base: string | undefined;
  room: number;
  user: number;
}): string {
  const name = options.base !== undefined
    ? `${options.base}-audio`
    : `audiobridge-${options.room}-user-${options.user}-${nowUs()}-audio`;
  const file = `${name}.mjr`;
  return resolve(options.dir ? join(options.dir, file) : file);
}

/** What records a participant's audio: its PeerConnection's m-line, or its RTP socket. */
export interface RecordingSink {
  /** The same while it is the same m-line or socket (a change starts a new file). */
  readonly id: string;
  start(options: { path: string; codec: string; muted: boolean }): Promise<void>;
  mute(muted: boolean): Promise<void>;
  stop(): Promise<void>;
}

/** A PeerConnection's received m-line `mid` as a recording sink. */
export function peerSink(webrtc: PluginWebRTC, mid: string): RecordingSink {
  return {
    id: `peer:${mid}`,
    start: (o) => webrtc.startRecording({ mid, ...o }),
    mute: (muted) => webrtc.updateRecording({ mid, muted }),
    stop: () => webrtc.stopRecording(mid),
  };
}

/** A plain-RTP participant's socket (member `id` of `mixer`) as a recording sink. */
export function rtpSink(mixer: RoomMixer, id: string): RecordingSink {
  let path = "";
  let codec = "";
  return {
    id: `rtp:${mixer.key}`,
    start: async (o) => {
      ({ path, codec } = o);
      await mixer.rtp({ op: "record", id, ...o });
    },
    mute: async (muted) => void await mixer.rtp({ op: "record", id, path, codec, muted }),
    stop: async () => void await mixer.rtp({ op: "stopRecord", id }),
  };
}

/** Where the recording should be: the participant's media and its audio. */
export interface RecordingTarget {
  sink: RecordingSink;
  codec: string;
  room: number;
  user: number;
  dir: string | undefined;
  /** Muted (by itself, a moderator or `mute_room`): nothing is written. */
  silenced: boolean;
}

/** One handle's recording: what was asked for, and the file being written. */
export class ParticipantRecording {
  /** `record` (or the room's `mjrs`) asked for it. */
  wanted = false;
  /** The `filename` given (kept until the PeerConnection goes, as the reference). */
  base: string | undefined;
  #active: { sink: RecordingSink; path: string; silenced: boolean } | undefined;
  /** A start that failed on this sink: not tried again until asked again. */
  #failed: string | undefined;

  /** The file's name while recording (admin `handle_info`'s `audio-recording`). */
  get fileName(): string | undefined {
    return this.#active ? basename(this.#active.path) : undefined;
  }

  /** Asked for again (`record`, `enable_mjrs`): a failed start may be retried. */
  want(on: boolean): void {
    this.wanted = on;
    this.#failed = undefined;
  }

  /** Starts, updates or stops the recording for `target` (none: not in a room or no media). */
  async sync(target: RecordingTarget | undefined): Promise<void> {
    const active = this.#active;
    const keep = this.wanted && target !== undefined;
    if (active && (!keep || active.sink.id !== target.sink.id)) {
      this.#active = undefined;
      await active.sink.stop().catch(() => {});
    }
    if (!keep) return;
    const current = this.#active;
    if (current) {
      if (current.silenced === target.silenced) return;
      current.silenced = target.silenced;
      await current.sink.mute(target.silenced);
      return;
    }
    if (this.#failed === target.sink.id) return;
    const path = mjrPath({
      dir: target.dir,
      base: this.base,
      room: target.room,
      user: target.user,
    });
    try {
      await target.sink.start({ path, codec: target.codec, muted: target.silenced });
    } catch (e) {
      this.#failed = target.sink.id;
      log.warn(`Couldn't open an audio recording file for this participant: ${String(e)}`);
      return;
    }
    this.#active = { sink: target.sink, path, silenced: target.silenced };
  }

  /** The PeerConnection went (its recordings with it), or the handle: nothing is kept. */
  forget(): void {
    this.#active = undefined;
    this.#failed = undefined;
    this.wanted = false;
    this.base = undefined;
  }
}
