/**
 * VideoRoom data forwarders (`rtp_forward` of a publisher's data stream, `data_port` in the
 * deprecated API): each data-channel message the publisher sends goes to a UDP address as one
 * datagram holding the message as it came (no RTP header), as the reference's plain forwarders
 * send it. The plugin gets the messages itself, so these sockets live here, not in the media
 * worker: one per address family for every data forwarder of the process, closed with the last.
 * The socket is bound before a forwarder uses it: messages sent while an unbound socket binds
 * itself were seen to go out in reverse order.
 *
 * @module
 */
import dgram from "node:dgram";

type Family = "udp4" | "udp6";

const sockets = new Map<Family, { socket: dgram.Socket; users: number; bound: Promise<void> }>();

/** Live data forwarder sockets, for leak checks. */
export function dataForwarderSockets(): number {
  return sockets.size;
}

/** One data forwarder. */
export class DataForwarder {
  readonly #family: Family;
  readonly #socket: dgram.Socket;
  readonly #host: string;
  readonly #port: number;
  #closed = false;
  /** Messages sent. */
  sent = 0;

  private constructor(family: Family, socket: dgram.Socket, host: string, port: number) {
    this.#family = family;
    this.#socket = socket;
    this.#host = host;
    this.#port = port;
  }

  /** A forwarder to `host:port` (an IP address), once the shared socket is bound. */
  static async open(host: string, port: number): Promise<DataForwarder> {
    const family: Family = host.includes(":") ? "udp6" : "udp4";
    let entry = sockets.get(family);
    if (!entry) {
      const socket = dgram.createSocket(family);
      // Send errors (a closed port's ICMP, no route) must not end the gateway.
      socket.on("error", () => {});
      const bound = new Promise<void>((resolve) => socket.bind(0, () => resolve()));
      entry = { socket, users: 0, bound };
      sockets.set(family, entry);
    }
    entry.users++;
    const forwarder = new DataForwarder(family, entry.socket, host, port);
    await entry.bound;
    return forwarder;
  }

  send(data: string | Uint8Array): void {
    if (this.#closed) return;
    try {
      this.#socket.send(data, this.#port, this.#host);
      this.sent++;
    } catch { /* a port the socket refuses (0): nothing is sent, as the reference's sendto */ }
  }

  /** Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const entry = sockets.get(this.#family);
    if (!entry || --entry.users > 0) return;
    sockets.delete(this.#family);
    entry.socket.close();
  }
}
