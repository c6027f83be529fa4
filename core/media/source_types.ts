/**
 * Media that belongs to no handle: an RTP source (a Streaming mountpoint's input) whose UDP
 * ports live in a media worker and whose streams are forwarded to peers of the same worker,
 * as a peer's received m-lines are. Engine-neutral: an engine that cannot serve it rejects.
 *
 * @module
 */
import type { ForwardTarget, Peer } from "./types.ts";

/**
 * One stream of an RTP source: a UDP port that receives RTP of one codec, or (`data`) datagrams
 * that viewers get as data-channel messages (its codec fields unused).
 */
export interface RtpSourceStream {
  /** The mid viewers' m-line gets (when it is free on the viewer). */
  mid: string;
  kind: "audio" | "video" | "data";
  /** The UDP port to bind; 0 picks a free one in the source's `portRange`. */
  port: number;
  /** Payload type viewers are offered (packets are rewritten to it). */
  payloadType: number;
  /** Codec name as in an rtpmap (`opus`, `VP8`). */
  codec: string;
  /** The codec's parameters viewers are offered (H.264's profile and packetization mode). */
  fmtp?: string;
  clockRate: number;
  /** The RTX payload type offered with video (0: none). */
  rtxPayloadType: number;
  /** The local address to bind instead of the source's `host`. */
  host?: string;
  /**
   * A UDP port for the source's RTCP (0: a free one; absent: none): its address is learnt from
   * what it sends there, and keyframe requests (PLI) go back to it.
   */
  rtcpPort?: number;
  /** Video: the last keyframe is kept and sent first to a line that starts. */
  bufferKeyframe?: boolean;
  /** Data: datagrams go out as binary messages (else as text). */
  binary?: boolean;
  /** Data: the last datagram is kept and sent to a viewer whose channel opens. */
  bufferMessage?: boolean;
  /**
   * Audio: a file played in a loop instead of a UDP port (`.alaw`, `.mulaw`, Ogg `.opus`);
   * `onDemand`: it plays only while a viewer's line is open (each viewer has its own source).
   */
  file?: { path: string; onDemand: boolean };
  /**
   * An IPv4 multicast group the stream's fixed port joins (bound on the group, membership on
   * `host` when given), as the reference's `mcast`.
   */
  multicast?: string;
  /** Audio/video: what arrives is SRTP (AES_CM_128_HMAC_SHA1_80 or _32, base64 master key). */
  srtp?: { suite: 32 | 80; key: string };
  /**
   * VP8 video: the ports of substreams 1 and 2 (0: a free one); `port` is substream 0's. Each
   * viewer gets one substream at a time ({@link RtpSource.setLayers}).
   */
  simulcastPorts?: number[];
  /**
   * RTCP on the port after the RTP one (an RTSP client's `client_port` pair): with `port: 0`
   * an even port is picked whose next one is free too; `rtcpPort` is then ignored.
   */
  rtcpNext?: boolean;
}

/** What a viewer of a simulcast stream aims at (absent: unchanged). */
export interface LayerTargets {
  /** 0-2: the substream (port) to relay. */
  substream?: number;
  /** 0-2: the highest VP8 temporal layer to relay. */
  temporal?: number;
  /** No packet on the substream relayed for this long drops to the one below (ms, 0: 250). */
  fallbackMs?: number;
}

/** A viewer's line moved to another substream or temporal layer. */
export type LayerChange = { substream: number } | { temporal: number };

/** What {@link RtpSourceEngine.createRtpSource} takes. */
export interface RtpSourceOptions {
  /** Placement: peers that receive this source use the same key (one media worker). */
  affinity?: string;
  /** The plugin package (the engine may be configured per plugin). */
  plugin?: string;
  /** The local address the UDP sockets bind to. */
  host: string;
  /** Where a `port: 0` stream picks its port. */
  portRange: { min: number; max: number };
  streams: RtpSourceStream[];
  /** The source went away without `close()` (its media worker died). */
  onClosed?: () => void;
}

/** Counters of one stream of a source. */
export interface RtpSourceStreamStats {
  mid: string;
  port: number;
  packets: number;
  bytes: number;
  /** Milliseconds since the last packet; absent before the first one. */
  ageMs?: number;
}

/** A live RTP source; its streams are forwarded by mid. */
export interface RtpSource {
  readonly id: string;
  /** The bound UDP ports, in stream order. */
  readonly ports: readonly number[];
  /** The bound RTCP ports, in stream order (0: the stream has none). */
  readonly rtcpPorts: readonly number[];
  /** The ports of substreams 1 and 2 of each simulcast stream, in stream order ([]: none). */
  readonly layerPorts: readonly (readonly number[])[];
  /**
   * Forwards stream `fromMid` to `to`'s m-line `toMid` (its stream replaced), else to a free
   * m-line of the kind, else to a new one (mid `newMid` when that is unused there); resolves
   * the target m-line's mid. Video starts on a keyframe.
   */
  forward(options: {
    to: Peer;
    fromMid: string;
    toMid?: string;
    newMid?: string;
    active?: boolean;
    /** A simulcast stream: told when the line's substream or temporal layer changes. */
    onLayer?: (change: LayerChange) => void;
  }): Promise<string>;
  /**
   * Sets what the line `toMid` of `to`, fed by a simulcast stream, aims at; resolves the
   * substream and temporal layer it is on now (-1: none yet).
   */
  setLayers(
    options: ForwardTarget & LayerTargets,
  ): Promise<{ substream: number; temporal: number }>;
  /** Pauses (false) or resumes (true) what this source sends to `toMid` of `to`. */
  setForwarding(options: ForwardTarget & { active: boolean }): Promise<void>;
  /** Stops what this source sends to `toMid` of `to`; idempotent. */
  stopForward(options: ForwardTarget): Promise<void>;
  stats(): Promise<RtpSourceStreamStats[]>;
  /**
   * Records audio or video stream `mid` into the MJR file `path` (`codec` as its header names
   * it: `opus`, `vp8`); rejects when the file cannot be made or it is already recorded.
   */
  startRecording(options: { mid: string; path: string; codec: string }): Promise<void>;
  /** Closes the recording of `mid`, if any. Idempotent. */
  stopRecording(mid: string): Promise<void>;
  /** Closes the sockets (and recordings); every forward of it stops. Idempotent. */
  close(): Promise<void>;
}

/** An engine that can host RTP sources. */
export interface RtpSourceEngine {
  /**
   * Binds the source's ports in a media worker.
   *
   * @throws {Error} when a port cannot be bound or the engine cannot host sources
   */
  createRtpSource(options: RtpSourceOptions): Promise<RtpSource>;
  /** Live sources, for leak checks. */
  sourceCount(): number;
}
