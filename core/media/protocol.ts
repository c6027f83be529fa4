/**
 * The RPC vocabulary between the core (parent) and a media worker: methods the parent calls,
 * and the events the worker pushes. Only plain JSON crosses: binary data-channel payloads
 * travel as base64.
 *
 * @module
 */
import type { RtpLevel } from "./mixer_types.ts";
import type {
  AnswerOptions,
  AudioLevelReport,
  EngineCapabilities,
  IceCandidate,
  MediaSettings,
  MediaStateChange,
  MixRequest,
  OfferOptions,
  PeerCloseReason,
  PeerInfo,
  PlayoutOptions,
  PlayoutStream,
  RecordingOptions,
  RecordingUpdate,
  RtpForwardOptions,
  RtpForwardResult,
  SlowLinkReport,
} from "./types.ts";
import type { SourceMethods } from "./source_protocol.ts";
import type { LayerChange } from "./source_types.ts";
import type { MixerMethods } from "./mixer_protocol.ts";
import type { MediaStatsReport } from "./media_counters.ts";

/** A data-channel payload on the wire. */
export type WireData = { text: string } | { base64: string };

/** What a worker is told once, right after it said `ready`. */
export interface WorkerConfig {
  iceEnforceList: string[];
  iceIgnoreList: string[];
  nat1to1?: string;
  rtpPortRange?: { min: number; max: number };
  /** Keep TCP candidates, ours and the client's (Janus `ice_tcp`). */
  iceTcp: boolean;
  /** Lost packets per second that make a `slowLink` event; 0 = off. */
  slowLinkThreshold: number;
  /** Silence on a mid after which `receiving:false` is reported, in ms; 0 = off. */
  noMediaMs: number;
  /** Longest wait for ICE gathering before an SDP is returned, in ms. */
  gatherTimeoutMs: number;
  logLevel: number;
  /** Pin the worker to the `pinSlot`-th CPU it may use (`cpu_pin.ts`; RTP workers only). */
  pinSlot?: number;
}

type P = { peerId: string };

/** Methods a worker serves: name -> params and result. */
export interface WorkerMethods extends SourceMethods, MixerMethods {
  configure: { params: WorkerConfig; result: { pid: number; capabilities: EngineCapabilities } };
  /** Answers at once: the core's heartbeat. */
  ping: { params: null; result: null };
  /** The worker's media totals, and with `peers` each peer's per-m-line stats. */
  mediaStats: { params: { peers: boolean }; result: MediaStatsReport };
  /** Changes the given settings (live peers included); reports the current ones. */
  settings: { params: Partial<MediaSettings>; result: MediaSettings };
  createPeer: { params: P; result: null };
  acceptOffer: { params: P & AnswerOptions & { sdp: string }; result: { sdp: string } };
  createOffer: { params: P & OfferOptions; result: { sdp: string } };
  acceptAnswer: { params: P & { sdp: string }; result: null };
  addRemoteCandidate: { params: P & { candidate: IceCandidate | null }; result: null };
  setBitrateCap: { params: P & { bitsPerSecond: number }; result: null };
  forward: {
    params: P & { target: string; fromMid: string; toMid?: string; active?: boolean };
    result: { mid: string };
  };
  setForwarding: { params: P & { target: string; toMid: string; active: boolean }; result: null };
  stopForward: { params: P & { target: string; toMid: string }; result: null };
  requestKeyframe: { params: P & { mid: string }; result: null };
  setAudioLevels: { params: P & { enabled: boolean }; result: null };
  mix: { params: P & MixRequest; result: null };
  startRecording: { params: P & RecordingOptions; result: null };
  stopRecording: { params: P & { mid: string }; result: null };
  updateRecording: { params: P & RecordingUpdate; result: null };
  rtpForward: { params: P & RtpForwardOptions; result: RtpForwardResult };
  stopRtpForward: { params: P & { id: string }; result: null };
  play: { params: P & PlayoutOptions; result: { streams: PlayoutStream[] } };
  stopPlay: { params: P; result: null };
  sendData: { params: P & { label?: string; data: WireData }; result: null };
  info: { params: P; result: PeerInfo };
  closePeer: { params: P; result: null };
}

/** Events a worker pushes: name -> params. */
export interface WorkerEvents {
  ready: { pid: number };
  localCandidate: P & { candidate: IceCandidate | null };
  /** ICE checks succeeded: the DTLS handshake starts. */
  iceConnected: P;
  connected: P;
  media: P & { change: MediaStateChange };
  slowLink: P & { report: SlowLinkReport };
  audioLevel: P & { report: AudioLevelReport };
  data: P & { label: string; data: WireData };
  closed: P & { reason: PeerCloseReason };
  /** A playout sent its last packet. */
  playoutEnded: P;
  /** Levels of the plain-RTP members of mixer `key` (see `RoomMixer.onRtpLevel`). */
  mixerLevels: { key: string; levels: RtpLevel[] };
  /** The line `mid` of peer `target`, fed by simulcast source `sourceId`, changed layer. */
  sourceLayer: { sourceId: string; target: string; mid: string } & LayerChange;
}

/** Encodes a payload for the wire. */
export function toWire(data: string | Uint8Array): WireData {
  return typeof data === "string" ? { text: data } : { base64: data.toBase64() };
}

/** Decodes a payload from the wire. */
export function fromWire(data: WireData): string | Uint8Array {
  return "text" in data ? data.text : Uint8Array.fromBase64(data.base64);
}

/** Applies a `settings` call to a worker's shared config (peers read it on every sample). */
export function applySettings(
  config: WorkerConfig,
  settings: Partial<MediaSettings>,
): MediaSettings {
  if (settings.noMediaMs !== undefined) config.noMediaMs = settings.noMediaMs;
  if (settings.slowLinkThreshold !== undefined) {
    config.slowLinkThreshold = settings.slowLinkThreshold;
  }
  return { noMediaMs: config.noMediaMs, slowLinkThreshold: config.slowLinkThreshold };
}
