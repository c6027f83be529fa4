/**
 * A UDP relay between a client peer and a media worker's peer that drops a share of the RTP
 * the client sends: real packet loss on loopback, where no lossy qdisc (netem) is at hand.
 *
 * Each side is told one candidate: the relay's socket facing it. The client's and the server's
 * real UDP 127.0.0.1 candidates are the only addresses it forwards to; packets from elsewhere
 * are dropped, so ICE settles on that one pair.
 *
 * @module
 */
import dgram from "node:dgram";

type Socket = ReturnType<typeof dgram.createSocket>;

async function bind(): Promise<Socket> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return socket;
}

/** Whether a datagram is RTP (not STUN, DTLS or RTCP: RFC 7983, RFC 5761). */
function isRtp(packet: Uint8Array): boolean {
  const first = packet[0] ?? 0;
  const type = packet[1] ?? 0;
  return first >= 128 && first <= 191 && !(type >= 192 && type <= 223);
}

/** A host candidate line for `port` on 127.0.0.1. */
export function hostCandidate(port: number): string {
  return `candidate:1 1 udp 2122260223 127.0.0.1 ${port} typ host`;
}

/** The port of the first UDP 127.0.0.1 candidate in `lines` (SDP or candidate strings). */
export function loopbackUdpPort(text: string): number | undefined {
  const m = /candidate:\S+ \d+ udp \d+ 127\.0\.0\.1 (\d+) typ host/i.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Replaces every candidate of an SDP by one host candidate on `port`. */
export function withOnlyCandidate(sdp: string, port: number): string {
  const lines = sdp.split("\r\n").filter((l) => !l.startsWith("a=candidate:"));
  const out: string[] = [];
  for (const line of lines) {
    out.push(line);
    if (line.startsWith("m=")) out.push(`a=${hostCandidate(port)}`);
  }
  return out.join("\r\n");
}

/** The relay; `dropShare` of the client's RTP is dropped. */
export class LossyRelay {
  /** Dropped client RTP packets so far. */
  dropped = 0;
  /** Client RTP packets forwarded so far. */
  forwarded = 0;
  /** Client RTP packets forwarded so far per SSRC (clear in SRTP too). */
  readonly forwardedBySsrc = new Map<number, number>();
  #clientFacing: Socket;
  #serverFacing: Socket;
  #client: number | undefined;
  #server: number | undefined;
  #dropShare: number;

  private constructor(clientFacing: Socket, serverFacing: Socket, dropShare: number) {
    this.#clientFacing = clientFacing;
    this.#serverFacing = serverFacing;
    this.#dropShare = dropShare;
    clientFacing.on("message", (msg, from) => {
      if (this.#server === undefined || from.port !== this.#client) return;
      if (isRtp(msg)) {
        if (Math.random() < this.#dropShare) {
          this.dropped++;
          return;
        }
        this.forwarded++;
        const ssrc = msg.readUInt32BE(8);
        this.forwardedBySsrc.set(ssrc, (this.forwardedBySsrc.get(ssrc) ?? 0) + 1);
      }
      serverFacing.send(msg, this.#server, "127.0.0.1");
    });
    serverFacing.on("message", (msg, from) => {
      if (this.#client === undefined || from.port !== this.#server) return;
      clientFacing.send(msg, this.#client, "127.0.0.1");
    });
  }

  static async start(dropShare: number): Promise<LossyRelay> {
    return new LossyRelay(await bind(), await bind(), dropShare);
  }

  /** The port the client is told as the server's candidate. */
  get clientFacingPort(): number {
    return this.#clientFacing.address().port;
  }

  /** The port the server is told as the client's candidate. */
  get serverFacingPort(): number {
    return this.#serverFacing.address().port;
  }

  /** The real ports of both ends (their UDP 127.0.0.1 candidates). */
  connect(clientPort: number, serverPort: number): void {
    this.#client = clientPort;
    this.#server = serverPort;
  }

  /** Changes the share of client RTP dropped. */
  set dropShare(share: number) {
    this.#dropShare = share;
  }

  close(): void {
    this.#clientFacing.close();
    this.#serverFacing.close();
  }
}
