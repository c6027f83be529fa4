/**
 * Plain RTP forwarders of the RTP engine (VideoRoom `rtp_forward`): a `PacketTap` that sends
 * each packet of a received stream to a UDP address, with its SSRC and payload type replaced
 * when asked (sequence numbers and timestamps as received, as the reference does). Video
 * forwarders ask the publisher for a keyframe when they start. All forwarders of a worker
 * share one UDP socket per address family, closed with the last forwarder.
 *
 * @module
 */
import dgram from "node:dgram";
import type { RtpForwardOptions } from "../types.ts";
import type { PacketTap } from "./echo_media.ts";
import type { ForwardSource } from "./send_lines.ts";

type Family = "udp4" | "udp6";

const sockets = new Map<Family, { socket: dgram.Socket; users: number }>();

function acquire(family: Family): dgram.Socket {
  let entry = sockets.get(family);
  if (!entry) {
    const socket = dgram.createSocket(family);
    // Send errors (no route, a closed port's ICMP) must not end the worker.
    socket.on("error", () => {});
    entry = { socket, users: 0 };
    sockets.set(family, entry);
  }
  entry.users++;
  return entry.socket;
}

function release(family: Family): void {
  const entry = sockets.get(family);
  if (!entry || --entry.users > 0) return;
  sockets.delete(family);
  entry.socket.close();
}

/** Live forwarder sockets, for leak checks. */
export function forwarderSockets(): number {
  return sockets.size;
}

/** One forwarder of one received stream. */
export class RtpForwarder implements PacketTap {
  readonly id: string;
  readonly mid: string;
  readonly #family: Family;
  readonly #socket: dgram.Socket;
  readonly #host: string;
  readonly #port: number;
  readonly #ssrc: number;
  readonly #pt: number;
  #closed = false;
  packets = 0;

  constructor(source: ForwardSource, options: RtpForwardOptions, nowMs: number) {
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new Error(`Invalid port ${options.port}`);
    }
    this.id = options.id;
    this.mid = options.mid;
    this.#family = options.host.includes(":") ? "udp6" : "udp4";
    this.#host = options.host;
    this.#port = options.port;
    this.#ssrc = (options.ssrc ?? 0) >>> 0;
    this.#pt = (options.pt ?? 0) & 0x7f;
    this.#socket = acquire(this.#family);
    if (source.kind === "video") source.requestKeyframe(nowMs);
  }

  packet(buf: Uint8Array, length: number): void {
    if (this.#closed) return;
    // A copy: the socket may send after this turn, and the header is rewritten here.
    const out = buf.slice(0, length);
    if (this.#pt > 0) out[1] = (out[1]! & 0x80) | this.#pt;
    if (this.#ssrc > 0) new DataView(out.buffer).setUint32(8, this.#ssrc);
    this.#socket.send(out, this.#port, this.#host);
    this.packets++;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    release(this.#family);
  }
}
