/**
 * Plays MJR recordings into a peer's sending lines on the RTP engine (Record&Play's playout):
 * each recording is a `ForwardSource` feeding one line (our SSRC, sequence numbers and
 * timestamps through the line's rewriter, the offered payload type, video from a keyframe),
 * and its packets go out at their recorded pace (RTP timestamps) from the moment every line's
 * track is open, as the reference starts its playout threads once the PeerConnection is up.
 * Keyframe requests are not answered: a file has the keyframes it has.
 *
 * @module
 */
import type { PlayoutStream } from "../types.ts";
import { mjrClockRate, type MjrRecording, parseMjr } from "./mjr_reader.ts";
import type { ForwardSource, SendLine } from "./send_lines.ts";

/** Payload types of the reference's playout offers (`AUDIO_PT`, `VIDEO_PT`, rtx after it). */
export const PLAYOUT_PT = { audio: 111, video: 100, rtx: 101 } as const;

/** How often due packets are sent. */
const TICK_MS = 10;

/** One recording as the source of a line. */
class RecordingSource implements ForwardSource {
  readonly kind: "audio" | "video";
  readonly payloadType: number;
  readonly rtxPayloadType: number;
  readonly clockRate: number;
  readonly extensions: ReadonlyMap<number, string>;
  readonly recording: MjrRecording;
  readonly outputs = new Set<SendLine>();
  next = 0;

  constructor(recording: MjrRecording) {
    this.recording = recording;
    this.kind = recording.kind;
    this.payloadType = recording.kind === "audio" ? PLAYOUT_PT.audio : PLAYOUT_PT.video;
    this.rtxPayloadType = recording.kind === "video" ? PLAYOUT_PT.rtx : 0;
    this.clockRate = mjrClockRate(recording);
    this.extensions = recording.extensions;
  }

  requestKeyframe(): void {}
  keyframeReceived(): void {}
  receiverEstimate(): void {}
  addOutput(line: SendLine): void {
    this.outputs.add(line);
  }
  removeOutput(line: SendLine): void {
    this.outputs.delete(line);
  }

  get done(): boolean {
    return this.next >= this.recording.packets.length;
  }
}

/** Codecs the RTP engine can offer for playout. */
const PLAYABLE: Readonly<Record<string, string>> = { audio: "opus", video: "vp8" };

/** A playout of one or more recordings on one peer. */
export class MjrPlayer {
  readonly streams: PlayoutStream[];
  readonly #sources: RecordingSource[];
  readonly #lines: SendLine[];
  readonly #onEnded: () => void;
  #timer: ReturnType<typeof setInterval> | undefined;
  #startMs: number | undefined;
  #scratch: Uint8Array;
  #closed = false;

  /**
   * Reads every file and adds a line for it (`addLine`: the peer's new sending line `mid` fed by
   * the source). Throws when a file cannot be read or holds a codec the engine cannot send.
   */
  constructor(
    files: readonly { path: string; mid: string }[],
    addLine: (mid: string, source: ForwardSource) => SendLine,
    onEnded: () => void,
  ) {
    if (files.length === 0) throw new Error("Nothing to play");
    const recordings = files.map((f) => {
      const recording = parseMjr(Deno.readFileSync(f.path));
      if (PLAYABLE[recording.kind] !== recording.codec) {
        throw new Error(`Cannot play ${recording.codec} ${recording.kind} (${f.path})`);
      }
      return recording;
    });
    this.#sources = recordings.map((r) => new RecordingSource(r));
    this.#lines = this.#sources.map((s, i) => addLine(files[i]!.mid, s));
    this.#onEnded = onEnded;
    let largest = 0;
    for (const r of recordings) {
      for (const p of r.packets) largest = Math.max(largest, p.data.length);
    }
    this.#scratch = new Uint8Array(Math.max(largest, 1));
    this.streams = this.#sources.map((s, i) => ({
      mid: this.#lines[i]!.mid,
      kind: s.kind,
      codec: s.recording.codec,
      packets: s.recording.packets.length,
      durationMs: Math.round(s.recording.durationMs),
    }));
    this.#timer = setInterval(() => this.#tick(performance.now()), TICK_MS);
  }

  /** Packets sent so far, all streams. */
  get sent(): number {
    let n = 0;
    for (const s of this.#sources) n += s.next;
    return n;
  }

  #tick(nowMs: number): void {
    if (this.#closed) return;
    if (this.#startMs === undefined) {
      // The clock starts once every line can send (DTLS done on the bundle).
      if (!this.#lines.every((l) => l.track?.isOpen())) return;
      this.#startMs = nowMs;
    }
    const elapsed = nowMs - this.#startMs;
    for (const source of this.#sources) {
      const packets = source.recording.packets;
      while (source.next < packets.length && packets[source.next]!.atMs <= elapsed) {
        const data = packets[source.next++]!.data;
        for (const line of source.outputs) {
          // A line rewrites the header in place: each gets a fresh copy.
          this.#scratch.set(data);
          line.send(this.#scratch, data.length, nowMs);
        }
      }
    }
    if (this.#sources.every((s) => s.done)) {
      this.close();
      this.#onEnded();
    }
  }

  /** Stops sending; the lines stay, free. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const line of this.#lines) line.detach();
  }
}
