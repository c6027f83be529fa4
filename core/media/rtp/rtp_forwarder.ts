/**
 * RTP forwarders of the RTP engine (VideoRoom `rtp_forward`): a `PacketTap` that sends each
 * packet of a received stream to a UDP address, with its SSRC and payload type replaced when
 * asked (sequence numbers and timestamps as received, as the reference does), SRTP-protected
 * when asked. Video forwarders ask the publisher for a keyframe when they start. All
 * forwarders of a worker share one UDP socket per address family, closed with the last
 * forwarder. With an RTCP port, a forwarder binds a socket of its own as janus_videoroom.c
 * does: latched to the receiver's RTCP port with two empty RTP headers, a PLI or FIR the
 * receiver sends there asks the publisher for a keyframe.
 *
 * @module
 */
import dgram from "node:dgram";
import type { AddressInfo } from "node:net";
import type { RtpForwardOptions } from "../types.ts";
import type { PacketTap } from "./echo_media.ts";
import { parseRtcp } from "./rtcp.ts";
import type { ForwardSource } from "./send_lines.ts";
import { srtpMasterKey, SrtpSender } from "./srtp.ts";

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

let rtcpSockets = 0;

/** Live forwarder sockets (shared sending ones and RTCP ones), for leak checks. */
export function forwarderSockets(): number {
  return sockets.size + rtcpSockets;
}

/** Whether a compound RTCP packet asks for a keyframe (PLI or FIR). */
function asksKeyframe(packet: Uint8Array): boolean {
  // RTCP packet types 192-223 (janus_is_rtcp); anything else is not ours to read.
  if (packet.length < 8 || packet[1]! < 192 || packet[1]! > 223) return false;
  return (parseRtcp(packet) ?? []).some((p) => p.type === "pli" || p.type === "fir");
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
  readonly #source: ForwardSource;
  readonly #srtp: SrtpSender | undefined;
  #rtcp: dgram.Socket | undefined;
  #closed = false;
  packets = 0;
  /** Keyframe requests (PLI/FIR) received on the RTCP socket. */
  keyframeRequests = 0;

  constructor(source: ForwardSource, options: RtpForwardOptions, nowMs: number) {
    if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
      throw new Error(`Invalid port ${options.port}`);
    }
    if (options.srtp) {
      const master = srtpMasterKey(options.srtp.key);
      if (!master) throw new Error("Invalid SRTP crypto");
      this.#srtp = new SrtpSender(options.srtp.suite, master);
    }
    this.#source = source;
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

  /**
   * Binds the RTCP socket (any address of the target's family, any port), latches it to
   * `remotePort` of the target (unless 0) and resolves the local port.
   */
  async bindRtcp(remotePort: number): Promise<number> {
    if (this.#closed || this.#rtcp) throw new Error("Forwarder closed or RTCP bound");
    const socket = dgram.createSocket(this.#family);
    rtcpSockets++;
    this.#rtcp = socket;
    socket.on("error", () => {});
    socket.on("message", (msg: Uint8Array) => {
      if (this.#closed || !asksKeyframe(msg)) return;
      this.keyframeRequests++;
      // As the reference, whatever the kind; only video has keyframes to ask for.
      if (this.#source.kind === "video") this.#source.requestKeyframe(performance.now());
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, this.#family === "udp4" ? "0.0.0.0" : "::", () => {
        socket.off("error", reject);
        resolve();
      });
    });
    if (remotePort > 0) {
      // Two empty RTP headers (version 2), as janus_videoroom.c, for NATs on the way.
      const latch = new Uint8Array(12);
      latch[0] = 0x80;
      socket.send(latch, remotePort, this.#host);
      socket.send(latch, remotePort, this.#host);
    }
    return (socket.address() as AddressInfo).port;
  }

  packet(buf: Uint8Array, length: number): void {
    if (this.#closed) return;
    // A copy: the socket may send after this turn, and the header is rewritten here.
    let out: Uint8Array | undefined = buf.slice(0, length);
    if (this.#pt > 0) out[1] = (out[1]! & 0x80) | this.#pt;
    if (this.#ssrc > 0) new DataView(out.buffer).setUint32(8, this.#ssrc);
    // A resent index is not sent again under SRTP (libsrtp refuses to reuse a keystream).
    if (this.#srtp) out = this.#srtp.protect(out);
    if (!out) return;
    this.#socket.send(out, this.#port, this.#host);
    this.packets++;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    release(this.#family);
    if (this.#rtcp) {
      rtcpSockets--;
      try {
        this.#rtcp.close();
      } catch {
        // Closed already.
      }
      this.#rtcp = undefined;
    }
  }
}
