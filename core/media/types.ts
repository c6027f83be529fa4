/**
 * The media engine as the core sees it: a set of `Peer` proxies whose real
 * PeerConnections live in media worker processes. Nothing here names wrtc, so a
 * second engine (RTP forwarding) can implement the same contract.
 *
 * @module
 */
import type { RtpSourceEngine } from "./source_types.ts";
import type { MixerEngine } from "./mixer_types.ts";
import type { EngineMediaStats } from "./media_counters.ts";

/** One ICE candidate as Janus clients trickle it. */
export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** Why a peer ended, as the core's `hangup` event words it. */
export type PeerCloseReason =
  | "ICE failed"
  | "DTLS alert"
  | "DTLS error"
  | "Close PC"
  | "Worker gone"
  | "Closed";

/** Media seen (or no longer seen) on one m-line. */
export interface MediaStateChange {
  mid: string;
  kind: "audio" | "video";
  receiving: boolean;
  /** On `receiving:false` when the no-media timer is over 1 s: its length (as Janus sends). */
  seconds?: number;
}

/** Packet loss seen on one m-line in the last second. */
export interface SlowLinkReport {
  mid: string;
  kind: "audio" | "video";
  uplink: boolean;
  lost: number;
}

/**
 * The audio level of one received audio m-line over the last sampling interval (about half a
 * second), in RFC 6464 terms: -dBov as an integer, 0 the loudest and 127 silence.
 */
export interface AudioLevelReport {
  mid: string;
  level: number;
  /** Packets received in the interval: the weight of `level` in an average over packets. */
  packets: number;
}

/** What {@link Peer.forward} takes. */
export interface ForwardOptions {
  /**
   * The peer that sends the stream on (same media worker: same affinity key). The peer itself
   * is echo: its stream goes back on the same m-line (`toMid` absent or equal to `fromMid`).
   */
  to: Peer;
  /** Our m-line whose received stream is forwarded. */
  fromMid: string;
  /**
   * The target's m-line, of the same kind; a stream it already carries is replaced. Absent: a
   * free m-line of that kind, or a new one (`sendonly`, in the target's next offer); for echo,
   * `fromMid`.
   */
  toMid?: string;
  /** False sets the forward up paused (nothing is sent until `setForwarding`). Default true. */
  active?: boolean;
}

/** One target m-line of a forward. */
export interface ForwardTarget {
  to: Peer;
  toMid: string;
}

/** What a peer tells its owner; every callback is optional. */
export interface PeerListener {
  /** A server-side candidate, after the allow/ignore lists and NAT rewriting. */
  onLocalCandidate?(candidate: IceCandidate | null): void;
  /** ICE connected, DTLS handshake starting (engines that can tell; before `onConnected`). */
  onIceConnected?(): void;
  /** ICE connected and DTLS done: the core sends `webrtcup`. */
  onConnected?(): void;
  onMedia?(change: MediaStateChange): void;
  onSlowLink?(report: SlowLinkReport): void;
  /** Levels of received audio, only while `setAudioLevels(true)` is on. */
  onAudioLevel?(report: AudioLevelReport): void;
  /** Data-channel message from the remote side. */
  onData?(message: { label: string; data: string | Uint8Array }): void;
  /** A playout ({@link Peer.play}) sent its last packet. */
  onPlayoutEnded?(): void;
  /** The peer is gone for a reason other than our own `close()`. */
  onClosed?(reason: PeerCloseReason): void;
}

/** A snapshot for admin `handle_info`. */
export interface PeerInfo {
  iceState: string;
  dtlsState: string;
  connectionState: string;
  selectedPair?: string;
  localCandidates: string[];
  remoteCandidates: string[];
  localSdp?: string;
  remoteSdp?: string;
  stats: Record<string, unknown>;
}

/**
 * Opus settings of a member's mix (AudioBridge `quality`, `bitrate`, `expected_loss`), and
 * whether the member's stream has in-band FEC (its offer's `useinbandfec=1`, or `rtp.fec`).
 */
export interface EncoderSettings {
  /** 0-10; the reference's AudioBridge uses 4. */
  complexity?: number;
  /** Bit/s; 0 = automatic. */
  bitrate?: number;
  /** In-band FEC both ways: the mix carries it, and a lost packet is recovered from it. */
  fec?: boolean;
  /** The loss (0-20 %) the mix's FEC is sized for; none is added at 0 (the reference). */
  expectedLoss?: number;
}

/**
 * What {@link Peer.mix} does. `join`: the audio received on `mid` goes into mixer `mixer` (made
 * at `sampleRate` on first use, in the peer's media worker: the members of one mixer share an
 * affinity key), and `mid`'s sender sends the mix of every other member, every 20 ms; joining
 * another mixer leaves the first. `gain` scales what the peer adds (1: as received); a muted
 * peer adds nothing and still hears the others. `leave` is idempotent.
 */
export type MixRequest =
  | {
    op: "join";
    mixer: string;
    mid: string;
    sampleRate: number;
    gain: number;
    muted: boolean;
    /** Spatial position in a stereo mixer: 0 left, 50 centre (default), 100 right. */
    pan?: number;
    /** Its forwarding group (AudioBridge `groups`): forwarders of that group send only it. */
    group?: string;
  }
    & EncoderSettings
  | (
    & { op: "update"; gain?: number; muted?: boolean; pan?: number; group?: string }
    & EncoderSettings
  )
  | { op: "leave" }
  | MixRoomRequest;

/**
 * Room-wide work of a mixer, idempotent by id, carried by a member peer (`Peer.mix`; it ends
 * with the mixer's last member) or by a plugin-owned mixer (`mixer_types.ts`; it goes on in an
 * empty mixer): `play` an Ogg/Opus file every member hears (once or looped; the same id again
 * is a no-op), `record` the full mix as WAV (`path: null` stops; the same path again is a
 * no-op; written only while the mixer has members, as Janus), `forward` the full mix as RTP to
 * a UDP address (sent while there are members or files, or always with `alwaysOn`: silence).
 */
export type MixRoomRequest =
  | { op: "play"; id: string; path: string; loop: boolean; group?: string }
  | { op: "stopPlay"; id: string }
  | { op: "record"; path: string | null }
  | {
    op: "forward";
    id: string;
    host: string;
    port: number;
    codec: "opus" | "pcma" | "pcmu";
    payloadType: number;
    ssrc: number;
    alwaysOn?: boolean;
    /** Sends only the members and files of this group (AudioBridge `groups`), not the full mix. */
    group?: string;
    /** SRTP: AES_CM_128_HMAC_SHA1_80 or _32, master key and salt (30 bytes) in base64. */
    srtp?: { suite: 32 | 80; key: string };
    /** Opus settings of what it sends (AudioBridge: the room's bitrate and expected loss). */
    encoder?: EncoderSettings;
  }
  | { op: "stopForward"; id: string };

/** How a peer makes an offer of its own. */
export interface OfferOptions {
  iceRestart?: boolean;
  /** Adds a data channel. */
  data?: boolean;
  /**
   * An SDP (our answer to another peer of the same worker) whose audio/video m-lines the offer
   * copies, each `sendrecv` with the same mid, kind, codec and payload types, and whose data
   * channel it copies: for a one-to-one relay (VideoCall) that forwards each m-line of that
   * peer to the m-line of the same mid here and back (`forward` with `toMid`), packets
   * unchanged. Only an engine that forwards RTP can; the wrtc one refuses.
   */
  mirror?: string;
  /**
   * Mid -> codec name: that m-line offers only this codec (plus the rtx repairing it) when it
   * has it, e.g. a forwarded stream's codec on a decoding engine that could send several.
   */
  codecs?: Record<string, string>;
  /** Mids of m-lines offered `inactive` (and without `a=msid`): free lines kept for reuse. */
  inactive?: string[];
}

/**
 * What {@link Peer.startRecording} takes: the stream received on `mid` is written to `path`
 * in Janus's MJR format (the folder is made when missing), video from its next keyframe.
 */
export interface RecordingOptions {
  mid: string;
  path: string;
  /** The codec as the header names it (`opus`, `vp8`). */
  codec: string;
  /** The stream's description, kept in the header. */
  description?: string;
  /** Video: a keyframe is asked for this often while packets come (Record&Play's PLI). */
  keyframeIntervalMs?: number;
  /** Starts muted (see {@link RecordingUpdate.muted}). */
  muted?: boolean;
}

/** What {@link Peer.updateRecording} changes of the recording of `mid` (what is given). */
export interface RecordingUpdate {
  mid: string;
  /** Paused: packets are dropped; resumed: the file goes on with no gap in RTP time. */
  paused?: boolean;
  /** Muted: packets are dropped and their time stays a gap (AudioBridge's muted participant). */
  muted?: boolean;
  keyframeIntervalMs?: number;
}

/**
 * What {@link Peer.play} takes: MJR recordings (Record&Play), each sent on a new `sendonly`
 * m-line of ours (`mid`), which the peer's next offer carries.
 */
export interface PlayoutOptions {
  files: { path: string; mid: string }[];
}

/** One stream of a playout, as read from its file. */
export interface PlayoutStream {
  mid: string;
  kind: "audio" | "video";
  codec: string;
  packets: number;
  /** From the first packet to the last, in ms. */
  durationMs: number;
}

/**
 * What {@link Peer.rtpForward} takes: every packet received on `mid` is sent as RTP to
 * `host:port` (an IP address), its SSRC and payload type replaced when given, SRTP-protected
 * with `srtp`.
 */
export interface RtpForwardOptions {
  /** The caller's name for this forwarder (`stopRtpForward` takes it). */
  id: string;
  mid: string;
  host: string;
  port: number;
  ssrc?: number;
  pt?: number;
  /** SRTP: AES_CM_128_HMAC_SHA1_80 or _32, master key and salt (30 bytes) in base64. */
  srtp?: { suite: 32 | 80; key: string };
  /**
   * A local RTCP socket is bound (any port) and latched to the receiver's RTCP port (two
   * empty RTP headers, as Janus); a PLI or FIR it receives asks the publisher for a keyframe.
   * Above 0 binds (`remoteRtcpPort` 0 binds without latching).
   */
  rtcp?: { remotePort: number };
}

/** What {@link Peer.rtpForward} answers. */
export interface RtpForwardResult {
  /** The port of the bound RTCP socket, with `rtcp`. */
  localRtcpPort?: number;
}

/** How a peer answers an offer. */
export interface AnswerOptions {
  /** Video bitrate cap written as `b=AS` into the answer, in bits per second. */
  bitrateCap?: number;
  /**
   * Codecs to answer with, per kind, in order of preference. Every audio/video m-line is
   * answered with one codec (plus the rtx repairing it): the first of the kind's list that the
   * m-line offers and the engine can use (none, or an empty list: the m-line is rejected);
   * without a list, the rtp engine takes the reference's order (Opus, PCMU, PCMA...; VP8, VP9,
   * H.264, AV1) and wrtc the first offered one it can use.
   */
  codecs?: { audio?: string[]; video?: string[] };
  /**
   * The most each live audio/video m-line of the answer may do (default `sendrecv`): e.g.
   * `recvonly` for a publisher that only sends to us. The answer is what both sides allow.
   */
  direction?: "sendrecv" | "sendonly" | "recvonly" | "inactive";
  /**
   * The audio rate (Hz) we mix at (AudioBridge: the room's `sampling_rate`), written as
   * `maxplaybackrate` in the answer's Opus fmtp as the reference does: the client's encoder
   * sends no wider a band (and at a lower bitrate) than is mixed. Served by the wrtc engine.
   */
  opusMaxPlaybackRate?: number;
}

/**
 * One PeerConnection in a media worker.
 *
 * Forwarding: a peer sends the stream it receives on one m-line (`fromMid`) to an m-line of
 * another peer of the same worker; each target m-line carries at most one stream at a time,
 * which can be paused, resumed, replaced (`forward` again with the same `toMid`) or stopped
 * without renegotiation. Mids of new target m-lines are assigned at once (`"0"`, `"1"`, ... in
 * the order they are added) and the target's next offer uses them. Echo is a forward of a
 * peer's m-line to itself. Every engine serves them.
 */
export interface Peer {
  readonly id: string;
  /** Apply a remote offer and produce our answer SDP (candidates included). */
  acceptOffer(sdp: string, options?: AnswerOptions): Promise<string>;
  /** Produce an offer SDP of our own (subscribers, a mirrored relay). */
  createOffer(options?: OfferOptions): Promise<string>;
  /** Apply the remote answer to our offer. */
  acceptAnswer(sdp: string): Promise<void>;
  /** Add a remote candidate; `null` means end of candidates. */
  addRemoteCandidate(candidate: IceCandidate | null): Promise<void>;
  /**
   * Caps what the remote side sends us, in bits per second (0: no cap), on the live call and in
   * later answers: REMB on an engine that handles RTP; `b=AS` on a decoding one (wrtc), which
   * also lowers what its encoders send back.
   */
  setBitrateCap(bitsPerSecond: number): Promise<void>;
  /** Forwards one received stream (to this peer itself: echo); resolves the target m-line's mid. */
  forward(options: ForwardOptions): Promise<string>;
  /** Pauses (false) or resumes (true) the stream this peer forwards to `toMid` of `to`. */
  setForwarding(options: ForwardTarget & { active: boolean }): Promise<void>;
  /** Stops forwarding to `toMid` of `to` (the m-line stays, free); idempotent. */
  stopForward(options: ForwardTarget): Promise<void>;
  /**
   * Asks the remote sender of our m-line `mid` for a keyframe (PLI; at most one a second per
   * stream). Only an engine that forwards RTP can: a decoding one (wrtc) refuses, its encoders
   * make the keyframes its receivers need.
   */
  requestKeyframe(mid: string): Promise<void>;
  /** Turns `onAudioLevel` reports on or off (off by default). */
  setAudioLevels(enabled: boolean): Promise<void>;
  /**
   * Audio conference mixing (AudioBridge): joins, updates or leaves a mixer of this peer's
   * media worker. Only an engine that decodes (wrtc) can; the others reject.
   */
  mix(request: MixRequest): Promise<void>;
  /**
   * Records one received stream into an MJR file (one recording per m-line; a second replaces
   * the first); rejects when the file cannot be made. Only an engine that handles RTP can.
   */
  startRecording(options: RecordingOptions): Promise<void>;
  /** Stops the recording of `mid` and closes its file; idempotent. */
  stopRecording(mid: string): Promise<void>;
  /** Pauses/resumes the recording of `mid` or changes its keyframe interval; idempotent. */
  updateRecording(update: RecordingUpdate): Promise<void>;
  /** Forwards one received stream as plain RTP over UDP. Only an engine that handles RTP can. */
  rtpForward(options: RtpForwardOptions): Promise<RtpForwardResult>;
  /** Stops the forwarder `id`; idempotent. */
  stopRtpForward(id: string): Promise<void>;
  /**
   * Plays recordings to the remote side (see `PlayoutOptions`): the lines are made now and
   * offered by the next `createOffer`; packets go out at their recorded pace once the lines
   * are open, and `onPlayoutEnded` follows the last one. Only an engine that handles RTP can
   * (absent or rejecting elsewhere); rejects when a file cannot be read or played.
   */
  play?(options: PlayoutOptions): Promise<PlayoutStream[]>;
  /** Stops a playout; idempotent. */
  stopPlay?(): Promise<void>;
  /** Send a data-channel message. */
  sendData(message: { label?: string; data: string | Uint8Array }): Promise<void>;
  info(): Promise<PeerInfo>;
  /** Close the PeerConnection; idempotent. Does not call `onClosed`. */
  close(): Promise<void>;
}

/** Media detection settings that can change at run time (admin API). */
export interface MediaSettings {
  /** Silence on a received m-line before `onMedia({receiving:false})`, in ms; 0 = off. */
  noMediaMs: number;
  /** Lost packets per second on an m-line that make `onSlowLink`; 0 = off. */
  slowLinkThreshold: number;
}

/** What an engine can do, for plugins that adapt to it. */
export interface EngineCapabilities {
  /** Codec names it negotiates (lower case), per kind. */
  codecs: { audio: string[]; video: string[] };
  /** Whether it decodes media (mixing, recording, transcoding need that). */
  decodes: boolean;
  /** Whether it handles RTP packets (keyframe requests, raw RTP forwarding). */
  rtp: boolean;
}

/**
 * Creates peers; placement is decided by the affinity key. RTP sources: `source_types.ts`;
 * plugin-owned mixers: `mixer_types.ts`.
 */
export interface MediaEngine extends Partial<RtpSourceEngine>, Partial<MixerEngine> {
  /** `plugin`: the package of the handle's plugin (an engine per plugin may be configured). */
  createPeer(
    options: { affinity?: string; plugin?: string; listener: PeerListener },
  ): Promise<Peer>;
  /**
   * What the engine of `plugin`'s peers can do, as its workers reported it (undefined until a
   * worker has started).
   */
  capabilities?(plugin?: string): EngineCapabilities | undefined;
  /** Live peers and workers, for leak checks. */
  counts(): { peers: number; workers: number };
  /** Process ids of the live media workers (tests, admin). */
  workerPids?(): number[];
  /** Workers that died or hung (and were replaced) since the start; recycling is not counted. */
  workerFailures?(): number;
  /** Process id of the worker holding `peer`, if it is live. */
  workerPidOf?(peer: Peer): number | undefined;
  /** Media totals by engine and (with `peers`) each peer's streams; waits `deadlineMs` at most. */
  mediaStats?(options: { peers: boolean; deadlineMs: number }): Promise<EngineMediaStats>;
  /**
   * Changes the given settings for live and future peers; resolves with the settings each
   * live worker reports afterwards.
   */
  updateSettings?(settings: Partial<MediaSettings>): Promise<MediaSettings[]>;
  close(): Promise<void>;
}
