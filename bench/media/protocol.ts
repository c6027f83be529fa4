/**
 * RPC vocabularies (over `core/media/rpc.ts`) of the media bench's helper processes: the
 * wrtc client host (`client_host.ts`) and our gateway with its media workers
 * (`gateway_main.ts`). Both speak newline-delimited JSON on stdin/stdout; logs go to stderr.
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
 * - `echo`: sendrecv audio + video (440 Hz tone, 320x240 pattern at 30 fps);
 * - `publisher`: the same sources, sendonly;
 * - `subscriber`: no sources, receives what the server offers.
 */
export type ClientKind = "echo" | "publisher" | "subscriber";

/** Decoded video frames and connection state of some peers, in the order asked. */
export interface FrameCounts {
  frames: number[];
  states: string[];
}

/** Methods the client host serves. */
export interface ClientMethods {
  create: { params: { kind: ClientKind }; result: { id: number } };
  /** createOffer + setLocalDescription; gathering restarts. */
  offer: { params: { id: number }; result: { sdp: string } };
  /** Applies the server's answer. */
  answer: { params: { id: number; sdp: string }; result: null };
  /** Applies the server's offer, then createAnswer + setLocalDescription; gathering restarts. */
  accept: { params: { id: number; sdp: string }; result: { sdp: string } };
  /** The candidates of the last local description, once gathering completed (5 s at most). */
  candidates: { params: { id: number }; result: { candidates: TrickleCandidate[] } };
  frames: { params: { ids: number[] }; result: FrameCounts };
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
