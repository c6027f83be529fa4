/**
 * Records one received stream of a peer on the RTP engine (a `PacketTap`): packets go to an
 * `MjrWriter` as received, video from its first keyframe (asked for when the recording
 * starts, as the reference's PLI "Recording video"), so the file starts decodable. As Janus's
 * recorder, the packets written are renumbered (`SwitchingContext`) and a paused recording
 * drops them; resumed, it asks for a keyframe and goes on with no gap in RTP time. With a
 * keyframe interval, video asks for one that often while packets come (Record&Play). A muted
 * recording drops packets too but keeps their time, as Janus's AudioBridge leaves a gap.
 *
 * @module
 */
import { createLogger } from "../../log.ts";
import type { RecordingOptions, RecordingUpdate } from "../types.ts";
import type { PacketTap } from "./echo_media.ts";
import { setSequenceNumber, setTimestamp } from "./header.ts";
import { type KeyframeTest, keyframeTest, startsKeyframe } from "./keyframes.ts";
import { MjrWriter, openMjrFile } from "./mjr_writer.ts";
import type { ForwardSource } from "./send_lines.ts";
import { SwitchingContext } from "./switching_context.ts";

const log = createLogger("rtp-worker");

/** Buffered frames are written at least this often (a crash loses no more). */
const FLUSH_MS = 1000;

/** A recording of one m-line. */
export class MjrRecorder implements PacketTap {
  readonly path: string;
  readonly #writer: MjrWriter;
  readonly #source: ForwardSource;
  readonly #context: SwitchingContext;
  /** Video waits for a keyframe of its codec; undefined once one came (or not recognised). */
  #waitKeyframe: KeyframeTest | undefined;
  #paused = false;
  #muted = false;
  #keyframeIntervalMs: number | undefined;
  #lastKeyframeRequest: number;
  #lastFlush = 0;
  #reported = false;

  /** Opens the file (throws when it cannot be made) and asks for a keyframe. */
  constructor(source: ForwardSource, options: RecordingOptions, nowMs: number) {
    this.path = options.path;
    this.#source = source;
    const codec = options.codec.toLowerCase();
    this.#writer = new MjrWriter(openMjrFile(options.path), {
      kind: source.kind,
      codec,
      ...(options.description !== undefined ? { description: options.description } : {}),
      extensions: source.extensions,
    });
    this.#context = new SwitchingContext(source.kind === "video");
    this.#waitKeyframe = source.kind === "video" ? keyframeTest(codec) : undefined;
    this.#keyframeIntervalMs = options.keyframeIntervalMs;
    this.#muted = options.muted === true;
    this.#lastKeyframeRequest = nowMs;
    if (source.kind === "video") source.requestKeyframe(nowMs);
  }

  update(update: RecordingUpdate, nowMs: number): void {
    if (update.keyframeIntervalMs !== undefined) {
      this.#keyframeIntervalMs = update.keyframeIntervalMs;
    }
    if (update.muted !== undefined) this.#muted = update.muted;
    if (update.paused === undefined || update.paused === this.#paused) return;
    this.#paused = update.paused;
    if (this.#paused) return;
    this.#context.reset(nowMs);
    if (this.#source.kind === "video") this.#requestKeyframe(nowMs);
  }

  #requestKeyframe(nowMs: number): void {
    this.#lastKeyframeRequest = nowMs;
    this.#source.requestKeyframe(nowMs);
  }

  packet(buf: Uint8Array, length: number, nowMs: number): void {
    const interval = this.#keyframeIntervalMs;
    if (
      interval !== undefined && this.#source.kind === "video" &&
      nowMs - this.#lastKeyframeRequest >= interval
    ) {
      this.#requestKeyframe(nowMs);
    }
    if (this.#paused || this.#muted) return;
    if (this.#waitKeyframe) {
      if (!startsKeyframe(this.#waitKeyframe, buf, length)) return;
      this.#waitKeyframe = undefined;
      this.#source.keyframeReceived();
    }
    // The header as written, then back as received for the other taps.
    const { seq, ts } = this.#context.update(buf, nowMs);
    this.#writer.writeRtp(buf, length, nowMs);
    setSequenceNumber(buf, seq);
    setTimestamp(buf, ts);
    if (nowMs - this.#lastFlush >= FLUSH_MS) {
      this.#lastFlush = nowMs;
      this.#writer.flush();
    }
    if (this.#writer.error && !this.#reported) {
      this.#reported = true;
      log.warn(`recording ${this.path} stopped: ${this.#writer.error.message}`);
    }
  }

  close(): void {
    this.#writer.close();
  }
}
