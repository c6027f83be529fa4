/**
 * The RPC vocabulary between a plugin test and its client-peer host process
 * (`_peer_host.ts`), over `core/media/rpc.ts`.
 *
 * @module
 */
import type { IceCandidate } from "../../core/media/types.ts";

/** A client candidate as Janus clients trickle it. */
export interface ClientCandidate extends IceCandidate {
  sdpMid: string;
  sdpMLineIndex: number;
}

/** What a client peer has received so far. */
export interface PeerStats {
  /** Decoded video frames. */
  videoFrames: number;
  /** Mean luma of the left and right halves of the last frame, and its size. */
  luma: { left: number; right: number; width: number; height: number };
  /** Received audio samples kept (first channel, up to 3 s). */
  audioSamples: number;
  audioRate: number;
  /** Goertzel power at 440 Hz and at 1 kHz over the last half second kept (0 when too short). */
  tone440: number;
  tone1k: number;
  /** Data-channel messages (binary ones as `<binary N>`). */
  messages: string[];
  channelState: string | null;
  connectionState: string;
}

/** Methods the host serves. */
export interface HostMethods {
  create: {
    /** `noise`: random chroma in every frame, so that video needs real bitrate. */
    params: { audio?: boolean; video?: boolean; data?: string; noise?: boolean };
    result: { id: number };
  };
  /** createOffer + setLocalDescription; candidates gathered from now on go to `candidates`. */
  offer: { params: { id: number; iceRestart?: boolean }; result: { sdp: string } };
  answer: { params: { id: number; sdp: string }; result: null };
  /** The candidates of the last offer, once gathering is complete. */
  candidates: { params: { id: number }; result: { candidates: ClientCandidate[] } };
  stats: { params: { id: number }; result: PeerStats };
  send: { params: { id: number; text: string }; result: null };
  /** What the peer has sent so far (its outbound-rtp stats). */
  sent: { params: { id: number }; result: { videoBytes: number } };
  close: { params: { id: number }; result: null };
}

/** Events the host pushes. */
export interface HostEvents {
  ready: { pid: number };
}
