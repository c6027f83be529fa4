/**
 * A Streaming file source (`live` and `ondemand` mountpoints), in place of a UDP socket: raw
 * a-law/mu-law files sent as G.711 RTP (160 bytes, 20 ms a packet) and Ogg/Opus files as their
 * packets (960 samples a packet, as the reference counts them), looping at the end, as the
 * reference's file threads do. Packets are paced on the clock, catching up after a late timer.
 * Nobody listening (no open line; for an on-demand file, its viewer not yet there), the feed
 * checks every `IDLE_CHECK_MS` instead of every packet, and a live file's position moves on
 * with the clock without sending: an unwatched mountpoint wakes the worker 10 times a second,
 * not 50 (each wakeup costs more than the packet it sends).
 *
 * @module
 */
import { parseOggOpus } from "../ogg_opus.ts";
import type { UdpHandler, UdpSocket } from "./udp_socket.ts";

/** File formats a file source plays (by extension). */
export type FileFormat = "alaw" | "mulaw" | "opus";

const PACKET_MS = 20;
const G711_BYTES = 160;
const HEADER_BYTES = 12;
/** Packets sent at once at most when the timer was late (more are skipped, not bunched). */
const MAX_CATCH_UP = 5;
/** How often a feed nobody listens to checks again. */
export const IDLE_CHECK_MS = 100;

/** The format a file name's extension names, or undefined. */
export function fileFormatOf(path: string): FileFormat | undefined {
  const match = /\.(alaw|mulaw|opus)$/i.exec(path);
  return match ? match[1]!.toLowerCase() as FileFormat : undefined;
}

/** The payloads of a file, in playing order. */
function payloadsOf(bytes: Uint8Array, format: FileFormat): Uint8Array[] {
  if (format === "opus") return parseOggOpus(bytes).packets;
  const out: Uint8Array[] = [];
  for (let at = 0; at + G711_BYTES <= bytes.length; at += G711_BYTES) {
    out.push(bytes.subarray(at, at + G711_BYTES));
  }
  return out;
}

/** A looping file played as RTP on a timer; `port` is 0 (nothing is bound). */
export class FileFeed implements UdpSocket {
  readonly port = 0;
  onPacket: UdpHandler = () => {};
  readonly #payloads: Uint8Array[];
  readonly #payloadType: number;
  readonly #step: number;
  /** Whether anyone listens now (an open line); until then nothing is sent. */
  ready: () => boolean = () => true;
  /** A live file plays on while nobody listens (its position follows the clock). */
  readonly #live: boolean;
  #timer: ReturnType<typeof setInterval> | undefined;
  #periodMs = 0;
  #next = 0;
  #seq = 1;
  #ts = 0;
  #dueMs: number | undefined;

  /**
   * @param path the file (read whole here)
   * @throws {Error} when the file cannot be read, has no packet, or is not of a known format
   */
  constructor(path: string, payloadType: number, live = true) {
    const format = fileFormatOf(path);
    if (!format) throw new Error(`Unsupported file format: ${path}`);
    this.#payloads = payloadsOf(Deno.readFileSync(path), format);
    if (this.#payloads.length === 0) throw new Error(`No audio in ${path}`);
    this.#payloadType = payloadType & 0x7f;
    this.#step = format === "opus" ? 960 : G711_BYTES;
    this.#live = live;
    if (live) this.#dueMs = performance.now();
    this.#every(PACKET_MS);
  }

  /** Ticks every `periodMs` from now on (unless it already does). */
  #every(periodMs: number): void {
    if (this.#periodMs === periodMs) return;
    clearInterval(this.#timer);
    this.#periodMs = periodMs;
    this.#timer = setInterval(() => this.#tick(performance.now()), periodMs);
  }

  #tick(nowMs: number): void {
    if (!this.ready()) {
      this.#every(IDLE_CHECK_MS);
      if (!this.#live) {
        this.#dueMs = undefined;
        return;
      }
      // Live: the packets due go by unsent, as if played to nobody.
      const due = Math.floor((nowMs - (this.#dueMs ?? nowMs)) / PACKET_MS) + 1;
      if (due > 0) {
        this.#advance(due);
        this.#dueMs = (this.#dueMs ?? nowMs) + due * PACKET_MS;
      }
      return;
    }
    this.#every(PACKET_MS);
    this.#dueMs ??= nowMs;
    let sent = 0;
    while (this.#dueMs <= nowMs && sent < MAX_CATCH_UP) {
      this.#send();
      this.#dueMs += PACKET_MS;
      sent++;
    }
    // Far behind (a stalled process): go on from now rather than burst.
    if (this.#dueMs <= nowMs) this.#dueMs = nowMs + PACKET_MS;
  }

  /** Moves `count` packets on: the file position, sequence number and timestamp. */
  #advance(count: number): void {
    this.#next = (this.#next + count) % this.#payloads.length;
    this.#seq = (this.#seq + count) & 0xffff;
    this.#ts = (this.#ts + count * this.#step) >>> 0;
  }

  #send(): void {
    const payload = this.#payloads[this.#next]!;
    const packet = new Uint8Array(HEADER_BYTES + payload.length);
    const view = new DataView(packet.buffer);
    packet[0] = 0x80;
    packet[1] = this.#payloadType;
    view.setUint16(2, this.#seq);
    view.setUint32(4, this.#ts);
    view.setUint32(8, 1); // the viewers' lines put their own SSRC
    packet.set(payload, HEADER_BYTES);
    this.#advance(1);
    this.onPacket(packet, { address: "file", port: 0 });
  }

  send(): void {}

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
