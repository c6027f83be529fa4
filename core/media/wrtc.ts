/**
 * The one place that loads `@roamhq/wrtc`, with minimal local types for the parts we use.
 * Only media worker processes (and test client peers) import this module; the gateway's
 * process never does (design.md, "Media engine placement").
 *
 * @module
 */

/** An SDP with its type. */
export interface SessionDescription {
  type: "offer" | "answer" | "pranswer" | "rollback";
  sdp: string;
}

/** An ICE candidate as wrtc hands it out or takes it in. */
export interface WrtcIceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** A media track. */
export interface WrtcTrack {
  readonly id: string;
  readonly kind: "audio" | "video";
  readonly readyState: "live" | "ended";
  enabled: boolean;
  stop(): void;
}

/** A DTLS transport (state only). */
export interface WrtcDtlsTransport {
  readonly state: "new" | "connecting" | "connected" | "closed" | "failed";
}

/** An RTP sender. */
export interface WrtcSender {
  readonly track: WrtcTrack | null;
  readonly transport: WrtcDtlsTransport | null;
  replaceTrack(track: WrtcTrack | null): Promise<void>;
  /** Throws InvalidModificationError in wrtc 0.10 whatever it is given. */
  setParameters(parameters: unknown): Promise<void>;
}

/** An RTP receiver. */
export interface WrtcReceiver {
  readonly track: WrtcTrack;
}

/** Transceiver directions. */
export type Direction = "sendrecv" | "sendonly" | "recvonly" | "inactive" | "stopped";

/** An RTP transceiver. */
export interface WrtcTransceiver {
  readonly mid: string | null;
  readonly sender: WrtcSender;
  readonly receiver: WrtcReceiver;
  readonly currentDirection: Direction | null;
  direction: Direction;
  readonly stopped?: boolean;
}

/** A data channel. */
export interface WrtcDataChannel {
  readonly label: string;
  readonly readyState: "connecting" | "open" | "closing" | "closed";
  binaryType: string;
  onopen: (() => void) | null;
  onclose: (() => void) | null;
  onmessage: ((event: { data: string | ArrayBuffer }) => void) | null;
  send(data: string | Uint8Array): void;
  close(): void;
}

/** The events of a PeerConnection we listen to. */
export interface PeerConnectionEvents {
  icecandidate: { candidate: WrtcIceCandidate | null };
  track: { track: WrtcTrack; transceiver: WrtcTransceiver };
  datachannel: { channel: WrtcDataChannel };
  connectionstatechange: Record<string, unknown>;
  iceconnectionstatechange: Record<string, unknown>;
  icegatheringstatechange: Record<string, unknown>;
}

/** One stats entry (fields vary by `type`). */
export type StatsEntry = Record<string, unknown> & { id: string; type: string };

/** A libwebrtc PeerConnection as wrtc exposes it. */
export interface WrtcPeerConnection {
  readonly connectionState: string;
  readonly iceConnectionState: string;
  readonly iceGatheringState: string;
  readonly signalingState: string;
  readonly localDescription: SessionDescription | null;
  readonly remoteDescription: SessionDescription | null;
  addEventListener<K extends keyof PeerConnectionEvents>(
    type: K,
    listener: (event: PeerConnectionEvents[K]) => void,
  ): void;
  createOffer(options?: { iceRestart?: boolean }): Promise<SessionDescription>;
  createAnswer(): Promise<SessionDescription>;
  setLocalDescription(description: SessionDescription): Promise<void>;
  setRemoteDescription(description: SessionDescription): Promise<void>;
  addIceCandidate(candidate?: WrtcIceCandidate): Promise<void>;
  addTransceiver(
    trackOrKind: WrtcTrack | "audio" | "video",
    init?: { direction?: Direction },
  ): WrtcTransceiver;
  addTrack(track: WrtcTrack): WrtcSender;
  getTransceivers(): WrtcTransceiver[];
  createDataChannel(label: string, init?: { ordered?: boolean }): WrtcDataChannel;
  getStats(): Promise<Map<string, StatsEntry>>;
  close(): void;
}

/** An I420 frame. */
export interface I420Frame {
  width: number;
  height: number;
  data: Uint8Array;
}

/** 10 ms of PCM. */
export interface AudioData {
  samples: Int16Array;
  sampleRate: number;
  bitsPerSample?: number;
  channelCount?: number;
  numberOfFrames?: number;
}

/** A sink's stop handle. */
export interface Sink {
  stop(): void;
}

/** The video sink: raw decoded frames. */
export interface VideoSink extends Sink {
  onframe: ((event: { frame: I420Frame }) => void) | null;
}

/** The audio sink: 10 ms PCM chunks. */
export interface AudioSink extends Sink {
  ondata: ((data: AudioData) => void) | null;
}

/** The parts of wrtc we use. */
export interface Wrtc {
  RTCPeerConnection: new (config?: Record<string, unknown>) => WrtcPeerConnection;
  nonstandard: {
    RTCVideoSource: new () => { createTrack(): WrtcTrack; onFrame(frame: I420Frame): void };
    RTCAudioSource: new () => { createTrack(): WrtcTrack; onData(data: AudioData): void };
    RTCVideoSink: new (track: WrtcTrack) => VideoSink;
    RTCAudioSink: new (track: WrtcTrack) => AudioSink;
  };
}

/** Loads wrtc (a native addon: call this only in a media worker or a test client). */
export async function loadWrtc(): Promise<Wrtc> {
  const mod: { default: unknown } = await import("@roamhq/wrtc");
  return mod.default as Wrtc;
}
