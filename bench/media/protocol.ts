/**
 * RPC vocabularies (over `core/media/rpc.ts`) of the media bench's helper processes: the
 * wrtc client host (`client_host.ts`: EchoTest callers and the VideoRoom publisher), the
 * receiver host (`receiver_host.ts`: VideoRoom subscribers that count RTP without decoding)
 * and our gateway with its media workers (`gateway_main.ts`). All speak newline-delimited
 * JSON on stdin/stdout; logs go to stderr.
 *
 * @module
 */

/** A client candidate as Janus clients trickle it. */
export interface TrickleCandidate {
  candidate: string;
  sdpMid: string;
  sdpMLineIndex: number;
}

/**
 * What a client peer is for:
 * - `echo`: sendrecv audio + video (440 Hz tone, W×H pattern at 30 fps, `bench_peer.ts`);
 * - `publisher`: the same sources, sendonly.
 */
export type ClientKind = "echo" | "publisher";

/** The video a wrtc peer sends (its outbound-rtp). */
export interface SentVideo {
  width: number;
  height: number;
  frames: number;
  bytes: number;
  /** libwebrtc's qualityLimitationReason: none, bandwidth, cpu or other. */
  limitation: string;
}

/**
 * Cumulative counters of what one client peer received. `frames`: decoded frames (wrtc
 * peers) or RTP frames completed by a marker bit (receiver host); `width`/`height`: of the
 * last decoded frame, or of the last VP8 keyframe's header; 0 when none yet.
 */
export interface PeerCounts {
  state: string;
  videoPackets: number;
  videoBytes: number;
  frames: number;
  width: number;
  height: number;
  keyframes: number;
  audioPackets: number;
  /** What the peer itself sends (wrtc senders only). */
  sent?: SentVideo;
}

/** Counters of a peer that is gone (or closed), with its `state`. */
export function noCounts(state: string): PeerCounts {
  return {
    state,
    videoPackets: 0,
    videoBytes: 0,
    frames: 0,
    width: 0,
    height: 0,
    keyframes: 0,
    audioPackets: 0,
  };
}

/** Methods both client processes serve to report what their peers received. */
export interface CountMethods {
  counts: { params: { ids: number[] }; result: { peers: PeerCounts[] } };
}

/** Methods the client host serves. */
export interface ClientMethods extends CountMethods {
  /**
   * A new peer sending `width`×`height` video (default 320x240), noisy (camera-like
   * bitrate) with `noise`, else a still pattern.
   */
  create: {
    params: { kind: ClientKind; width?: number; height?: number; noise?: boolean };
    result: { id: number };
  };
  /** createOffer + setLocalDescription; gathering restarts. */
  offer: { params: { id: number }; result: { sdp: string } };
  /** Applies the server's answer. */
  answer: { params: { id: number; sdp: string }; result: null };
  /** The candidates of the last local description, once gathering completed (5 s at most). */
  candidates: { params: { id: number }; result: { candidates: TrickleCandidate[] } };
  close: { params: { id: number }; result: null };
}

/** Methods the receiver host serves (node-datachannel subscribers). */
export interface ReceiverMethods extends CountMethods {
  /** A new subscriber PeerConnection answering `sdp`; resolves its id and answer. */
  accept: { params: { sdp: string }; result: { id: number; sdp: string } };
  /** The candidates of its answer (gathering is complete when `accept` resolves). */
  candidates: { params: { id: number }; result: { candidates: TrickleCandidate[] } };
  /**
   * Adds the server's candidates (`a=candidate:` values without the `a=`) to subscriber `id`,
   * for an offer accepted without them.
   */
  addRemote: { params: { id: number; mid: string; candidates: string[] }; result: null };
  close: { params: { id: number }; result: null };
}

/** Events the client host pushes. */
export interface ClientEvents {
  ready: { pid: number };
}

/** What our gateway child tells about itself. */
export interface GatewayInfo {
  /** The gateway's own process. */
  pid: number;
  http: number;
  ws: number;
  /** Live media worker processes. */
  workerPids: number[];
  /** Live sessions, handles, peers, sockets... */
  counts: Record<string, number>;
}

/** Methods our gateway child serves. */
export interface GatewayMethods {
  info: { params: null; result: GatewayInfo };
}

/** Events our gateway child pushes. */
export interface GatewayEvents {
  ready: GatewayInfo;
}
