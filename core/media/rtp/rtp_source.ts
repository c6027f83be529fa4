/**
 * An RTP source in an RTP engine worker (a Streaming mountpoint's input): one UDP socket per
 * stream, bound on the configured address, whose RTP packets fan out to the sending lines of
 * viewer peers (`SendLine`: our SSRC, continuous sequence numbers and timestamps, the payload
 * type the viewer was offered, video from a keyframe). A line starts on the source's next
 * keyframe, or at once on the kept one (`bufferKeyframe`); a source with an RTCP port is asked
 * for one (`source_feedback.ts`). A data stream's datagrams go to data channels
 * (`source_data.ts`).
 *
 * @module
 */
import type {
  LayerChange,
  LayerTargets,
  RtpSourceStream,
  RtpSourceStreamStats,
} from "../source_types.ts";
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
import { keyframeTest } from "./keyframes.ts";
import { FileFeed } from "./file_feed.ts";
import { MjrRecorder } from "./mjr_recorder.ts";
import { srtpMasterKey, SrtpReceiver } from "./srtp.ts";
import type { RtpPeer } from "./rtp_peer.ts";
import { type ForwardSource, SendLine } from "./send_lines.ts";
import { SimulcastForward } from "./simulcast_source.ts";
import { SourceDataStream } from "./source_data.ts";
import { type PacketSink, SourceRtcp, StreamTap } from "./source_feedback.ts";
import { bindMulticastUdp, bindUdp, type UdpSocket } from "./udp_socket.ts";

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

/** RTP on `port` and RTCP on the port after it; neither stays bound when one fails. */
async function bindPair(
  host: string,
  port: number,
  range: { min: number; max: number },
  mediaSsrc: () => number,
): Promise<[Socket, SourceRtcp]> {
  const socket = await bindUdp(host, port);
  try {
    return [socket, await SourceRtcp.open(host, port + 1, range, mediaSsrc)];
  } catch (e) {
    socket.close();
    throw e;
  }
}

/** An even port from `range` and the one after it, both bound (RTP, then RTCP). */
async function bindPairInRange(
  host: string,
  range: { min: number; max: number },
  mediaSsrc: () => number,
): Promise<[Socket, SourceRtcp]> {
  const first = range.min + (range.min % 2);
  const pairs = Math.floor((range.max - first + 1) / 2);
  let last: unknown;
  for (let i = 0; i < Math.min(PORT_ATTEMPTS, pairs); i++) {
    try {
      return await bindPair(host, first + 2 * ((nextPort++) % pairs), range, mediaSsrc);
    } catch (e) {
      last = e;
    }
  }
  throw new Error(`No free port pair in ${range.min}-${range.max}: ${String(last)}`);
}

/** One stream: its socket and the lines it feeds. */
class SourceStream {
  readonly spec: RtpSourceStream;
  readonly socket: Socket;
  readonly port: number;
  readonly outputs: PacketSink[] = [];
  packets = 0;
  bytes = 0;
  lastMs: number | undefined;
  readonly forward: ForwardSource;
  readonly tap: StreamTap | undefined;
  readonly rtcp: SourceRtcp | undefined;
  /** The recording of what arrives (Streaming's `recording`), as one more output. */
  recording: PacketSink | undefined;
  /** Decrypts what arrives when the source sends SRTP. */
  readonly #srtp: SrtpReceiver | undefined;

  constructor(
    spec: RtpSourceStream,
    socket: Socket,
    extras: { tap?: StreamTap; rtcp?: SourceRtcp } = {},
  ) {
    this.spec = spec;
    this.socket = socket;
    this.port = socket.port;
    this.tap = extras.tap;
    this.rtcp = extras.rtcp;
    if (this.tap) this.outputs.push(this.tap);
    // RtpSource.open checked the key before binding anything.
    const master = spec.srtp ? srtpMasterKey(spec.srtp.key) : undefined;
    this.#srtp = spec.srtp && master ? new SrtpReceiver(spec.srtp.suite, master) : undefined;
    this.forward = {
      // Data streams are not SourceStreams.
      kind: spec.kind === "audio" ? "audio" : "video",
      codec: spec.codec.toLowerCase(),
      payloadType: spec.payloadType,
      rtxPayloadType: spec.kind === "video" ? spec.rtxPayloadType : 0,
      clockRate: spec.clockRate,
      format: { channels: 0, fmtp: spec.fmtp ?? "" },
      extensions: new Map(),
      requestKeyframe: (nowMs) => this.#keyframeWanted(nowMs),
      keyframeReceived: () => this.rtcp?.keyframeReceived(),
      receiverEstimate: (bps, nowMs) => {
        if (spec.kind === "video") this.rtcp?.receiverEstimate(bps, nowMs);
      },
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

  /** Whether a viewer's line of this stream is open and sending. */
  viewed(): boolean {
    return this.outputs.some((o) => o instanceof SendLine && o.active && !!o.track?.isOpen());
  }

  /** Lines waiting for a keyframe get the kept one; the source is asked for a new one. */
  #keyframeWanted(nowMs: number): void {
    const tap = this.tap;
    if (tap && tap.keyframePackets > 0) {
      for (const line of this.outputs) {
        if (line instanceof SendLine && !line.started && line.active && line.track?.isOpen()) {
          tap.replay(line, nowMs);
        }
      }
    }
    this.rtcp?.requestKeyframe(nowMs);
  }

  #onPacket(received: Uint8Array): void {
    if (!isRtp(received)) return;
    // SRTP that fails authentication (or is replayed) is dropped, as libsrtp does.
    const buf = this.#srtp ? this.#srtp.unprotect(received) : received;
    if (!buf) return;
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

/** A viewer's line changed substream or temporal layer (`peerId` owns the line). */
export type LayerEvent = { peerId: string; mid: string } & LayerChange;

/** An RTP source: bound sockets, forwarded by mid. */
export class RtpSource {
  readonly id: string;
  #streams: SourceStream[];
  #data: SourceDataStream[];
  /** Simulcast streams by mid: substream 0 is in `#streams`, the others only here. */
  #simulcast = new Map<string, { forward: SimulcastForward; layers: SourceStream[] }>();
  /** Which peer each line fed by a simulcast stream belongs to, for its layer events. */
  #lineOwners = new WeakMap<SendLine, string>();
  /** Ports and RTCP ports (0: none) in the order of the streams asked for. */
  readonly ports: number[];
  readonly rtcpPorts: number[];
  /** Ports of substreams 1 and 2 of each simulcast stream ([] for others), in that order. */
  readonly layerPorts: number[][];
  #closed = false;

  private constructor(
    id: string,
    streams: SourceStream[],
    data: SourceDataStream[],
    layered: Map<SourceStream, SourceStream[]>,
    order: RtpSourceStream[],
    onLayer: ((event: LayerEvent) => void) | undefined,
  ) {
    this.id = id;
    this.#streams = streams;
    this.#data = data;
    for (const [base, more] of layered) {
      const layers = [base, ...more];
      const forward = new SimulcastForward(base.forward, layers, (line, change) => {
        const peerId = this.#lineOwners.get(line);
        if (peerId !== undefined) onLayer?.({ peerId, mid: line.mid, ...change });
      });
      this.#simulcast.set(base.spec.mid, { forward, layers: more });
    }
    const of = (spec: RtpSourceStream) =>
      streams.find((s) => s.spec === spec) ?? data.find((d) => d.spec === spec)!;
    this.ports = order.map((spec) => of(spec).port);
    this.rtcpPorts = order.map((spec) => {
      const s = of(spec);
      return s instanceof SourceStream ? s.rtcp?.port ?? 0 : 0;
    });
    this.layerPorts = order.map((spec) =>
      this.#simulcast.get(spec.mid)?.layers.map((l) => l.port) ?? []
    );
  }

  /**
   * Binds every stream's port (`0`: the next free one in `portRange`); on a failure the ports
   * bound so far are closed and the error names the port.
   */
  static async open(
    id: string,
    options: {
      host: string;
      portRange: { min: number; max: number };
      streams: RtpSourceStream[];
      /** The worker's peers by id, for a data stream's viewers. */
      peerOf: (id: string) => RtpPeer | undefined;
      /** A viewer's line of a simulcast stream changed substream or temporal layer. */
      onLayer?: (event: LayerEvent) => void;
    },
  ): Promise<RtpSource> {
    if (options.streams.some((s) => s.srtp && !srtpMasterKey(s.srtp.key))) {
      throw new Error("Invalid SRTP crypto (fewer than 30 bytes)");
    }
    const streams: SourceStream[] = [];
    const data: SourceDataStream[] = [];
    const layered = new Map<SourceStream, SourceStream[]>();
    try {
      for (const spec of options.streams) {
        let socket: Socket;
        const host = spec.host ?? options.host;
        if (spec.kind === "data") {
          data.push(await SourceDataStream.open(spec, host, options.portRange, options.peerOf));
          continue;
        }
        const file = spec.file;
        const tapOf = () =>
          spec.kind === "video" && (spec.bufferKeyframe || spec.rtcpPort !== undefined ||
              spec.rtcpNext)
            ? new StreamTap(spec.bufferKeyframe ? keyframeTest(spec.codec) : undefined)
            : undefined;
        if (spec.rtcpNext) {
          // RTP and RTCP on adjacent ports, as an RTSP server is told.
          const tap = tapOf();
          let pair: [Socket, SourceRtcp];
          try {
            const ssrc = () => tap?.ssrc ?? 0;
            pair = spec.port === 0
              ? await bindPairInRange(host, options.portRange, ssrc)
              : await bindPair(host, spec.port, options.portRange, ssrc);
          } catch (e) {
            throw new Error(`Can't bind ${host}:${spec.port} and the port after: ${String(e)}`);
          }
          streams.push(new SourceStream(spec, pair[0], { ...(tap ? { tap } : {}), rtcp: pair[1] }));
          continue;
        }
        try {
          socket = file
            ? new FileFeed(file.path, spec.payloadType, !file.onDemand)
            : spec.port === 0
            ? await bindInRange(host, options.portRange)
            : spec.multicast !== undefined
            ? await bindMulticastUdp(spec.multicast, spec.port, spec.host)
            : await bindUdp(host, spec.port);
        } catch (e) {
          throw new Error(
            `Can't ${file ? "play" : "bind"} ${file?.path ?? `${host}:${spec.port}`}: ${String(e)}`,
          );
        }
        const tap = tapOf();
        let rtcp: SourceRtcp | undefined;
        if (spec.rtcpPort !== undefined) {
          try {
            rtcp = await SourceRtcp.open(
              host,
              spec.rtcpPort,
              options.portRange,
              () => tap?.ssrc ?? 0,
            );
          } catch (e) {
            socket.close();
            throw new Error(`Can't bind RTCP ${host}:${spec.rtcpPort}: ${String(e)}`);
          }
        }
        const made = new SourceStream(spec, socket, {
          ...(tap ? { tap } : {}),
          ...(rtcp ? { rtcp } : {}),
        });
        // A file sends only while one of its lines is open (a live one plays on unheard).
        if (socket instanceof FileFeed) socket.ready = () => made.viewed();
        streams.push(made);
        if (spec.simulcastPorts) {
          const more: SourceStream[] = [];
          layered.set(made, more);
          for (const port of spec.simulcastPorts) {
            try {
              socket = port === 0
                ? await bindInRange(host, options.portRange)
                : await bindUdp(host, port);
            } catch (e) {
              throw new Error(`Can't bind ${host}:${port}: ${String(e)}`);
            }
            more.push(new SourceStream(spec, socket));
          }
        }
      }
    } catch (e) {
      for (const s of [...streams, ...[...layered.values()].flat()]) {
        s.socket.close();
        s.rtcp?.close();
      }
      for (const d of data) d.close();
      throw e;
    }
    return new RtpSource(id, streams, data, layered, options.streams, options.onLayer);
  }

  /** The data stream `mid`, if it is one. */
  dataOf(mid: string): SourceDataStream | undefined {
    return this.#data.find((d) => d.spec.mid === mid);
  }

  /** The stream `mid` as a forward source (a simulcast one: every substream). */
  sourceOf(mid: string): ForwardSource {
    const simulcast = this.#simulcast.get(mid);
    if (simulcast) return simulcast.forward.forward;
    const stream = this.#streams.find((s) => s.spec.mid === mid);
    if (!stream) throw new Error(`No stream ${mid} in source ${this.id}`);
    return stream.forward;
  }

  /** `line` (of peer `peerId`) is fed by this source: its layer events name the peer. */
  noteLine(line: SendLine, peerId: string): void {
    this.#lineOwners.set(line, peerId);
  }

  /**
   * Sets what `line` aims at on the simulcast stream feeding it; returns the substream and
   * temporal layer it is on (-1: none yet).
   *
   * @throws {Error} when no simulcast stream of this source feeds `line`
   */
  setLayers(line: SendLine, targets: LayerTargets): { substream: number; temporal: number } {
    for (const { forward } of this.#simulcast.values()) {
      if (line.source === forward.forward) {
        return forward.setTargets(line, targets, performance.now());
      }
    }
    throw new Error(`No simulcast stream of ${this.id} feeds m-line ${line.mid}`);
  }

  /**
   * Records stream `mid` into the MJR file `path` from now on (video from its next keyframe,
   * which the source is asked for when it can be).
   *
   * @throws {Error} when the stream is unknown, already recorded, or the file cannot be made
   */
  startRecording(mid: string, path: string, codec: string): void {
    const data = this.dataOf(mid);
    if (data) return data.startRecording(path);
    const stream = this.#streams.find((s) => s.spec.mid === mid);
    if (!stream) throw new Error(`No stream ${mid} in source ${this.id}`);
    if (stream.recording) throw new Error(`Stream ${mid} is being recorded`);
    const recorder = new MjrRecorder(stream.forward, { mid, path, codec }, performance.now());
    const sink: PacketSink = {
      send: (buf, length, nowMs) => recorder.packet(buf, length, nowMs),
      detach: () => {
        const i = stream.outputs.indexOf(sink);
        if (i >= 0) stream.outputs.splice(i, 1);
        if (stream.recording === sink) stream.recording = undefined;
        recorder.close();
      },
    };
    stream.recording = sink;
    stream.outputs.push(sink);
  }

  /** Closes the recording of stream `mid`, if any; what was written stays readable. */
  stopRecording(mid: string): void {
    this.dataOf(mid)?.stopRecording();
    this.#streams.find((s) => s.spec.mid === mid)?.recording?.detach();
  }

  /** Whether `source` is one of our streams. */
  owns(source: ForwardSource | undefined): boolean {
    return this.#streams.some((s) => s.forward === source) ||
      [...this.#simulcast.values()].some((s) => s.forward.forward === source);
  }

  stats(): RtpSourceStreamStats[] {
    const now = performance.now();
    const media = this.#streams.map((s) => ({
      mid: s.spec.mid,
      port: s.port,
      packets: s.packets,
      bytes: s.bytes,
      ...(s.lastMs !== undefined ? { ageMs: Math.round(now - s.lastMs) } : {}),
    }));
    const all = [...media, ...this.#data.map((d) => d.stats(now))];
    // In the order the streams were asked for.
    return this.ports.map((port) => all.find((s) => s.port === port)!);
  }

  /** Stops every forward and closes the sockets; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const { forward, layers } of this.#simulcast.values()) {
      for (const line of forward.lines()) line.detach();
      for (const s of layers) s.socket.close();
    }
    for (const s of this.#streams) {
      for (const line of [...s.outputs]) line.detach();
      s.socket.close();
      s.rtcp?.close();
    }
    for (const d of this.#data) d.close();
  }
}
