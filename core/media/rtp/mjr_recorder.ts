/**
 * Records one received stream of a peer on the RTP engine (a `PacketTap`): packets go to an
 * `MjrWriter` as received, VP8 video from its first keyframe (asked for when the recording
 * starts, as the reference's PLI "Recording video"), so the file starts decodable.
 *
 * @module
 */
import { createLogger } from "../../log.ts";
import type { RecordingOptions } from "../types.ts";
import type { PacketTap } from "./echo_media.ts";
import { headerLength, paddingLength } from "./header.ts";
import { MjrWriter, openMjrFile } from "./mjr_writer.ts";
import type { ForwardSource } from "./send_lines.ts";
import { isVp8Keyframe } from "./vp8.ts";

const log = createLogger("rtp-worker");

/** Buffered frames are written at least this often (a crash loses no more). */
const FLUSH_MS = 1000;

/** A recording of one m-line. */
export class MjrRecorder implements PacketTap {
  readonly path: string;
  readonly #writer: MjrWriter;
  readonly #source: ForwardSource;
  #waitKeyframe: boolean;
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
    this.#waitKeyframe = source.kind === "video" && codec === "vp8";
    if (source.kind === "video") source.requestKeyframe(nowMs);
  }

  packet(buf: Uint8Array, length: number, nowMs: number): void {
    if (this.#waitKeyframe) {
      const header = headerLength(buf, length);
      if (header < 0 || !isVp8Keyframe(buf, header, length - paddingLength(buf, length))) return;
      this.#waitKeyframe = false;
      this.#source.keyframeReceived();
    }
    this.#writer.writeRtp(buf, length, nowMs);
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
