/**
 * A data-channel recording (VideoRoom's publisher data stream, Record&Play's `data` file): the
 * messages a plugin receives, written to a data MJR file (`t` `d`, codec `text` or `binary`) as
 * Janus's `record.c` writes them, so `janus-pp-rec` converts a text one to `.srt`. The plugin
 * gets the messages itself (`onData`), so the file is written here rather than in the media
 * worker; each message is flushed at once (messages are few, and a crash loses none).
 *
 * @module
 */
import { MjrWriter, openMjrFile } from "../../core/media/rtp/mjr_writer.ts";

const encoder = new TextEncoder();

/** One data recording being written. */
export class DataRecorder {
  readonly path: string;
  readonly #writer: MjrWriter;
  #paused = false;

  /** Opens the file (its folder made when missing); throws when it cannot be made. */
  constructor(path: string, options: { binary?: boolean; description?: string } = {}) {
    this.path = path;
    this.#writer = new MjrWriter(openMjrFile(path), {
      kind: "data",
      codec: options.binary ? "binary" : "text",
      ...(options.description !== undefined ? { description: options.description } : {}),
    });
  }

  /** Messages written so far. */
  get messages(): number {
    return this.#writer.packets;
  }

  /** Paused: messages are dropped (Record&Play `pause`). */
  set paused(paused: boolean) {
    this.#paused = paused;
  }

  write(data: string | Uint8Array): void {
    if (this.#paused) return;
    this.#writer.writeData(
      typeof data === "string" ? encoder.encode(data) : data,
      performance.now(),
    );
    this.#writer.flush();
  }

  /** Idempotent. */
  close(): void {
    this.#writer.close();
  }
}
