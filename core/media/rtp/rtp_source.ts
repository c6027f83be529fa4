/**
 * An RTP source in an RTP engine worker (a Streaming mountpoint's input): one UDP socket per
 * stream, bound on the configured address, whose RTP packets fan out to the sending lines of
 * viewer peers (`SendLine`: our SSRC, continuous sequence numbers and timestamps, the payload
 * type the viewer was offered, video from a keyframe). The source sends no RTCP: a line waits
 * for the source's next keyframe rather than asking for one.
 *
 * @module
 */
import type { RtpSourceStream, RtpSourceStreamStats } from "../source_types.ts";
import {
  isRtp,
  payloadType,
  sequenceNumber,
  setPayloadType,
  setSequenceNumber,
  setSsrc,
  setTimestamp,
  ssrc,
  timestamp,
} from "./header.ts";
import type { ForwardSource, SendLine } from "./send_lines.ts";
import { bindUdp, type UdpSocket } from "./udp_socket.ts";

type Socket = UdpSocket;

/** Ports tried for one `port: 0` stream before giving up. */
const PORT_ATTEMPTS = 64;

/** Where the next `port: 0` stream starts looking (as the reference, upwards from `min`). */
let nextPort = 0;

async function bindInRange(host: string, range: { min: number; max: number }): Promise<Socket> {
  const size = range.max - range.min + 1;
  let last: unknown;
  for (let i = 0; i < Math.min(PORT_ATTEMPTS, size); i++) {
    const port = range.min + ((nextPort++) % size);
    try {
      return await bindUdp(host, port);
    } catch (e) {
      last = e;
    }
  }
  throw new Error(`No free port in ${range.min}-${range.max}: ${String(last)}`);
}

/** One stream: its socket and the lines it feeds. */
class SourceStream {
  readonly spec: RtpSourceStream;
  readonly socket: Socket;
  readonly port: number;
  readonly outputs: SendLine[] = [];
  packets = 0;
  bytes = 0;
  lastMs: number | undefined;
  readonly forward: ForwardSource;

  constructor(spec: RtpSourceStream, socket: Socket) {
    this.spec = spec;
    this.socket = socket;
    this.port = socket.port;
    this.forward = {
      kind: spec.kind,
      payloadType: spec.payloadType,
      rtxPayloadType: spec.kind === "video" ? spec.rtxPayloadType : 0,
      clockRate: spec.clockRate,
      extensions: new Map(),
      // No RTCP path to the source: lines start on its next keyframe.
      requestKeyframe: () => {},
      keyframeReceived: () => {},
      addOutput: (line) => {
        if (!this.outputs.includes(line)) this.outputs.push(line);
      },
      removeOutput: (line) => {
        const i = this.outputs.indexOf(line);
        if (i >= 0) this.outputs.splice(i, 1);
      },
    };
    // A view of the socket's reused buffer: a sink copies what it keeps.
    socket.onPacket = (buf) => this.#onPacket(buf);
  }

  #onPacket(buf: Uint8Array): void {
    if (!isRtp(buf)) return;
    const now = performance.now();
    this.packets++;
    this.bytes += buf.length;
    this.lastMs = now;
    const outs = this.outputs;
    if (outs.length === 0) return;
    // Each line rewrites the header in place: put the source's back before the next.
    const seq = sequenceNumber(buf);
    const ts = timestamp(buf);
    const pt = payloadType(buf);
    const src = ssrc(buf);
    for (let i = 0; i < outs.length; i++) {
      outs[i]!.send(buf, buf.length, now);
      setSsrc(buf, src);
      setSequenceNumber(buf, seq);
      setTimestamp(buf, ts);
      setPayloadType(buf, pt);
    }
  }
}

/** An RTP source: bound sockets, forwarded by mid. */
export class RtpSource {
  readonly id: string;
  #streams: SourceStream[];
  #closed = false;

  private constructor(id: string, streams: SourceStream[]) {
    this.id = id;
    this.#streams = streams;
  }

  /**
   * Binds every stream's port (`0`: the next free one in `portRange`); on a failure the ports
   * bound so far are closed and the error names the port.
   */
  static async open(
    id: string,
    options: { host: string; portRange: { min: number; max: number }; streams: RtpSourceStream[] },
  ): Promise<RtpSource> {
    const streams: SourceStream[] = [];
    try {
      for (const spec of options.streams) {
        let socket: Socket;
        const host = spec.host ?? options.host;
        try {
          socket = spec.port === 0
            ? await bindInRange(host, options.portRange)
            : await bindUdp(host, spec.port);
        } catch (e) {
          throw new Error(`Can't bind ${host}:${spec.port}: ${String(e)}`);
        }
        streams.push(new SourceStream(spec, socket));
      }
    } catch (e) {
      for (const s of streams) s.socket.close();
      throw e;
    }
    return new RtpSource(id, streams);
  }

  get ports(): number[] {
    return this.#streams.map((s) => s.port);
  }

  /** The stream `mid` as a forward source. */
  sourceOf(mid: string): ForwardSource {
    const stream = this.#streams.find((s) => s.spec.mid === mid);
    if (!stream) throw new Error(`No stream ${mid} in source ${this.id}`);
    return stream.forward;
  }

  /** Whether `source` is one of our streams. */
  owns(source: ForwardSource | undefined): boolean {
    return this.#streams.some((s) => s.forward === source);
  }

  stats(): RtpSourceStreamStats[] {
    const now = performance.now();
    return this.#streams.map((s) => ({
      mid: s.spec.mid,
      port: s.port,
      packets: s.packets,
      bytes: s.bytes,
      ...(s.lastMs !== undefined ? { ageMs: Math.round(now - s.lastMs) } : {}),
    }));
  }

  /** Stops every forward and closes the sockets; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#streams) {
      for (const line of [...s.outputs]) line.detach();
      s.socket.close();
    }
  }
}
