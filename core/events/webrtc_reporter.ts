/**
 * The `webrtc` and `media` events of one handle's PeerConnection, in the reference's words
 * (ice.c, dtls.c): ICE states, local and remote candidates, the selected pair, DTLS state,
 * `webrtcup`/`hangup`, media state and slow links. The media engine reports less than libnice
 * does, so states are told when the core learns them: `gathering` when the peer is made,
 * `connecting` once offer/answer is done, the pair, `connected` and DTLS `trying` when ICE
 * connects (the handshake starts), DTLS `connected`, `webrtcup` and `ready` when the peer
 * connects, `failed` when ICE fails.
 *
 * @module
 */
import type { JsonObject } from "../protocol.ts";
import type { IceCandidate, MediaStateChange, SlowLinkReport } from "../media/types.ts";
import type { EventBus, EventScope } from "./bus.ts";
import { EVENT_SUBTYPE, EVENT_TYPE } from "./types.ts";

/** One bundled transport: the reference's stream and component ids are both 1. */
const STREAM = { stream_id: 1, component_id: 1 };

/** `addr:port [type,transport]` of a selected-pair side, as libnice and our engines print it. */
function parseSide(side: string): JsonObject | undefined {
  const m = /^\[?([^\]\s]+?)\]?:(\d+) \[(\w+),(\w+)\]$/.exec(side.trim());
  if (!m) return undefined;
  const address = m[1] ?? "";
  return {
    address,
    port: Number(m[2]),
    type: m[3] ?? "",
    transport: m[4] ?? "",
    family: address.includes(":") ? 6 : 4,
  };
}

/** Reports one handle's WebRTC happenings to the event bus. */
export class WebRTCReporter {
  readonly #bus: EventBus;
  readonly #scope: EventScope;
  #connecting = false;
  #iceConnected = false;
  #pairTold = false;

  constructor(bus: EventBus, scope: EventScope) {
    this.#bus = bus;
    this.#scope = scope;
  }

  #webrtc(subtype: number, body: JsonObject): void {
    if (this.#bus.wants(EVENT_TYPE.webrtc)) {
      this.#bus.emit(EVENT_TYPE.webrtc, subtype, this.#scope, body);
    }
  }

  #ice(state: string): void {
    this.#webrtc(EVENT_SUBTYPE.webrtcIce, { ice: state, ...STREAM });
  }

  /** A peer is being made. */
  gathering(): void {
    this.#connecting = false;
    this.#iceConnected = false;
    this.#pairTold = false;
    this.#ice("gathering");
  }

  /** Offer/answer is done: connectivity checks start (once per peer). */
  connecting(): void {
    if (this.#connecting) return;
    this.#connecting = true;
    this.#ice("connecting");
  }

  /** The candidates written in a remote SDP. */
  remoteSdp(sdp: string): void {
    if (!this.#bus.wants(EVENT_TYPE.webrtc)) return;
    for (const line of sdp.split(/\r?\n/)) {
      if (line.startsWith("a=candidate:")) this.#remote(line.slice("a=candidate:".length));
    }
  }

  /** A trickled remote candidate (`null` ends trickling and is not reported). */
  remoteCandidate(candidate: IceCandidate | null): void {
    if (candidate) this.#remote(candidate.candidate.replace(/^(a=)?candidate:/, ""));
  }

  #remote(text: string): void {
    this.#webrtc(EVENT_SUBTYPE.webrtcRemoteCandidate, { "remote-candidate": text, ...STREAM });
  }

  /** One of our candidates. */
  localCandidate(candidate: IceCandidate | null): void {
    if (!candidate) return;
    const text = candidate.candidate.replace(/^(a=)?candidate:/, "");
    this.#webrtc(EVENT_SUBTYPE.webrtcLocalCandidate, { "local-candidate": text, ...STREAM });
  }

  /** The selected pair (`local <-> remote`), once per peer. */
  #pair(pair: string | undefined): void {
    if (pair === undefined || this.#pairTold) return;
    this.#pairTold = true;
    const [local, remote] = pair.split(" <-> ").map(parseSide);
    const body: JsonObject = { "selected-pair": pair };
    if (local && remote) body.candidates = { local, remote };
    this.#webrtc(EVENT_SUBTYPE.webrtcSelectedPair, { ...body, ...STREAM });
  }

  /** ICE is up and the DTLS handshake starts (as ice.c: the pair, `connected`, `trying`). */
  iceConnected(pair: string | undefined): void {
    if (this.#iceConnected || !this.#bus.wants(EVENT_TYPE.webrtc)) return;
    this.#iceConnected = true;
    this.#pair(pair);
    this.#ice("connected");
    this.#webrtc(EVENT_SUBTYPE.webrtcDtls, { dtls: "trying", ...STREAM, retransmissions: 0 });
  }

  /**
   * ICE and DTLS are up; `pair` is the selected pair once known. An engine that did not tell
   * ICE apart gets its ICE events here first.
   */
  connected(pair: string | undefined): void {
    if (!this.#bus.wants(EVENT_TYPE.webrtc)) return;
    this.iceConnected(pair);
    this.#pair(pair);
    this.#webrtc(EVENT_SUBTYPE.webrtcDtls, { dtls: "connected", ...STREAM, retransmissions: 0 });
    this.#webrtc(EVENT_SUBTYPE.webrtcState, { connection: "webrtcup" });
    this.#ice("ready");
  }

  /** The PeerConnection went away (`reason` as in the `hangup` event). */
  hangup(reason: string): void {
    if (!this.#bus.wants(EVENT_TYPE.webrtc)) return;
    if (reason === "ICE failed") this.#ice("failed");
    this.#webrtc(EVENT_SUBTYPE.webrtcState, { connection: "hangup", reason });
  }

  /** Media started or stopped arriving on one m-line. */
  media(change: MediaStateChange): void {
    if (!this.#bus.wants(EVENT_TYPE.media)) return;
    const body: JsonObject = { media: change.kind, mid: change.mid, receiving: change.receiving };
    if (change.seconds !== undefined) body.seconds = change.seconds;
    this.#bus.emit(EVENT_TYPE.media, EVENT_SUBTYPE.mediaState, this.#scope, body);
  }

  /** A slow link: NACKs past the threshold in the last second. */
  slowLink(report: SlowLinkReport): void {
    if (!this.#bus.wants(EVENT_TYPE.media)) return;
    this.#bus.emit(EVENT_TYPE.media, EVENT_SUBTYPE.mediaSlowLink, this.#scope, {
      mid: report.mid,
      media: report.kind,
      slow_link: report.uplink ? "uplink" : "downlink",
      lost_lastsec: report.lost,
    });
  }
}
