/**
 * One PeerConnection inside a media worker: negotiation with candidate filtering, forwarding
 * (echo included), bitrate caps, data channels, stats polling and close. Runs only in worker processes.
 *
 * @module
 */
import { createLogger } from "../log.ts";
import type { ForwardHub, ForwardPeer } from "./forwarding.ts";
import type { CandidateFilter } from "./ice_filter.ts";
import type { MixerHub } from "./mixer.ts";
import { type SendSlot, SendSlots } from "./send_slots.ts";
import { CandidateBook } from "./candidates.ts";
import {
  answerEdits,
  applyBitrateCap,
  bumpSessionVersion,
  conformSdp,
  finalizeCandidates,
  hasDataLine,
  keepSingleCodec,
  type LocalSdpEdits,
  rejectUnsupportedMedia,
  type SdpOrigin,
  sessionOrigin,
  shapeLocalSdp,
} from "./sdp.ts";
import { dtlsStateOf, MediaMonitor, selectedPair, type Stat } from "./stats.ts";
import { type StreamStats, streamStats } from "./stream_stats.ts";
import type { MediaCounters } from "./media_counters.ts";
import { StatsTotals } from "./stats_totals.ts";
import { AudioLevelMeter, type OpenAudioSink } from "./audio_level.ts";
import { toWire, type WorkerConfig, type WorkerEvents } from "./protocol.ts";
import { DataChannels } from "./channels.ts";
import type {
  AnswerOptions,
  IceCandidate,
  OfferOptions,
  PeerCloseReason,
  PeerInfo,
} from "./types.ts";
import type { SessionDescription, WrtcPeerConnection, WrtcTrack, WrtcTransceiver } from "./wrtc.ts";

const log = createLogger("media-worker");

/** How often stats are sampled, in ms. */
const POLL_MS = 500;
/** Poll period during the first seconds after connecting, in ms. */
const FAST_POLL_MS = 50;
const FAST_POLL_WINDOW_MS = 2000;
/** Poll period while audio levels are measured (`talking` follows its window closely). */
const LEVELS_POLL_MS = 100;
/** Quiet time after the last UDP candidate before an SDP goes out without ICE-TCP, in ms. */
const UDP_SETTLE_MS = 25;

/** Everything a worker peer needs from its worker. */
export interface WorkerPeerContext {
  config: WorkerConfig;
  filter: CandidateFilter;
  supported: { audio: ReadonlySet<string>; video: ReadonlySet<string> };
  /** The worker's forwards between its peers. */
  forwards: ForwardHub;
  /** The worker's audio mixers (a closing peer leaves its own). */
  mixers?: Pick<MixerHub<WorkerPeer>, "dropPeer">;
  /** Sinks for measuring received audio levels. */
  openAudioSink: OpenAudioSink;
  /** The worker's media totals (`/metrics`), that each peer's stats samples add to. */
  totals: MediaCounters;
  notify<K extends keyof WorkerEvents & string>(event: K, params: WorkerEvents[K]): void;
  /** Called once the peer is closed, whoever closed it. */
  onClosed(peer: WorkerPeer): void;
}

/** A PeerConnection and its bookkeeping. */
export class WorkerPeer implements ForwardPeer {
  readonly id: string;
  #pc: WrtcPeerConnection;
  #ctx: WorkerPeerContext;
  #queued: (IceCandidate | null)[] = [];
  #bitrateCap: number | undefined;
  #channels: DataChannels;
  #slots: SendSlots;
  /** Set while audio level reports are on. */
  #levels: AudioLevelMeter | undefined;
  #connected = false;
  #iceUp = false;
  #closed = false;
  #lastUdpCandidateAt: number | undefined;
  #connectedAt: number | undefined;
  #polling = false;
  #candidates: CandidateBook;
  #origin: SdpOrigin | undefined;
  #localSdp: string | undefined;
  #monitor: MediaMonitor;
  #counted: StatsTotals;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(id: string, pc: WrtcPeerConnection, ctx: WorkerPeerContext) {
    this.id = id;
    this.#pc = pc;
    this.#ctx = ctx;
    this.#slots = new SendSlots(pc);
    this.#candidates = new CandidateBook({ tcp: ctx.config.iceTcp });
    // The worker's config itself: the `settings` call changes it for live peers too.
    this.#monitor = new MediaMonitor(ctx.config);
    this.#counted = new StatsTotals(ctx.totals);
    pc.addEventListener("icecandidate", ({ candidate }) => this.#onLocalCandidate(candidate));
    pc.addEventListener("connectionstatechange", () => this.#checkState());
    pc.addEventListener("iceconnectionstatechange", () => this.#checkIce());
    this.#channels = new DataChannels((label, data) => {
      if (this.#closed) return;
      this.#ctx.notify("data", { peerId: this.id, label, data: toWire(data) });
    }, (label) => {
      const remote = pc.remoteDescription?.sdp;
      return !this.#closed && remote && hasDataLine(remote)
        ? pc.createDataChannel(label)
        : undefined;
    });
    pc.addEventListener("datachannel", ({ channel }) => this.#channels.add(channel));
    this.#timer = setTimeout(() => this.#poll(), POLL_MS);
  }

  /** Whether close() ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Applies an offer and returns our answer with the filtered candidates. */
  async acceptOffer(sdp: string, options: AnswerOptions): Promise<string> {
    const supported = this.#ctx.supported;
    const usable = rejectUnsupportedMedia(sdp, supported);
    const { rejected } = usable;
    if (rejected.length > 0) log.verbose(`[${this.id}] rejected m-lines ${rejected.join(",")}`);
    const offer = options.codecs
      ? keepSingleCodec(usable.sdp, supported, options.codecs).sdp
      : usable.sdp;
    await this.#pc.setRemoteDescription({ type: "offer", sdp: offer });
    // Answer sendrecv wherever the offer lets us (the answer is the intersection), so that
    // echo (a forward to ourselves) can be switched on later with replaceTrack, no renegotiation.
    for (const t of this.#mediaTransceivers()) t.direction = "sendrecv";
    const answer = await this.#pc.createAnswer();
    await this.#pc.setLocalDescription(answer);
    await this.#flushCandidates();
    const cap = options.bitrateCap ?? this.#bitrateCap;
    // The answer takes the offer's o= session id and version, then counts up (the reference).
    const offered = sessionOrigin(sdp);
    const origin = this.#origin ? { ...this.#origin, version: this.#origin.version + 1 } : offered;
    if (origin) this.#origin = origin;
    return await this.#finalLocalSdp(cap, origin, answerEdits(options));
  }

  /** Makes an offer of our own (sendonly tracks added by forwarding, optional data channel). */
  async createOffer(options: OfferOptions): Promise<string> {
    if (options.mirror !== undefined) {
      throw new Error(
        "An offer mirroring another peer's SDP (VideoCall) needs the rtp media engine: " +
          "wrtc decodes and cannot relay packets unchanged",
      );
    }
    if (options.data && this.#channels.size === 0) {
      this.#channels.add(this.#pc.createDataChannel("JanusDataChannel"));
    }
    const offer = await this.#pc.createOffer(options.iceRestart ? { iceRestart: true } : {});
    await this.#pc.setLocalDescription({ type: "offer", sdp: this.#slots.prepareOffer(offer.sdp) });
    this.#slots.settle();
    const { codecs, inactive } = options;
    return await this.#finalLocalSdp(this.#bitrateCap, undefined, {
      ...(codecs !== undefined ? { codecs } : {}),
      ...(inactive !== undefined ? { inactive } : {}),
    });
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

  /**
   * The cap written as `b=AS` into our later answers (what the client sends us), and applied to
   * the live call, where it lowers what we send too (an echo's encoder). 0: no cap from now on
   * (a live call keeps the last one).
   */
  async setBitrateCap(bitsPerSecond: number): Promise<void> {
    const recap = bitsPerSecond !== (this.#bitrateCap ?? 0);
    this.#bitrateCap = bitsPerSecond > 0 ? bitsPerSecond : undefined;
    if (recap && bitsPerSecond > 0) await this.#capSending(bitsPerSecond);
  }

  /** The track received on `mid` (forwarding source). */
  receivedTrack(mid: string): WrtcTrack {
    const t = this.#mediaTransceivers().find((t) => t.mid === mid);
    if (!t) throw new Error(`No m-line ${mid} to forward`);
    return t.receiver.track;
  }

  /** Our live m-line `mid`, negotiated or reserved (forwarding target). */
  sendSlot(mid: string): SendSlot | undefined {
    const transceiver = this.#slots.byMid(mid);
    return transceiver ? { transceiver, mid } : undefined;
  }

  /** A free sendable m-line of `kind`, or a new `sendonly` one with a reserved mid. */
  freeSendSlot(kind: "audio" | "video", busy: (t: WrtcTransceiver) => boolean): SendSlot {
    const free = this.#slots.transceivers().find((t) =>
      t.receiver.track.kind === kind && t.sender.track === null && !busy(t) &&
      (t.direction === "sendonly" || t.direction === "sendrecv")
    );
    const mid = free ? this.#slots.midOf(free) : undefined;
    if (free && mid !== undefined) return { transceiver: free, mid };
    return this.#slots.add(kind);
  }

  /** Turns audio level reports on or off. */
  setAudioLevels(enabled: boolean): void {
    if (enabled) {
      this.#levels ??= new AudioLevelMeter(this.#ctx.openAudioSink);
      this.#watchAudio();
    } else {
      this.#levels?.stop();
      this.#levels = undefined;
    }
  }

  /** Sends on the named channel, or on the first open one. */
  sendData(label: string | undefined, data: string | Uint8Array): void {
    this.#channels.send(label, data);
  }

  /** Per-m-line stats in the shape of Janus's media `stats` event. */
  async streamStats(): Promise<StreamStats[]> {
    return streamStats(await this.#stats(), this.#localSdp);
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
      localCandidates: this.#candidates.local,
      remoteCandidates: this.#candidates.remote,
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
    // What went since the last poll still counts.
    this.#counted.update(await this.#sample());
    this.#levels?.stop();
    this.#levels = undefined;
    await this.#ctx.forwards.dropPeer(this);
    await this.#ctx.mixers?.dropPeer(this);
    const transceivers = this.#pc.getTransceivers();
    for (const t of transceivers) {
      if (t.sender.track !== null) await t.sender.replaceTrack(null).catch(() => {});
    }
    this.#channels.close();
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

  /** Keeps the level meter's sinks on the audio we receive now. */
  #watchAudio(): void {
    if (!this.#levels) return;
    this.#levels.watch(
      this.#mediaTransceivers().filter((t) =>
        t.receiver.track.kind === "audio" &&
        (t.currentDirection === "recvonly" || t.currentDirection === "sendrecv")
      ).map((t) => ({ mid: t.mid ?? "", track: t.receiver.track })),
    );
  }

  #mediaTransceivers(): WrtcTransceiver[] {
    return this.#pc.getTransceivers().filter((t) =>
      t.mid !== null && t.direction !== "stopped" && t.stopped !== true
    );
  }

  /**
   * Caps what we send on a live call. sender.setParameters throws in wrtc 0.10, so the
   * client's last offer is applied again locally with `b=AS` (a remote limit caps our
   * sender), and answered locally: ICE and DTLS stay as they are and the client sees nothing.
   */
  async #capSending(bitsPerSecond: number): Promise<void> {
    const remote = this.#pc.remoteDescription;
    if (!remote || remote.type !== "offer" || this.#pc.signalingState !== "stable") return;
    const offer = bumpSessionVersion(applyBitrateCap(remote.sdp, bitsPerSecond));
    try {
      await this.#pc.setRemoteDescription({ type: "offer", sdp: offer });
      for (const t of this.#mediaTransceivers()) t.direction = "sendrecv";
      await this.#pc.setLocalDescription(await this.#pc.createAnswer());
    } catch (e) {
      log.warn(`[${this.id}] could not cap the bitrate on the live call: ${String(e)}`);
    }
  }

  /**
   * The SDP we send: wrtc's local description with our candidates, cap and shape, edited as the
   * plugin asked (wrtc keeps its own description: it stays able to send on every line).
   */
  async #finalLocalSdp(
    bitrateCap: number | undefined,
    origin?: SdpOrigin,
    edits: LocalSdpEdits = {},
  ): Promise<string> {
    await this.#gathered();
    const local: SessionDescription | null = this.#pc.localDescription;
    if (!local) throw new Error("No local description");
    const { sdp, candidates } = finalizeCandidates(local.sdp, this.#ctx.filter);
    for (const c of candidates) this.#candidates.noteLocal(c);
    const capped = bitrateCap !== undefined && bitrateCap > 0
      ? applyBitrateCap(sdp, bitrateCap)
      : sdp;
    this.#localSdp = shapeLocalSdp(conformSdp(capped, origin ? { origin } : {}), edits);
    return this.#localSdp;
  }

  /**
   * Waits for ICE gathering to complete, bounded by the configured timeout. Without ICE-TCP
   * it stops once the UDP candidates have settled: libwebrtc starts its TCP phase ~100 ms
   * after the UDP one, and those candidates would be dropped anyway (measured: UDP host
   * candidates at ~5 ms, TCP at ~105 ms, gathering complete right after).
   */
  async #gathered(): Promise<void> {
    // Every m-line rejected: there is no transport to gather for.
    if (!/^m=\S+ [1-9]/m.test(this.#pc.localDescription?.sdp ?? "m=x 9")) return;
    const deadline = Date.now() + this.#ctx.config.gatherTimeoutMs;
    const udpSettled = () =>
      !this.#ctx.config.iceTcp && this.#lastUdpCandidateAt !== undefined &&
      Date.now() - this.#lastUdpCandidateAt >= UDP_SETTLE_MS;
    while (
      this.#pc.iceGatheringState !== "complete" && Date.now() < deadline && !this.#closed &&
      !udpSettled()
    ) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (udpSettled()) return;
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
    const remote = this.#pc.remoteDescription?.sdp ?? "";
    if (!this.#candidates.acceptRemote(value, init, remote)) return;
    await this.#pc.addIceCandidate(init).catch((e: unknown) =>
      log.debug(`[${this.id}] candidate refused: ${String(e)}`)
    );
  }

  #onLocalCandidate(candidate: IceCandidate | null): void {
    if (this.#closed) return;
    if (candidate && / udp /i.test(candidate.candidate)) this.#lastUdpCandidateAt = Date.now();
    if (candidate === null) {
      this.#ctx.notify("localCandidate", { peerId: this.id, candidate: null });
      return;
    }
    const value = this.#ctx.filter(candidate.candidate);
    if (value === undefined) return;
    this.#candidates.noteLocal(value);
    this.#ctx.notify("localCandidate", {
      peerId: this.id,
      candidate: {
        candidate: value,
        sdpMid: candidate.sdpMid ?? null,
        sdpMLineIndex: candidate.sdpMLineIndex ?? null,
      },
    });
  }

  #dtlsState(): string | undefined {
    for (const t of this.#pc.getTransceivers()) {
      if (t.sender.transport) return t.sender.transport.state;
    }
    return undefined;
  }

  /** ICE checks succeeded: the DTLS handshake starts (told once, before `connected`). */
  #checkIce(): void {
    const ice = this.#pc.iceConnectionState;
    if (this.#iceUp || this.#connected || this.#closed) return;
    if (ice !== "connected" && ice !== "completed") return;
    this.#iceUp = true;
    this.#ctx.notify("iceConnected", { peerId: this.id });
  }

  /** Connected once; remote close and failures end the peer with a Janus reason. */
  #checkState(): void {
    if (this.#closed) return;
    // ICE's own event may come after the connection's: tell it first all the same.
    this.#checkIce();
    const state = this.#pc.connectionState;
    const dtls = this.#dtlsState();
    if (state === "connected" && dtls !== "closed" && !this.#connected) {
      this.#connected = true;
      this.#connectedAt = Date.now();
      this.#ctx.notify("connected", { peerId: this.id });
      if (!this.#polling) {
        // One loop only: a poll in progress schedules its own next run.
        clearTimeout(this.#timer);
        this.#timer = setTimeout(() => this.#poll(), FAST_POLL_MS);
      }
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
    return this.#closed ? [] : await this.#sample();
  }

  async #sample(): Promise<Stat[]> {
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
    this.#polling = true;
    try {
      await this.#pollOnce();
    } finally {
      this.#polling = false;
    }
    if (!this.#closed) this.#timer = setTimeout(() => this.#poll(), this.#pollDelay());
  }

  async #pollOnce(): Promise<void> {
    this.#checkState();
    const stats = await this.#stats();
    if (stats.length > 0 && !this.#closed) {
      this.#counted.update(stats);
      this.#emitMonitor(this.#monitor.update(stats, Date.now()));
      this.#watchAudio();
      for (const report of this.#levels?.update(stats) ?? []) {
        this.#ctx.notify("audioLevel", { peerId: this.id, report });
      }
    }
  }

  /** Fast polls right after connecting, so the first `media` events follow `webrtcup` closely. */
  #pollDelay(): number {
    const since = this.#connectedAt === undefined ? Infinity : Date.now() - this.#connectedAt;
    if (since < FAST_POLL_WINDOW_MS) return FAST_POLL_MS;
    // Talk detection decides per window of packets, as soon as one is complete.
    return this.#levels ? LEVELS_POLL_MS : POLL_MS;
  }
}
