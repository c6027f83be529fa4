/**
 * The media engine as the core sees it: a set of `Peer` proxies whose real
 * PeerConnections live in media worker processes. Nothing here names wrtc, so a
 * second engine (RTP forwarding) can implement the same contract.
 *
 * @module
 */

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
}

/** Packet loss seen on one m-line in the last second. */
export interface SlowLinkReport {
  mid: string;
  kind: "audio" | "video";
  uplink: boolean;
  lost: number;
}

/** What a peer tells its owner; every callback is optional. */
export interface PeerListener {
  /** A server-side candidate, after the allow/ignore lists and NAT rewriting. */
  onLocalCandidate?(candidate: IceCandidate | null): void;
  /** ICE connected and DTLS done: the core sends `webrtcup`. */
  onConnected?(): void;
  onMedia?(change: MediaStateChange): void;
  onSlowLink?(report: SlowLinkReport): void;
  /** Data-channel message from the remote side. */
  onData?(message: { label: string; data: string | Uint8Array }): void;
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

/** One PeerConnection in a media worker. */
export interface Peer {
  readonly id: string;
  /** Apply a remote offer and produce our answer SDP (candidates included). */
  acceptOffer(sdp: string, options?: { bitrateCap?: number }): Promise<string>;
  /** Produce an offer SDP of our own (subscribers); `data` adds a data channel. */
  createOffer(options?: { iceRestart?: boolean; data?: boolean }): Promise<string>;
  /** Apply the remote answer to our offer. */
  acceptAnswer(sdp: string): Promise<void>;
  /** Add a remote candidate; `null` means end of candidates. */
  addRemoteCandidate(candidate: IceCandidate | null): Promise<void>;
  /** Send back what this peer receives (echo); flags toggle each kind. */
  setEcho(options: { audio: boolean; video: boolean; bitrateCap?: number }): Promise<void>;
  /** Forward this peer's received tracks to another peer of the same worker. */
  forwardTo(target: Peer, options?: { audio?: boolean; video?: boolean }): Promise<void>;
  /** Send a data-channel message. */
  sendData(message: { label?: string; data: string | Uint8Array }): Promise<void>;
  info(): Promise<PeerInfo>;
  /** Close the PeerConnection; idempotent. Does not call `onClosed`. */
  close(): Promise<void>;
}

/** Creates peers; placement is decided by the affinity key. */
export interface MediaEngine {
  createPeer(options: { affinity?: string; listener: PeerListener }): Promise<Peer>;
  /** Live peers and workers, for leak checks. */
  counts(): { peers: number; workers: number };
  /** Process ids of the live media workers (tests, admin). */
  workerPids?(): number[];
  /** Process id of the worker holding `peer`, if it is live. */
  workerPidOf?(peer: Peer): number | undefined;
  close(): Promise<void>;
}
