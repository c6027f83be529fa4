/**
 * The plugin interface: what a plugin implements and the only view of the core
 * it gets (an idiomatic shape of Janus's `plugin.h`). Plugins import this module
 * and nothing else from the core.
 *
 * @module
 */
import type { Json, JsonObject } from "./protocol.ts";
import type {
  AnswerOptions,
  AudioLevelReport,
  EncoderSettings,
  IceCandidate,
  MixRequest,
  MixRoomRequest,
  OfferOptions,
  PlayoutOptions,
  PlayoutStream,
  RecordingOptions,
  RecordingUpdate,
  RtpForwardOptions,
  RtpForwardResult,
} from "./media/types.ts";
export { PluginError } from "./errors.ts";
import type { PluginMedia } from "./plugin_media.ts";
export type {
  LayerChange,
  LayerTargets,
  PluginMedia,
  PluginRtpSource,
  RoomMixer,
  RtpLevel,
  RtpSourceStream,
} from "./plugin_media.ts";
export type {
  AnswerOptions,
  AudioLevelReport,
  EncoderSettings,
  Json,
  JsonObject,
  MixRequest,
  MixRoomRequest,
  OfferOptions,
  PlayoutOptions,
  PlayoutStream,
  RecordingOptions,
  RecordingUpdate,
  RtpForwardOptions,
  RtpForwardResult,
};

/** Descriptive metadata, announced in `info`. */
export interface PluginInfo {
  /** The package id, e.g. `janus.plugin.echotest`. */
  id: string;
  name: string;
  description: string;
  author: string;
  version: number;
  versionString: string;
}

/** An SDP as it travels in `jsep`. */
export interface Jsep {
  type: "offer" | "answer";
  sdp: string;
  /** True when a later offer on the same handle renegotiates. */
  update?: boolean;
}

/** A `message` as the plugin receives it. */
export interface PluginMessage {
  transaction: string;
  body: JsonObject;
  jsep?: Jsep;
}

/** What a plugin pushes to its handle's session. */
export interface PluginEvent {
  /** The request this answers; absent for unprompted events. */
  transaction?: string;
  data: JsonObject;
  jsep?: Jsep;
}

/** The answer to `handleMessage`. */
export type PluginReply =
  | { kind: "success"; data: JsonObject }
  | {
    kind: "ack";
    hint?: string;
    /** The later event; rejected with a `PluginError`, it becomes an error event. */
    event?: Promise<PluginEvent | undefined>;
  };

/** One stream to forward from a handle's PeerConnection to another's (or back: echo). */
export interface ForwardRequest {
  /**
   * The handle whose PeerConnection sends the stream on (same affinity key). This handle itself
   * is echo: the stream goes back on the same m-line (`toMid` absent or equal to `fromMid`).
   */
  to: PluginWebRTC;
  /** The m-line of this handle whose received media is forwarded. */
  fromMid: string;
  /**
   * The target's m-line (same kind; what it carried is replaced, as `switch` does). Absent: a
   * free m-line of that kind, or a new one, which the target's next offer carries.
   */
  toMid?: string;
  /** False sets the forward up paused. Default true. */
  active?: boolean;
}

/** A target m-line of a forward. */
export interface ForwardTo {
  to: PluginWebRTC;
  toMid: string;
}

/**
 * Media controls of the handle's one PeerConnection, owned by the core.
 *
 * Forwarding is per stream: `forward` sends what this handle receives on one m-line to one
 * m-line of another handle and resolves that m-line's mid (new m-lines get theirs at once:
 * `"0"`, `"1"`, ... in the order they are added). `setForwarding` pauses and resumes it and
 * `stopForward` ends it, all without renegotiation; a target m-line whose forward stopped
 * stays and can take another stream. Echo is a forward of an m-line to the same handle.
 */
export interface PluginWebRTC {
  /** Applies a client offer and resolves the answer to send back. */
  acceptOffer(jsep: Jsep, options?: AnswerOptions): Promise<Jsep>;
  /**
   * Creates an offer of ours (subscriber flows); `data` adds a data channel; `mirror` copies
   * the m-lines of another handle's SDP (a one-to-one relay, see `OfferOptions`).
   */
  createOffer(options?: OfferOptions): Promise<Jsep>;
  /**
   * Places this handle's peer with every peer of the same key (one media worker), so that
   * tracks can be forwarded between them. Call before the first offer or answer.
   */
  useAffinity(key: string): void;
  /**
   * Forwards one received stream (the target's PeerConnection is created if needed).
   *
   * @returns the target m-line's mid
   */
  forward(request: ForwardRequest): Promise<string>;
  /** Pauses (false) or resumes (true) what this handle forwards to `toMid` of `to`. */
  setForwarding(options: ForwardTo & { active: boolean }): Promise<void>;
  /** Stops what this handle forwards to `toMid` of `to`; a no-op when either PC is gone. */
  stopForward(options: ForwardTo): Promise<void>;
  /**
   * Receives the levels of the audio this handle receives (about twice a second per audio
   * m-line while media flows); `undefined` stops them.
   */
  onAudioLevel(listener: ((report: AudioLevelReport) => void) | undefined): void;
  /**
   * Caps what the client sends on this handle's PeerConnection, in bits per second (0: no
   * cap); kept for a PeerConnection made later (the next offer's answer carries it) until the
   * PeerConnection goes away.
   */
  setBitrateCap(bitsPerSecond: number): Promise<void>;
  /**
   * Audio conference mixing of this handle's PeerConnection (see `MixRequest`); only on a
   * media engine that decodes. `leave` without a PeerConnection does nothing.
   */
  mix(request: MixRequest): Promise<void>;
  /**
   * Records the stream this handle receives on `options.mid` into an MJR file (see
   * `RecordingOptions`); only on a media engine that handles RTP. Rejects when the file
   * cannot be made or there is no PeerConnection.
   */
  startRecording(options: RecordingOptions): Promise<void>;
  /** Stops the recording of `mid`; a no-op without one or without a PeerConnection. */
  stopRecording(mid: string): Promise<void>;
  /** Pauses/resumes a recording or changes its keyframe interval (see `RecordingUpdate`). */
  updateRecording(update: RecordingUpdate): Promise<void>;
  /** Forwards a received stream as RTP/SRTP (see `RtpForwardOptions`); rtp engine only. */
  rtpForward(options: RtpForwardOptions): Promise<RtpForwardResult>;
  /** Stops a forwarder; a no-op when it or the PeerConnection is gone. */
  stopRtpForward(id: string): Promise<void>;
  /**
   * Plays MJR recordings to the client (the PeerConnection is made if needed): each file on a
   * new `sendonly` m-line that the next `createOffer` carries, at its recorded pace once the
   * PeerConnection is up; `onEnded` follows the last packet. Rtp engine only; rejects when a
   * file cannot be read or played.
   */
  play(options: PlayoutOptions, onEnded?: () => void): Promise<PlayoutStream[]>;
  /** Stops the playout; a no-op without one. */
  stopPlay(): Promise<void>;
  /**
   * Sends a data-channel message to the client: on the channel `label`, which is opened first
   * when the client has none of that name (as Janus's SCTP stack does; VideoRoom relays each
   * publisher's data on a channel named after it), or without a label on the first open one.
   */
  sendData(data: string | Uint8Array, label?: string): Promise<void>;
  /** True while a PeerConnection exists. */
  readonly active: boolean;
}

/** The core as one plugin session sees it (janus_callbacks bound to one handle). */
export interface PluginHandle {
  readonly id: number;
  readonly opaqueId: string | undefined;
  /** Aborted on detach, destroy, timeout and shutdown. */
  readonly signal: AbortSignal;
  readonly webrtc: PluginWebRTC;
  pushEvent(event: PluginEvent): void;
  /**
   * Tells event handlers something (Janus's `notify_event`): `data` is the plugin's own; with
   * `scoped` false the event carries no session or handle (the reference's VideoRoom
   * `leaving`/`unpublished`). Optional so that test doubles may leave it out.
   */
  notifyEvent?(data: JsonObject, scoped?: boolean): void;
  /** Closes the PeerConnection; the client gets `hangup` with reason "Close PC". */
  closePeer(): void;
  /** Ends the handle (the client gets `detached`). */
  end(): void;
}

/** One plugin session per attached handle. */
export interface PluginSession {
  /** Resolves fast: `success` with data, or `ack` with a later event. */
  handleMessage(message: PluginMessage): Promise<PluginReply>;
  /** The PeerConnection is up (after `webrtcup`). */
  setupMedia(): void;
  /** A data-channel message from the client. */
  onData?(data: string | Uint8Array, label: string): void;
  /** The PeerConnection went away, or a hangup was asked for. */
  hangupMedia(): void;
  /** Trickled candidate (informational; the core feeds the peer). */
  onCandidate?(candidate: IceCandidate | null): void;
  destroy(): Promise<void>;
  /** The plugin's state for admin `handle_info`. */
  query(): JsonObject;
}

/** What the core offers a plugin at `init`. */
export interface PluginHost {
  /**
   * Rewrites this plugin's section of the configuration file (`plugins[id]` of the JSON read
   * with `--config`); resolves false when writing failed. Absent when the gateway runs
   * without a configuration file, so there is nowhere to write.
   */
  updateConfig?: (update: (section: JsonObject) => JsonObject) => Promise<boolean>;
  /** Media the plugin owns outside any handle (RTP sources); absent without a media engine. */
  media?: PluginMedia;
}

/** A plugin. */
export interface Plugin {
  readonly info: PluginInfo;
  init(config: unknown, host?: PluginHost): Promise<void>;
  destroy(): Promise<void>;
  createSession(handle: PluginHandle): Promise<PluginSession>;
  /**
   * A `message_plugin` admin request; `notify` tells event handlers with no session or handle
   * (the reference's plugins call `notify_event` with a NULL handle there).
   */
  handleAdminMessage?(body: JsonObject, notify: (data: JsonObject) => void): Promise<JsonObject>;
  /** The plugin's error body, e.g. `{echotest:"event", error_code, error}`. */
  formatError(error: { code: number; message: string }): JsonObject;
  /** Gauges for `/metrics` (`janus_plugin_<key>{plugin}`), e.g. `{rooms: 2, publishers: 3}`. */
  metrics?(): Record<string, number>;
}
