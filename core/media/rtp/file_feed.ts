/**
 * A Streaming file source (`live` and `ondemand` mountpoints), in place of a UDP socket: raw
 * a-law/mu-law files sent as G.711 RTP (160 bytes, 20 ms a packet) and Ogg/Opus files as their
 * packets (960 samples a packet, as the reference counts them), looping at the end, as the
 * reference's file threads do. Packets are paced on the clock, catching up after a late timer.
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
  /** Whether packets should flow now (an on-demand file waits for its viewer). */
  ready: () => boolean = () => true;
  readonly #timer: ReturnType<typeof setInterval>;
  #next = 0;
  #seq = 1;
  #ts = 0;
  #dueMs: number | undefined;

  /**
   * @param path the file (read whole here)
   * @throws {Error} when the file cannot be read, has no packet, or is not of a known format
   */
  constructor(path: string, payloadType: number) {
    const format = fileFormatOf(path);
    if (!format) throw new Error(`Unsupported file format: ${path}`);
    this.#payloads = payloadsOf(Deno.readFileSync(path), format);
    if (this.#payloads.length === 0) throw new Error(`No audio in ${path}`);
    this.#payloadType = payloadType & 0x7f;
    this.#step = format === "opus" ? 960 : G711_BYTES;
    this.#timer = setInterval(() => this.#tick(performance.now()), PACKET_MS);
  }

  #tick(nowMs: number): void {
    if (!this.ready()) {
      this.#dueMs = undefined;
      return;
    }
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

  #send(): void {
    const payload = this.#payloads[this.#next]!;
    this.#next = (this.#next + 1) % this.#payloads.length;
    const packet = new Uint8Array(HEADER_BYTES + payload.length);
    const view = new DataView(packet.buffer);
    packet[0] = 0x80;
    packet[1] = this.#payloadType;
    view.setUint16(2, this.#seq);
    view.setUint32(4, this.#ts);
    view.setUint32(8, 1); // the viewers' lines put their own SSRC
    packet.set(payload, HEADER_BYTES);
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#ts = (this.#ts + this.#step) >>> 0;
    this.onPacket(packet, { address: "file", port: 0 });
  }

  send(): void {}

  close(): void {
    clearInterval(this.#timer);
  }
}
