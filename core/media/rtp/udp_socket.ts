/**
 * A UDP receive socket for RTP sources, behind one small interface: on Linux (x86_64, aarch64)
 * libc through FFI (`udp_libc.ts`: every socket of the process read in batches from a timer
 * while datagrams flow), elsewhere, or where FFI or the address cannot be used, node:dgram
 * (one wakeup of the event loop per datagram, which made the Streaming source's fixed cost
 * higher than the reference's: `deno task bench --only=streaming`).
 *
 * @module
 */
import dgram from "node:dgram";
import { bindLibcUdp, libcUdpAvailable } from "./udp_libc.ts";

/** The sender of a datagram. A new object only when the sender changes. */
export interface UdpFrom {
  readonly address: string;
  readonly port: number;
}

/**
 * Called for each datagram. `buf` may be a view of a reused buffer: valid (and writable) only
 * during the call, so copy what must outlive it.
 */
export type UdpHandler = (buf: Uint8Array, from: UdpFrom) => void;

/** A bound UDP socket delivering datagrams to `onPacket` until closed. */
export interface UdpSocket {
  /** The bound port. */
  readonly port: number;
  /** Where datagrams go (dropped until set). */
  onPacket: UdpHandler;
  /** Sends one datagram (best effort, never throws). */
  send(buf: Uint8Array, port: number, address: string): void;
  /** Stops delivery and releases the port; idempotent. */
  close(): void;
}

/** Which implementation `bindUdp` uses: libc where it can, else node:dgram. */
export type UdpBackend = "libc" | "dgram";

/**
 * Binds `host:port` (no address reuse: a port in use fails).
 *
 * @throws {Error} when the port cannot be bound
 */
export function bindUdp(
  host: string,
  port: number,
  backend: UdpBackend = libcUdpAvailable() ? "libc" : "dgram",
): Promise<UdpSocket> {
  if (backend === "libc") {
    // Synchronous, so a bind error throws here and rejects.
    try {
      const socket = bindLibcUdp(host, port);
      // undefined: an address libc cannot parse (a name, a scoped IPv6): node:dgram resolves it.
      if (socket) return Promise.resolve(socket);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  return bindDgram(host, port);
}

/**
 * Joins the IPv4 multicast group `group` on `port` (node:dgram): bound on the group with
 * address reuse (other listeners may share the port, as the reference allows), membership on
 * the interface address `iface` (else the system's choice).
 *
 * @throws {Error} when the port cannot be bound or the group joined
 */
export function bindMulticastUdp(group: string, port: number, iface?: string): Promise<UdpSocket> {
  return bindDgram(group, port, { group, ...(iface !== undefined ? { iface } : {}) });
}

function bindDgram(
  host: string,
  port: number,
  multicast?: { group: string; iface?: string },
): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({
      type: host.includes(":") ? "udp6" : "udp4",
      ...(multicast ? { reuseAddr: true } : {}),
    });
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      try {
        socket.close();
      } catch {
        // Never bound: nothing to close.
      }
    };
    const failed = (e: Error) => {
      close();
      reject(e);
    };
    socket.once("error", failed);
    let from: UdpFrom = { address: "", port: 0 };
    const udp = {
      port: 0,
      onPacket: ((): void => {}) as UdpHandler,
      send: (buf: Uint8Array, toPort: number, address: string) => {
        if (closed) return;
        try {
          socket.send(buf, toPort, address);
        } catch {
          // Best effort, as UDP.
        }
      },
      close,
    } satisfies UdpSocket;
    socket.on("message", (message: Uint8Array, rinfo: { address: string; port: number }) => {
      if (rinfo.port !== from.port || rinfo.address !== from.address) {
        from = { address: rinfo.address, port: rinfo.port };
      }
      udp.onPacket(message, from);
    });
    try {
      socket.bind(port, host, () => {
        if (multicast) {
          try {
            socket.addMembership(multicast.group, multicast.iface);
          } catch (e) {
            failed(e instanceof Error ? e : new Error(String(e)));
            return;
          }
        }
        socket.off("error", failed);
        // A later socket error (none expected on a bound UDP socket) must not crash the worker.
        socket.on("error", () => {});
        udp.port = socket.address().port;
        resolve(udp);
      });
    } catch (e) {
      failed(e instanceof Error ? e : new Error(String(e)));
    }
  });
}
