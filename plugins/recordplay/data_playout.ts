/**
 * Record&Play's data playout: the messages of a data recording sent on the player's data
 * channel at their recorded times, counted as the reference counts them (each message's time
 * less the recording's creation time, from the moment the PeerConnection is up), as text for a
 * `text` recording and binary for a `binary` one. A message due before the client's data
 * channel is open waits for it (the ones after it keep their order), rather than being lost.
 *
 * @module
 */
import { parseMjrData } from "../../core/media/rtp/mjr_reader.ts";

/** A message ready to send, at `atMs` after the playout starts. */
export interface DataMessage {
  atMs: number;
  data: string | Uint8Array;
}

/** How often due messages are sent. */
const TICK_MS = 10;

const decoder = new TextDecoder();

/** The messages of the data recording at `path`; undefined when it cannot be read. */
export async function readDataRecording(path: string): Promise<DataMessage[] | undefined> {
  try {
    const recording = parseMjrData(await Deno.readFile(path));
    const text = recording.codec !== "binary";
    return recording.frames.map((f) => ({
      atMs: Math.max(0, f.atMs),
      data: text ? decoder.decode(f.data) : f.data,
    }));
  } catch {
    return undefined;
  }
}

/** One playout of data messages. */
export class DataPlayout {
  readonly #messages: readonly DataMessage[];
  readonly #send: (data: string | Uint8Array) => Promise<void>;
  #next = 0;
  #startMs: number | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #sending = false;
  #stopped = false;

  constructor(
    messages: readonly DataMessage[],
    send: (data: string | Uint8Array) => Promise<void>,
  ) {
    this.#messages = messages;
    this.#send = send;
  }

  /** Messages sent so far. */
  get sent(): number {
    return this.#next;
  }

  /** Starts the clock; idempotent. */
  start(): void {
    if (this.#stopped || this.#startMs !== undefined) return;
    this.#startMs = performance.now();
    this.#timer = setInterval(() => void this.#tick(), TICK_MS);
  }

  async #tick(): Promise<void> {
    if (this.#sending || this.#stopped || this.#startMs === undefined) return;
    this.#sending = true;
    try {
      const elapsed = performance.now() - this.#startMs;
      while (!this.#stopped && this.#next < this.#messages.length) {
        const message = this.#messages[this.#next]!;
        if (message.atMs > elapsed) break;
        await this.#send(message.data);
        this.#next++;
      }
    } catch {
      // No open data channel yet: this message is tried again on the next tick.
    } finally {
      this.#sending = false;
    }
    if (this.#next >= this.#messages.length) this.stop();
  }

  /** Idempotent. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
