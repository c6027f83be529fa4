/**
 * The core side of a handle's one PeerConnection: creates the peer through the
 * media engine, queues early trickles, and turns peer happenings into Janus
 * events (`webrtcup`, `media`, `slowlink`, `trickle`, `hangup`).
 *
 * @module
 */
import { JanusError } from "./errors.ts";
import type { EventBus, EventScope } from "./events/bus.ts";
import { EVENT_TYPE } from "./events/types.ts";
import { WebRTCReporter } from "./events/webrtc_reporter.ts";
import { JANUS_ERROR, type JsonObject } from "./protocol.ts";
import type { ForwardRequest, ForwardTo, Jsep, PluginWebRTC } from "./plugin.ts";
import type {
  AnswerOptions,
  AudioLevelReport,
  IceCandidate,
  MediaEngine,
  MediaStateChange,
  MixRequest,
  OfferOptions,
  Peer,
  PeerCloseReason,
  PeerInfo,
  PlayoutOptions,
  PlayoutStream,
  RecordingOptions,
  RecordingUpdate,
  RtpForwardOptions,
  RtpForwardResult,
  SlowLinkReport,
} from "./media/types.ts";

/** What the handle learns from its peer. */
export interface WebRTCEvents {
  /** A Janus core event for the client (`session_id`/`sender` are added by the handle). */
  emit(event: JsonObject): void;
  connected(): void;
  data(data: string | Uint8Array, label: string): void;
  /** The peer went away by itself (remote close, ICE failure, worker gone). */
  lost(reason: PeerCloseReason): void;
}

/** Per-handle WebRTC state. */
export class HandleWebRTC implements PluginWebRTC {
  #engine: MediaEngine | undefined;
  #events: WebRTCEvents;
  #affinity: string | undefined;
  #plugin: string | undefined;
  #fullTrickle: boolean;
  #peer: Peer | undefined;
  #creating: Promise<Peer> | undefined;
  #pending: (IceCandidate | null)[] = [];
  #negotiated = false;
  #weOffered = false;
  /** An offer of ours is out and its answer has not come (renegotiations included). */
  #offerPending = false;
  #gotOffer = false;
  #ready = false;
  #closed = false;
  /** The handle is gone: no peer may be made any more. */
  #ended = false;
  #allTrickles = false;
  #audioLevel: ((report: AudioLevelReport) => void) | undefined;
  /** Told when the running playout sent its last packet. */
  #playoutEnded: (() => void) | undefined;
  /** Event-handler reports of this handle (absent without an event bus). */
  #report: WebRTCReporter | undefined;
  #bus: EventBus | undefined;
  /** The plugin's cap on what the client sends, for the peer (made now or later); 0 = none. */
  #bitrateCap = 0;

  constructor(options: {
    engine: MediaEngine | undefined;
    events: WebRTCEvents;
    affinity?: string;
    /** The handle's plugin package: the engine of its peers may be configured per plugin. */
    plugin?: string;
    fullTrickle: boolean;
    /** Where `webrtc` and `media` events go, with the handle's ids. */
    reporter?: { bus: EventBus; scope: EventScope };
  }) {
    this.#engine = options.engine;
    if (options.reporter) {
      this.#bus = options.reporter.bus;
      this.#report = new WebRTCReporter(options.reporter.bus, options.reporter.scope);
    }
    this.#plugin = options.plugin;
    this.#events = options.events;
    this.#affinity = options.affinity;
    this.#fullTrickle = options.fullTrickle;
  }

  /** True while a PeerConnection exists. */
  get active(): boolean {
    return this.#peer !== undefined || this.#creating !== undefined;
  }

  /** Whether offer/answer is complete (trickles then go straight to the peer). */
  get negotiated(): boolean {
    return this.#negotiated;
  }

  /** True when we sent an offer whose answer has not come. */
  get awaitingAnswer(): boolean {
    return this.#offerPending;
  }

  /** Flags for admin `handle_info`. */
  flags(): JsonObject {
    return {
      "got-offer": this.#gotOffer,
      "got-answer": this.#weOffered ? this.#negotiated : this.#gotOffer,
      negotiated: this.#negotiated,
      ready: this.#ready,
      stopped: this.#closed,
      trickle: this.#gotOffer || this.#weOffered,
      "all-trickles": this.#allTrickles,
    };
  }

  async #ensurePeer(): Promise<Peer> {
    if (this.#peer) return this.#peer;
    if (this.#creating) return await this.#creating;
    const engine = this.#engine;
    if (!engine) throw new JanusError(JANUS_ERROR.UNKNOWN, "No media engine is running");
    // Late plugin work (a renegotiation racing a detach) must not revive a dead handle.
    if (this.#ended) throw new JanusError(JANUS_ERROR.WEBRTC_STATE, "Handle is gone");
    this.#closed = false;
    const report = this.#reporter();
    report?.gathering();
    let iceTold: Promise<void> | undefined;
    this.#creating = engine.createPeer({
      ...(this.#affinity ? { affinity: this.#affinity } : {}),
      ...(this.#plugin !== undefined ? { plugin: this.#plugin } : {}),
      listener: {
        onIceConnected: () => {
          if (report) iceTold = this.info().then((i) => report.iceConnected(i?.selectedPair));
        },
        onConnected: () => {
          this.#ready = true;
          this.#events.connected();
          // After the ICE events (their pair lookup is async), in the reference's order.
          if (report) {
            void Promise.resolve(iceTold).then(() => this.info())
              .then((i) => report.connected(i?.selectedPair));
          }
        },
        onMedia: (change: MediaStateChange) => {
          report?.media(change);
          this.#events.emit({
            janus: "media",
            mid: change.mid,
            type: change.kind,
            receiving: change.receiving,
            ...(change.seconds !== undefined ? { seconds: change.seconds } : {}),
          });
        },
        onSlowLink: (r: SlowLinkReport) => {
          report?.slowLink(r);
          this.#events.emit({
            janus: "slowlink",
            mid: r.mid,
            media: r.kind,
            uplink: r.uplink,
            lost: r.lost,
          });
        },
        onLocalCandidate: (c: IceCandidate | null) => {
          report?.localCandidate(c);
          if (!this.#fullTrickle) return;
          this.#events.emit({
            janus: "trickle",
            candidate: c
              ? {
                sdpMid: c.sdpMid ?? "0",
                sdpMLineIndex: c.sdpMLineIndex ?? 0,
                candidate: c.candidate,
              }
              : { completed: true },
          });
        },
        onAudioLevel: (report: AudioLevelReport) => this.#audioLevel?.(report),
        onPlayoutEnded: () => {
          const ended = this.#playoutEnded;
          this.#playoutEnded = undefined;
          ended?.();
        },
        onData: (m) => this.#events.data(m.data, m.label),
        onClosed: (reason: PeerCloseReason) => {
          if (this.#closed) return;
          this.#reset();
          this.#events.lost(reason);
        },
      },
    });
    try {
      const peer = await this.#creating;
      this.#peer = peer;
      if (this.#audioLevel) await peer.setAudioLevels(true).catch(() => {});
      if (this.#bitrateCap > 0) await peer.setBitrateCap(this.#bitrateCap);
      return peer;
    } finally {
      this.#creating = undefined;
    }
  }

  async #flushTrickles(peer: Peer): Promise<void> {
    const pending = this.#pending;
    this.#pending = [];
    for (const c of pending) await peer.addRemoteCandidate(c).catch(() => {});
  }

  /** With full trickle our candidates go out as `trickle` events only (as the reference). */
  #forClient(sdp: string): string {
    if (!this.#fullTrickle) return sdp;
    return sdp.split("\r\n").filter((l) => !/^a=(candidate:|end-of-candidates)/.test(l))
      .join("\r\n");
  }

  async acceptOffer(jsep: Jsep, options?: AnswerOptions): Promise<Jsep> {
    this.#gotOffer = true;
    const peer = await this.#ensurePeer();
    this.#report?.remoteSdp(jsep.sdp);
    const sdp = await peer.acceptOffer(jsep.sdp, options);
    this.#negotiated = true;
    this.#report?.connecting();
    await this.#flushTrickles(peer);
    return { type: "answer", sdp: this.#forClient(sdp) };
  }

  useAffinity(key: string): void {
    this.#affinity = key;
  }

  /** The peer a media source outside any handle forwards to (made now if needed). */
  async sourceTarget(): Promise<Peer> {
    return await this.#ensurePeer();
  }

  /** The live peer, if any. */
  get livePeer(): Peer | undefined {
    return this.#peer;
  }

  async forward(request: ForwardRequest): Promise<string> {
    const target = HandleWebRTC.#handleOf(request.to);
    const from = this.#peer;
    if (!from) throw new JanusError(JANUS_ERROR.WEBRTC_STATE, "Invalid PeerConnection");
    const to = await target.#ensurePeer();
    const { fromMid, toMid, active } = request;
    return await from.forward({
      to,
      fromMid,
      ...(toMid !== undefined ? { toMid } : {}),
      ...(active !== undefined ? { active } : {}),
    });
  }

  async setForwarding(options: ForwardTo & { active: boolean }): Promise<void> {
    const to = HandleWebRTC.#handleOf(options.to).#peer;
    const from = this.#peer;
    if (!from || !to) throw new JanusError(JANUS_ERROR.WEBRTC_STATE, "Invalid PeerConnection");
    await from.setForwarding({ to, toMid: options.toMid, active: options.active });
  }

  async stopForward(options: ForwardTo): Promise<void> {
    const to = HandleWebRTC.#handleOf(options.to).#peer;
    const from = this.#peer;
    if (!from || !to) return;
    await from.stopForward({ to, toMid: options.toMid });
  }

  onAudioLevel(listener: ((report: AudioLevelReport) => void) | undefined): void {
    const was = this.#audioLevel !== undefined;
    this.#audioLevel = listener;
    if (was !== (listener !== undefined)) {
      void this.#peer?.setAudioLevels(listener !== undefined).catch(() => {});
    }
  }

  async mix(request: MixRequest): Promise<void> {
    const peer = this.#peer;
    if (!peer) {
      if (request.op === "leave") return;
      throw new JanusError(JANUS_ERROR.WEBRTC_STATE, "Invalid PeerConnection");
    }
    await peer.mix(request);
  }

  async startRecording(options: RecordingOptions): Promise<void> {
    const peer = this.#peer;
    if (!peer) throw new JanusError(JANUS_ERROR.WEBRTC_STATE, "Invalid PeerConnection");
    await peer.startRecording(options);
  }

  async stopRecording(mid: string): Promise<void> {
    await this.#peer?.stopRecording(mid);
  }

  async updateRecording(update: RecordingUpdate): Promise<void> {
    await this.#peer?.updateRecording(update);
  }

  async rtpForward(options: RtpForwardOptions): Promise<RtpForwardResult> {
    const peer = this.#peer;
    if (!peer) throw new JanusError(JANUS_ERROR.WEBRTC_STATE, "Invalid PeerConnection");
    return await peer.rtpForward(options);
  }

  async stopRtpForward(id: string): Promise<void> {
    await this.#peer?.stopRtpForward(id);
  }

  async play(options: PlayoutOptions, onEnded?: () => void): Promise<PlayoutStream[]> {
    const peer = await this.#ensurePeer();
    if (!peer.play) throw new Error("The media engine does not play recordings");
    const streams = await peer.play(options);
    this.#playoutEnded = onEnded;
    return streams;
  }

  async stopPlay(): Promise<void> {
    this.#playoutEnded = undefined;
    await this.#peer?.stopPlay?.();
  }

  static #handleOf(target: PluginWebRTC): HandleWebRTC {
    if (!(target instanceof HandleWebRTC)) throw new TypeError("Unknown forwarding target");
    return target;
  }

  async createOffer(options?: OfferOptions): Promise<Jsep> {
    const peer = await this.#ensurePeer();
    const sdp = await peer.createOffer(options);
    this.#weOffered = true;
    this.#offerPending = true;
    return { type: "offer", sdp: this.#forClient(sdp) };
  }

  /** Applies the client's answer to our offer (469 when we never offered). */
  async acceptAnswer(jsep: Jsep): Promise<void> {
    const peer = this.#peer;
    if (!peer || !this.#offerPending) {
      throw new JanusError(JANUS_ERROR.UNEXPECTED_ANSWER, "Unexpected ANSWER (did we offer?)");
    }
    this.#report?.remoteSdp(jsep.sdp);
    await peer.acceptAnswer(jsep.sdp);
    this.#offerPending = false;
    this.#negotiated = true;
    this.#report?.connecting();
    await this.#flushTrickles(peer);
  }

  /** A client trickle: queued until negotiation is done, then handed to the peer. */
  async trickle(candidate: IceCandidate | null): Promise<void> {
    if (candidate === null) this.#allTrickles = true;
    this.#report?.remoteCandidate(candidate);
    if (!this.#peer || !this.#negotiated) {
      this.#pending.push(candidate);
      return;
    }
    await this.#peer.addRemoteCandidate(candidate).catch(() => {});
  }

  async setBitrateCap(bitsPerSecond: number): Promise<void> {
    this.#bitrateCap = bitsPerSecond;
    if (this.#peer) await this.#peer.setBitrateCap(bitsPerSecond);
  }

  async sendData(data: string | Uint8Array, label?: string): Promise<void> {
    if (this.#peer) await this.#peer.sendData(label ? { data, label } : { data });
  }

  async info(): Promise<PeerInfo | undefined> {
    return await this.#peer?.info().catch(() => undefined);
  }

  /** Reports the PeerConnection's end to event handlers (the handle sent `hangup`). */
  reportHangup(reason: string): void {
    this.#report?.hangup(reason);
  }

  /** The reporter, when some handler wants webrtc or media events now (masks may change). */
  #reporter(): WebRTCReporter | undefined {
    const bus = this.#bus;
    if (!bus || !(bus.wants(EVENT_TYPE.webrtc) || bus.wants(EVENT_TYPE.media))) return undefined;
    return this.#report;
  }

  /** The peer object, for wiring tracks between handles of one worker. */
  get peer(): Peer | undefined {
    return this.#peer;
  }

  #reset(): void {
    this.#closed = true;
    this.#peer = undefined;
    this.#negotiated = false;
    this.#weOffered = false;
    this.#offerPending = false;
    this.#gotOffer = false;
    this.#ready = false;
    this.#allTrickles = false;
    this.#pending = [];
    this.#bitrateCap = 0;
    this.#playoutEnded = undefined;
  }

  /** Closes the peer for good: the handle is detached or its session is gone. */
  async end(): Promise<void> {
    this.#ended = true;
    await this.close();
  }

  /** Closes the peer. Resolves true when there was one (the caller then emits `hangup`). */
  async close(): Promise<boolean> {
    const creating = this.#creating;
    const peer = this.#peer ?? (creating ? await creating.catch(() => undefined) : undefined);
    this.#reset();
    if (!peer) return false;
    await peer.close().catch(() => {});
    return true;
  }
}
