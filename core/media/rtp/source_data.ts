/**
 * The data stream of an RTP source (a Streaming mountpoint's `dataport`): each UDP datagram
 * goes to every viewer peer fed from it as one data-channel message, text or binary as the
 * mountpoint says (`datatype`). With `databuffermsg` the last datagram is kept and sent to a
 * viewer as soon as its data channel is open (tried every 100 ms for up to 10 s). A recording
 * (Streaming's `recording`) writes each datagram as a data frame of an MJR file, codec `text`
 * as the reference's.
 *
 * @module
 */
import type { RtpSourceStream, RtpSourceStreamStats } from "../source_types.ts";
import type { RtpPeer } from "./rtp_peer.ts";
import { MjrWriter, openMjrFile } from "./mjr_writer.ts";
import { bindSourceSocket } from "./source_feedback.ts";

type Socket = Awaited<ReturnType<typeof bindSourceSocket>>;

const RETRY_MS = 100;
const RETRY_FOR_MS = 10_000;
/** A recording's buffered frames are written at least this often. */
const FLUSH_MS = 1000;

export class SourceDataStream {
  readonly spec: RtpSourceStream;
  readonly port: number;
  packets = 0;
  bytes = 0;
  lastMs: number | undefined;
  readonly #socket: Socket;
  /** Viewer peers by id (a peer that is gone is dropped) and whether they get messages now. */
  readonly #viewers = new Map<string, boolean>();
  readonly #peerOf: (id: string) => RtpPeer | undefined;
  #last: Uint8Array | undefined;
  /** Viewers still waiting for the kept message: until when to try. */
  readonly #owed = new Map<string, number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #recording: { writer: MjrWriter; flush: ReturnType<typeof setInterval> } | undefined;

  private constructor(
    spec: RtpSourceStream,
    socket: Socket,
    peerOf: (id: string) => RtpPeer | undefined,
  ) {
    this.spec = spec;
    this.#socket = socket;
    this.#peerOf = peerOf;
    this.port = socket.address().port;
    socket.on("message", (buf: Uint8Array) => this.#onDatagram(buf));
  }

  static async open(
    spec: RtpSourceStream,
    host: string,
    range: { min: number; max: number },
    peerOf: (id: string) => RtpPeer | undefined,
  ): Promise<SourceDataStream> {
    return new SourceDataStream(spec, await bindSourceSocket(host, spec.port, range), peerOf);
  }

  /** `peer` gets the datagrams (while `active`), and the kept one first. */
  add(peer: string, active: boolean): void {
    this.#viewers.set(peer, active);
    if (active) this.#owe(peer);
  }

  setActive(peer: string, active: boolean): boolean {
    if (!this.#viewers.has(peer)) return false;
    this.#viewers.set(peer, active);
    if (active) this.#owe(peer);
    else this.#owed.delete(peer);
    return true;
  }

  remove(peer: string): void {
    this.#viewers.delete(peer);
    this.#owed.delete(peer);
  }

  /** Whether the datagrams are being recorded. */
  get recording(): boolean {
    return this.#recording !== undefined;
  }

  /**
   * Writes each datagram from now on into the MJR file `path` (codec `text`, as the reference).
   *
   * @throws {Error} when already recorded or the file cannot be made
   */
  startRecording(path: string): void {
    if (this.#recording) throw new Error(`Stream ${this.spec.mid} is being recorded`);
    const writer = new MjrWriter(openMjrFile(path), { kind: "data", codec: "text" });
    this.#recording = { writer, flush: setInterval(() => writer.flush(), FLUSH_MS) };
  }

  /** Closes the recording, if any; what was written stays readable. */
  stopRecording(): void {
    const recording = this.#recording;
    if (!recording) return;
    this.#recording = undefined;
    clearInterval(recording.flush);
    recording.writer.close();
  }

  /** Viewers fed (for leak checks). */
  get viewers(): number {
    return this.#viewers.size;
  }

  stats(now: number): RtpSourceStreamStats {
    return {
      mid: this.spec.mid,
      port: this.port,
      packets: this.packets,
      bytes: this.bytes,
      ...(this.lastMs !== undefined ? { ageMs: Math.round(now - this.lastMs) } : {}),
    };
  }

  close(): void {
    this.stopRecording();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#viewers.clear();
    this.#owed.clear();
    this.#socket.close();
  }

  #onDatagram(buf: Uint8Array): void {
    this.packets++;
    this.bytes += buf.length;
    this.lastMs = performance.now();
    this.#recording?.writer.writeData(buf, this.lastMs);
    const message = this.#message(buf);
    if (this.spec.bufferMessage) this.#last = buf.slice();
    for (const [peer, active] of this.#viewers) {
      if (!active) continue;
      // A newer message replaces the kept one it was owed.
      if (this.#deliver(peer, message)) this.#owed.delete(peer);
    }
  }

  #message(buf: Uint8Array): string | Uint8Array {
    return this.spec.binary ? buf.slice() : new TextDecoder().decode(buf);
  }

  #deliver(id: string, message: string | Uint8Array): boolean {
    const peer = this.#peerOf(id);
    if (!peer) {
      this.remove(id);
      return false;
    }
    try {
      peer.sendData(undefined, message);
      return true;
    } catch {
      // No open channel yet, or the peer is closing.
      return false;
    }
  }

  #owe(peer: string): void {
    if (!this.spec.bufferMessage || !this.#last) return;
    this.#owed.set(peer, performance.now() + RETRY_FOR_MS);
    this.#timer ??= setInterval(() => this.#payOwed(), RETRY_MS);
  }

  #payOwed(): void {
    const now = performance.now();
    const last = this.#last;
    for (const [peer, until] of this.#owed) {
      if ((last && this.#deliver(peer, this.#message(last))) || now > until) {
        this.#owed.delete(peer);
      }
    }
    if (this.#owed.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
