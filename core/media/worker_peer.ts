/**
 * One PeerConnection inside a media worker: negotiation with candidate filtering, echo,
 * forwarding, data channels, stats polling and close. Runs only in worker processes.
 *
 * @module
 */
import { createLogger } from "../log.ts";
import type { CandidateFilter } from "./ice_filter.ts";
import { applyBitrateCap, finalizeCandidates, rejectUnsupportedMedia } from "./sdp.ts";
import { dtlsStateOf, MediaMonitor, selectedPair, type Stat } from "./stats.ts";
import type { WorkerConfig, WorkerEvents } from "./protocol.ts";
import type { IceCandidate, PeerCloseReason, PeerInfo } from "./types.ts";
import type {
  SessionDescription,
  WrtcDataChannel,
  WrtcPeerConnection,
  WrtcSender,
  WrtcTrack,
  WrtcTransceiver,
} from "./wrtc.ts";

const log = createLogger("media-worker");

/** How often stats are sampled, in ms. */
const POLL_MS = 500;

/** Everything a worker peer needs from its worker. */
export interface WorkerPeerContext {
  config: WorkerConfig;
  filter: CandidateFilter;
  supported: { audio: ReadonlySet<string>; video: ReadonlySet<string> };
  notify<K extends keyof WorkerEvents & string>(event: K, params: WorkerEvents[K]): void;
  /** Called once the peer is closed, whoever closed it. */
  onClosed(peer: WorkerPeer): void;
}

/** A forwarded track: our received `track` is sent by `sender` of `target`. */
interface Forward {
  target: WorkerPeer;
  sender: WrtcSender;
  track: WrtcTrack;
}

/** A PeerConnection and its bookkeeping. */
export class WorkerPeer {
  readonly id: string;
  #pc: WrtcPeerConnection;
  #ctx: WorkerPeerContext;
  #queued: (IceCandidate | null)[] = [];
  #echo: { audio: boolean; video: boolean } | undefined;
  #bitrateCap: number | undefined;
  #channels = new Map<string, WrtcDataChannel>();
  #forwards: Forward[] = [];
  #connected = false;
  #closed = false;
  #localCandidates = new Set<string>();
  #remoteCandidates = new Set<string>();
  #localSdp: string | undefined;
  #monitor: MediaMonitor;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(id: string, pc: WrtcPeerConnection, ctx: WorkerPeerContext) {
    this.id = id;
    this.#pc = pc;
    this.#ctx = ctx;
    this.#monitor = new MediaMonitor({
      noMediaMs: ctx.config.noMediaMs,
      slowLinkThreshold: ctx.config.slowLinkThreshold,
    });
    pc.addEventListener("icecandidate", ({ candidate }) => this.#onLocalCandidate(candidate));
    pc.addEventListener("connectionstatechange", () => this.#checkState());
    pc.addEventListener("datachannel", ({ channel }) => this.#addChannel(channel));
    this.#timer = setTimeout(() => this.#poll(), POLL_MS);
  }

  /** Whether close() ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Applies an offer and returns our answer with the filtered candidates. */
  async acceptOffer(sdp: string, bitrateCap: number | undefined): Promise<string> {
    const { sdp: offer, rejected } = rejectUnsupportedMedia(sdp, this.#ctx.supported);
    if (rejected.length > 0) log.verbose(`[${this.id}] rejected m-lines ${rejected.join(",")}`);
    await this.#pc.setRemoteDescription({ type: "offer", sdp: offer });
    // Answer sendrecv wherever the offer lets us (the answer is the intersection), so that
    // echo can be switched on later with replaceTrack and no renegotiation.
    for (const t of this.#mediaTransceivers()) t.direction = "sendrecv";
    if (this.#echo) await this.#applyEcho(this.#echo);
    const answer = await this.#pc.createAnswer();
    await this.#pc.setLocalDescription(answer);
    await this.#flushCandidates();
    const cap = bitrateCap ?? this.#bitrateCap;
    return await this.#finalLocalSdp(cap);
  }

  /** Makes an offer of our own (sendonly tracks added by forwarding, optional data channel). */
  async createOffer(options: { iceRestart?: boolean; data?: boolean }): Promise<string> {
    if (options.data && this.#channels.size === 0) {
      this.#addChannel(this.#pc.createDataChannel("JanusDataChannel"));
    }
    const offer = await this.#pc.createOffer(options.iceRestart ? { iceRestart: true } : {});
    await this.#pc.setLocalDescription(offer);
    return await this.#finalLocalSdp(this.#bitrateCap);
  }

  /** Applies the remote answer to our offer. */
  async acceptAnswer(sdp: string): Promise<void> {
    await this.#pc.setRemoteDescription({ type: "answer", sdp });
    await this.#flushCandidates();
  }

  /** Adds a remote candidate, queued until the remote description is set. */
  async addRemoteCandidate(candidate: IceCandidate | null): Promise<void> {
    if (this.#pc.remoteDescription === null) {
      this.#queued.push(candidate);
      return;
    }
    await this.#addCandidate(candidate);
  }

  /** Echo: send back the received tracks (or stop sending them) per kind. */
  async setEcho(options: { audio: boolean; video: boolean; bitrateCap?: number }): Promise<void> {
    this.#echo = { audio: options.audio, video: options.video };
    // sender.setParameters throws in wrtc 0.10, so a cap applies through b=AS at the next
    // negotiation only.
    if (options.bitrateCap !== undefined) this.#bitrateCap = options.bitrateCap;
    if (this.#pc.remoteDescription !== null) await this.#applyEcho(this.#echo);
  }

  /** Forwards our received tracks to `target` (same worker); false flags stop forwarding. */
  async forwardTo(target: WorkerPeer, kinds: { audio?: boolean; video?: boolean }): Promise<void> {
    if (target.closed) throw new Error("Target peer is closed");
    if (target === this) throw new Error("A peer cannot forward to itself");
    for (const kind of ["audio", "video"] as const) {
      const want = kinds[kind] ?? true;
      const mine = this.#forwards.filter((f) => f.target === target && f.track.kind === kind);
      if (!want) {
        for (const f of mine) await f.sender.replaceTrack(null).catch(() => {});
        this.#forwards = this.#forwards.filter((f) => !mine.includes(f));
        continue;
      }
      for (const t of this.#mediaTransceivers()) {
        const track = t.receiver.track;
        if (track.kind !== kind || mine.some((f) => f.track === track)) continue;
        const sender = await target.takeSender(track);
        this.#forwards.push({ target, sender, track });
      }
    }
  }

  /** Puts `track` on a free sendable transceiver of ours, or on a new sendonly one. */
  async takeSender(track: WrtcTrack): Promise<WrtcSender> {
    const free = this.#mediaTransceivers().find((t) =>
      t.receiver.track.kind === track.kind && t.sender.track === null &&
      (t.direction === "sendonly" || t.direction === "sendrecv")
    );
    if (free) {
      await free.sender.replaceTrack(track);
      return free.sender;
    }
    return this.#pc.addTransceiver(track, { direction: "sendonly" }).sender;
  }

  /** Sends on the named channel, or on the first open one. */
  sendData(label: string | undefined, data: string | Uint8Array): void {
    const channel = label !== undefined
      ? this.#channels.get(label)
      : [...this.#channels.values()].find((c) => c.readyState === "open");
    if (!channel || channel.readyState !== "open") {
      throw new Error(`No open data channel${label !== undefined ? ` "${label}"` : ""}`);
    }
    channel.send(data);
  }

  /** A snapshot for admin handle_info. */
  async info(): Promise<PeerInfo> {
    const stats = await this.#stats();
    const summary = stats.length > 0 ? this.#monitor.update(stats, Date.now()) : undefined;
    if (summary) this.#emitMonitor(summary);
    const pair = selectedPair(stats);
    return {
      iceState: this.#pc.iceConnectionState,
      dtlsState: dtlsStateOf(stats) ?? this.#dtlsState() ?? "new",
      connectionState: this.#pc.connectionState,
      ...(pair !== undefined ? { selectedPair: pair } : {}),
      localCandidates: [...this.#localCandidates],
      remoteCandidates: [...this.#remoteCandidates],
      ...(this.#localSdp !== undefined ? { localSdp: this.#localSdp } : {}),
      ...(this.#pc.remoteDescription ? { remoteSdp: this.#pc.remoteDescription.sdp } : {}),
      stats: { mids: this.#monitor.summary },
    };
  }

  /**
   * Closes the PeerConnection; idempotent. Tracks are detached from every sender first,
   * each received track is stopped once, and the wrtc objects stay referenced until the
   * PeerConnection is closed (both orders were seen to crash the native side).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const f of this.#forwards) {
      if (!f.target.closed) await f.sender.replaceTrack(null).catch(() => {});
    }
    this.#forwards = [];
    const transceivers = this.#pc.getTransceivers();
    for (const t of transceivers) {
      if (t.sender.track !== null) await t.sender.replaceTrack(null).catch(() => {});
    }
    for (const c of this.#channels.values()) c.close();
    const stopped = new Set<WrtcTrack>();
    for (const t of transceivers) {
      const track = t.receiver.track;
      if (stopped.has(track)) continue;
      stopped.add(track);
      track.stop();
    }
    this.#pc.close();
    this.#channels.clear();
    this.#ctx.onClosed(this);
  }

  /** Forgets the forwards to `target`, which is closed (its close detached our tracks). */
  forgetTarget(target: WorkerPeer): void {
    this.#forwards = this.#forwards.filter((f) => f.target !== target);
  }

  #mediaTransceivers(): WrtcTransceiver[] {
    return this.#pc.getTransceivers().filter((t) =>
      t.mid !== null && t.direction !== "stopped" && t.stopped !== true
    );
  }

  async #applyEcho(echo: { audio: boolean; video: boolean }): Promise<void> {
    for (const t of this.#mediaTransceivers()) {
      if (t.direction !== "sendrecv" && t.direction !== "sendonly") continue;
      const track = t.receiver.track;
      const wanted = echo[track.kind] ? track : null;
      if (t.sender.track !== wanted) await t.sender.replaceTrack(wanted);
    }
  }

  async #finalLocalSdp(bitrateCap: number | undefined): Promise<string> {
    await this.#gathered();
    const local: SessionDescription | null = this.#pc.localDescription;
    if (!local) throw new Error("No local description");
    const { sdp, candidates } = finalizeCandidates(local.sdp, this.#ctx.filter);
    for (const c of candidates) this.#localCandidates.add(c);
    this.#localSdp = bitrateCap !== undefined && bitrateCap > 0
      ? applyBitrateCap(sdp, bitrateCap)
      : sdp;
    return this.#localSdp;
  }

  /** Waits for ICE gathering to complete, bounded by the configured timeout. */
  async #gathered(): Promise<void> {
    const deadline = Date.now() + this.#ctx.config.gatherTimeoutMs;
    while (this.#pc.iceGatheringState !== "complete" && Date.now() < deadline && !this.#closed) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (this.#pc.iceGatheringState !== "complete") {
      log.warn(`[${this.id}] ICE gathering not complete after timeout, answering anyway`);
    }
  }

  async #flushCandidates(): Promise<void> {
    const queued = this.#queued;
    this.#queued = [];
    for (const c of queued) await this.#addCandidate(c);
  }

  async #addCandidate(candidate: IceCandidate | null): Promise<void> {
    if (candidate === null || candidate.candidate === "") {
      await this.#pc.addIceCandidate().catch(() => {});
      return;
    }
    const value = candidate.candidate.replace(/^a=/, "");
    const init = {
      candidate: value,
      sdpMid: candidate.sdpMid ?? null,
      sdpMLineIndex: candidate.sdpMLineIndex ??
        (candidate.sdpMid === undefined || candidate.sdpMid === null ? 0 : null),
    };
    this.#remoteCandidates.add(value);
    // Candidates for bundled mids other than the first are refused by libwebrtc: harmless.
    await this.#pc.addIceCandidate(init).catch((e: unknown) =>
      log.debug(`[${this.id}] candidate refused: ${String(e)}`)
    );
  }

  #onLocalCandidate(candidate: IceCandidate | null): void {
    if (this.#closed) return;
    if (candidate === null) {
      this.#ctx.notify("localCandidate", { peerId: this.id, candidate: null });
      return;
    }
    const value = this.#ctx.filter(candidate.candidate);
    if (value === undefined) return;
    this.#localCandidates.add(value);
    this.#ctx.notify("localCandidate", {
      peerId: this.id,
      candidate: {
        candidate: value,
        sdpMid: candidate.sdpMid ?? null,
        sdpMLineIndex: candidate.sdpMLineIndex ?? null,
      },
    });
  }

  #addChannel(channel: WrtcDataChannel): void {
    channel.binaryType = "arraybuffer";
    this.#channels.set(channel.label, channel);
    channel.onmessage = ({ data }) => {
      if (this.#closed) return;
      const payload = typeof data === "string" ? data : new Uint8Array(data);
      this.#ctx.notify("data", {
        peerId: this.id,
        label: channel.label,
        data: typeof payload === "string" ? { text: payload } : { base64: payload.toBase64() },
      });
    };
    channel.onclose = () => {
      if (this.#channels.get(channel.label) === channel) this.#channels.delete(channel.label);
    };
  }

  #dtlsState(): string | undefined {
    for (const t of this.#pc.getTransceivers()) {
      if (t.sender.transport) return t.sender.transport.state;
    }
    return undefined;
  }

  /** Connected once; remote close and failures end the peer with a Janus reason. */
  #checkState(): void {
    if (this.#closed) return;
    const state = this.#pc.connectionState;
    const dtls = this.#dtlsState();
    if (state === "connected" && dtls !== "closed" && !this.#connected) {
      this.#connected = true;
      this.#ctx.notify("connected", { peerId: this.id });
      return;
    }
    let reason: PeerCloseReason | undefined;
    // The remote close shows as the DTLS transport closing (close_notify) while
    // connectionState still reads "connected" for a while, so look at both.
    if (this.#connected && (dtls === "closed" || state === "closed" || state === "failed")) {
      reason = "DTLS alert";
    } else if (!this.#connected && dtls === "failed") reason = "DTLS error";
    else if (!this.#connected && state === "failed") reason = "ICE failed";
    if (reason) this.#lost(reason);
  }

  #lost(reason: PeerCloseReason): void {
    log.verbose(`[${this.id}] closed: ${reason}`);
    this.#ctx.notify("closed", { peerId: this.id, reason });
    this.close().catch((e: unknown) => log.error(`[${this.id}] close failed: ${String(e)}`));
  }

  async #stats(): Promise<Stat[]> {
    if (this.#closed) return [];
    try {
      return [...(await this.#pc.getStats()).values()];
    } catch {
      return [];
    }
  }

  #emitMonitor(out: ReturnType<MediaMonitor["update"]>): void {
    if (this.#closed) return;
    for (const change of out.media) this.#ctx.notify("media", { peerId: this.id, change });
    for (const report of out.slowLinks) this.#ctx.notify("slowLink", { peerId: this.id, report });
  }

  async #poll(): Promise<void> {
    if (this.#closed) return;
    this.#checkState();
    const stats = await this.#stats();
    if (stats.length > 0 && !this.#closed) {
      this.#emitMonitor(this.#monitor.update(stats, Date.now()));
    }
    if (!this.#closed) this.#timer = setTimeout(() => this.#poll(), POLL_MS);
  }
}
