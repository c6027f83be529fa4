/**
 * One PeerConnection of the RTP engine (node-datachannel): answers a client's offer with our
 * tracks added first (so the answer carries our SSRCs, one codec and its RTX), trickles and
 * filters candidates as the wrtc worker does, echoes media (`EchoMedia`) and data channels,
 * reports `connected`, `media`, `slowLink`, `data` and `closed` through the worker's RPC.
 *
 * libdatachannel rules (design.md): every wrapper is held in the worker's registry until its
 * onClosed (a collected one crashes Deno); tracks close before their PeerConnection; ICE
 * restart is not supported (a clear error).
 *
 * @module
 */
import { Audio, type DataChannel, PeerConnection, type RtcConfig, Video } from "node-datachannel";
import { createLogger } from "../../log.ts";
import { CandidateBook } from "../candidates.ts";
import type { CandidateFilter } from "../ice_filter.ts";
import { toWire, type WorkerConfig, type WorkerEvents } from "../protocol.ts";
import {
  applyBitrateCap,
  conformSdp,
  finalizeCandidates,
  keepSingleCodec,
  mediaKind,
  mediaPort,
  rejectUnsupportedMedia,
  type SdpOrigin,
  sectionMids,
  sessionOrigin,
  splitSdp,
} from "../sdp.ts";
import { MediaMonitor } from "../stats.ts";
import type { AnswerOptions, IceCandidate, PeerCloseReason, PeerInfo } from "../types.ts";
import { EchoMedia, randomSsrc } from "./echo_media.ts";
import { readOfferMedia } from "./offer_media.ts";

const log = createLogger("rtp-worker");

/** Codecs this engine answers (it forwards without decoding; VP8 keyframes are recognised). */
export const RTP_SUPPORTED = {
  audio: new Set(["opus"]) as ReadonlySet<string>,
  video: new Set(["vp8"]) as ReadonlySet<string>,
};

/** Fast polls right after connecting, so `media` follows `webrtcup` closely. */
const FAST_POLL_MS = 50;
const FAST_POLL_WINDOW_MS = 2000;
const POLL_MS = 500;
/** RR, REMB and NACK retries go out this often. */
const REPORT_MS = 500;

/** What a peer needs from its worker. */
export interface RtpPeerContext {
  config: WorkerConfig;
  filter: CandidateFilter;
  /** Address ICE binds to (loopback needs it), undefined = every interface. */
  bindAddress: string | undefined;
  /** Holds a wrapper until it is closed (see the module comment). */
  hold(wrapper: object): void;
  release(wrapper: object): void;
  notify<K extends keyof WorkerEvents & string>(event: K, params: WorkerEvents[K]): void;
  /** Called once the peer is closed, whoever closed it. */
  onClosed(peer: RtpPeer): void;
}

/** `candidate:...` with a lower-case transport, as browsers and the reference write it. */
function normalCandidate(line: string): string {
  const parts = line.replace(/^a=/, "").split(" ");
  if (parts[2] !== undefined) parts[2] = parts[2].toLowerCase();
  return parts.join(" ");
}

function iceUfrag(sdp: string): string | undefined {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
}

/** An echo PeerConnection on the RTP engine. */
export class RtpPeer {
  readonly id: string;
  #ctx: RtpPeerContext;
  #pc: PeerConnection | undefined;
  #media = new EchoMedia();
  #channels = new Map<string, DataChannel>();
  #queued: (IceCandidate | null)[] = [];
  #candidates: CandidateBook;
  #monitor: MediaMonitor;
  #echo = { audio: true, video: true };
  #bitrateCap: number | undefined;
  #origin: SdpOrigin | undefined;
  #localSdp: string | undefined;
  #remoteSdp: string | undefined;
  #connected = false;
  #connectedAt: number | undefined;
  #closed = false;
  #gatheringDone = false;
  #gathered = Promise.withResolvers<void>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastReport = 0;

  constructor(id: string, ctx: RtpPeerContext) {
    this.id = id;
    this.#ctx = ctx;
    this.#candidates = new CandidateBook({ tcp: ctx.config.iceTcp });
    // The worker's config itself: the `settings` call changes it for live peers too.
    this.#monitor = new MediaMonitor(ctx.config);
  }

  /** Applies an offer and returns our answer (candidates included, filtered). */
  async acceptOffer(sdp: string, options: AnswerOptions): Promise<string> {
    if (this.#closed) throw new Error("Peer closed");
    if (this.#pc) return this.#renegotiate(sdp, options);
    const usable = rejectUnsupportedMedia(sdp, RTP_SUPPORTED);
    const narrowed = keepSingleCodec(usable.sdp, RTP_SUPPORTED, options.singleCodec ?? {});
    const pc = this.#createPc();
    // Tracks go in before the remote description so the answer carries our SSRCs and codecs.
    const sections = splitSdp(narrowed.sdp).media.filter((s) => {
      const kind = mediaKind(s);
      return kind === "audio" || kind === "video";
    });
    const offered = readOfferMedia(narrowed.sdp, {
      audio: options.singleCodec?.audio ?? "opus",
      video: options.singleCodec?.video ?? "VP8",
    });
    for (const [i, media] of offered.entries()) {
      const section = sections[i];
      if (!section || mediaPort(section) === 0 || media.payloadType === 0) continue;
      const outSsrc = randomSsrc();
      const codec = (options.singleCodec?.[media.kind] ?? "").toUpperCase();
      const description = media.kind === "video"
        ? new Video(media.mid, "SendRecv")
        : new Audio(media.mid, "SendRecv");
      if (description instanceof Video) {
        description.addVideoCodec(media.payloadType, codec || "VP8");
        // Without RTX the peer's NACK resends are identical SRTP packets dropped as replays.
        if (media.rtxPayloadType > 0) {
          description.addRTXCodec(media.rtxPayloadType, media.payloadType, media.clockRate);
        }
      } else {
        description.addOpusCodec(media.payloadType);
      }
      description.addSSRC(outSsrc, "janus", "janus", `janus${media.kind}`);
      const track = pc.addTrack(description);
      this.#ctx.hold(track);
      track.onClosed(() => this.#ctx.release(track));
      this.#media.add(media, track, outSsrc, codec === "" || codec === "VP8");
    }
    this.#media.setEcho(this.#echo);
    this.#remoteSdp = sdp;
    pc.setRemoteDescription(narrowed.sdp, "offer");
    this.#flushCandidates();
    const cap = options.bitrateCap ?? this.#bitrateCap;
    if (options.bitrateCap !== undefined) this.#bitrateCap = options.bitrateCap;
    this.#media.setBitrateCap(cap);
    this.#origin = sessionOrigin(sdp);
    return await this.#finalLocalSdp(cap);
  }

  /** Adds a remote candidate, queued until the remote description is set. */
  addRemoteCandidate(candidate: IceCandidate | null): void {
    if (!this.#pc || this.#remoteSdp === undefined) {
      this.#queued.push(candidate);
      return;
    }
    this.#addCandidate(candidate);
  }

  /** Echo per kind and the cap we announce with REMB (and `b=AS` in later answers). */
  setEcho(options: { audio: boolean; video: boolean; bitrateCap?: number }): void {
    this.#echo = { audio: options.audio, video: options.video };
    this.#media.setEcho(this.#echo);
    if (options.bitrateCap !== undefined) {
      this.#bitrateCap = options.bitrateCap;
      this.#media.setBitrateCap(options.bitrateCap);
    }
  }

  /** Sends on the named channel, or on the first open one. */
  sendData(label: string | undefined, data: string | Uint8Array): void {
    const channel = label !== undefined
      ? this.#channels.get(label)
      : [...this.#channels.values()].find((c) => c.isOpen());
    if (!channel || !channel.isOpen()) {
      throw new Error(`No open data channel${label !== undefined ? ` "${label}"` : ""}`);
    }
    if (typeof data === "string") channel.sendMessage(data);
    else channel.sendMessageBinary(data);
  }

  /** A snapshot for admin handle_info. */
  info(): PeerInfo {
    const pc = this.#pc;
    const state = pc && !this.#closed ? pc.state() : this.#closed ? "closed" : "new";
    const pair = pc && !this.#closed ? pc.getSelectedCandidatePair() : null;
    this.#sample();
    return {
      iceState: pc && !this.#closed ? pc.iceState() : state,
      dtlsState: this.#connected && state === "connected" ? "connected" : dtlsOf(state),
      connectionState: state,
      ...(pair
        ? {
          selectedPair: `${pair.local.address}:${pair.local.port} [${pair.local.type},` +
            `${pair.local.transportType.toLowerCase()}] <-> ${pair.remote.address}:` +
            `${pair.remote.port} [${pair.remote.type},${pair.remote.transportType.toLowerCase()}]`,
        }
        : {}),
      localCandidates: this.#candidates.local,
      remoteCandidates: this.#candidates.remote,
      ...(this.#localSdp !== undefined ? { localSdp: this.#localSdp } : {}),
      ...(this.#remoteSdp !== undefined ? { remoteSdp: this.#remoteSdp } : {}),
      stats: { mids: this.#monitor.summary },
    };
  }

  /** Closes tracks, channels, then the PeerConnection; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#media.close();
    for (const track of this.#media.tracks()) track.close();
    for (const channel of this.#channels.values()) channel.close();
    this.#pc?.close();
    this.#gathered.resolve();
    this.#ctx.onClosed(this);
  }

  #createPc(): PeerConnection {
    const { config, bindAddress } = this.#ctx;
    const rtc: RtcConfig = {
      iceServers: [],
      ...(bindAddress !== undefined ? { bindAddress } : {}),
      ...(config.rtpPortRange
        ? { portRangeBegin: config.rtpPortRange.min, portRangeEnd: config.rtpPortRange.max }
        : {}),
      // libjuice (the prebuilt ICE agent) gathers no TCP candidates: iceTcp is active-only.
      ...(config.iceTcp ? { enableIceTcp: true } : {}),
    };
    const pc = new PeerConnection(this.id, rtc);
    this.#pc = pc;
    this.#ctx.hold(pc);
    pc.onStateChange((state) => {
      if (state === "closed") this.#ctx.release(pc);
      this.#onState(state);
    });
    pc.onLocalCandidate((candidate) => this.#onLocalCandidate(candidate));
    pc.onGatheringStateChange((state) => {
      if (state !== "complete" || this.#gatheringDone) return;
      this.#gatheringDone = true;
      this.#gathered.resolve();
      if (!this.#closed) this.#ctx.notify("localCandidate", { peerId: this.id, candidate: null });
    });
    pc.onDataChannel((channel) => this.#addChannel(channel));
    return pc;
  }

  #addChannel(channel: DataChannel): void {
    const label = channel.getLabel();
    this.#ctx.hold(channel);
    this.#channels.set(label, channel);
    channel.onMessage((message) => {
      if (this.#closed) return;
      const data = typeof message === "string" ? message : new Uint8Array(
        message instanceof ArrayBuffer ? message : message.buffer.slice(
          message.byteOffset,
          message.byteOffset + message.byteLength,
        ) as ArrayBuffer,
      );
      this.#ctx.notify("data", { peerId: this.id, label, data: toWire(data) });
    });
    channel.onClosed(() => {
      if (this.#channels.get(label) === channel) this.#channels.delete(label);
      this.#ctx.release(channel);
    });
  }

  /**
   * A second offer: the same ICE credentials are applied again (libdatachannel answers it);
   * an ICE restart is refused, libdatachannel cannot restart ICE.
   */
  async #renegotiate(sdp: string, options: AnswerOptions): Promise<string> {
    const pc = this.#pc!;
    if (iceUfrag(sdp) !== iceUfrag(this.#remoteSdp ?? "")) {
      throw new Error("ICE restart is not supported by the rtp media engine");
    }
    const usable = rejectUnsupportedMedia(sdp, RTP_SUPPORTED);
    const narrowed = keepSingleCodec(usable.sdp, RTP_SUPPORTED, options.singleCodec ?? {});
    this.#remoteSdp = sdp;
    pc.setRemoteDescription(narrowed.sdp, "offer");
    if (options.bitrateCap !== undefined) {
      this.#bitrateCap = options.bitrateCap;
      this.#media.setBitrateCap(options.bitrateCap);
    }
    if (this.#origin) this.#origin = { ...this.#origin, version: this.#origin.version + 1 };
    return await this.#finalLocalSdp(this.#bitrateCap);
  }

  /** The SDP we send: libdatachannel's answer with our candidates, cap and shape. */
  async #finalLocalSdp(bitrateCap: number | undefined): Promise<string> {
    const timeout = setTimeout(() => this.#gathered.resolve(), this.#ctx.config.gatherTimeoutMs);
    await this.#gathered.promise;
    clearTimeout(timeout);
    if (this.#closed) throw new Error("Peer closed");
    const local = this.#pc?.localDescription();
    if (!local) throw new Error("No local description");
    const withLower = local.sdp.split("\r\n").map((l) =>
      l.startsWith("a=candidate:") ? `a=${normalCandidate(l)}` : l
    ).join("\r\n");
    const { sdp, candidates } = finalizeCandidates(withLower, this.#ctx.filter);
    for (const c of candidates) this.#candidates.noteLocal(c);
    const capped = bitrateCap !== undefined && bitrateCap > 0
      ? applyBitrateCap(sdp, bitrateCap)
      : sdp;
    this.#localSdp = conformSdp(capped, this.#origin ? { origin: this.#origin } : {});
    return this.#localSdp;
  }

  #flushCandidates(): void {
    const queued = this.#queued;
    this.#queued = [];
    for (const c of queued) this.#addCandidate(c);
  }

  #addCandidate(candidate: IceCandidate | null): void {
    const pc = this.#pc;
    if (!pc || this.#closed || candidate === null || candidate.candidate === "") return;
    const value = candidate.candidate.replace(/^a=/, "");
    const remote = this.#remoteSdp ?? "";
    const mid = candidate.sdpMid ?? sectionMids(remote)[candidate.sdpMLineIndex ?? 0] ?? "0";
    const place = { sdpMid: mid, sdpMLineIndex: candidate.sdpMLineIndex ?? null };
    if (!this.#candidates.acceptRemote(value, place, remote)) return;
    try {
      pc.addRemoteCandidate(value, mid);
    } catch (e) {
      log.debug(`[${this.id}] candidate refused: ${String(e)}`);
    }
  }

  #onLocalCandidate(line: string): void {
    if (this.#closed) return;
    const value = this.#ctx.filter(normalCandidate(line));
    if (value === undefined) return;
    this.#candidates.noteLocal(value);
    const mids = sectionMids(this.#remoteSdp ?? "");
    this.#ctx.notify("localCandidate", {
      peerId: this.id,
      candidate: { candidate: value, sdpMid: mids[0] ?? "0", sdpMLineIndex: 0 },
    });
  }

  /** libdatachannel's connection state: connected once; failures end the peer. */
  #onState(state: string): void {
    if (this.#closed) return;
    if (state === "connected" && !this.#connected) {
      this.#connected = true;
      this.#connectedAt = Date.now();
      this.#ctx.notify("connected", { peerId: this.id });
      this.#schedule(FAST_POLL_MS);
      return;
    }
    let reason: PeerCloseReason | undefined;
    if (state === "failed" || state === "closed") {
      const ice = this.#pc?.iceState();
      if (this.#connected) reason = "DTLS alert";
      else if (ice === "connected" || ice === "completed") reason = "DTLS error";
      else reason = "ICE failed";
    }
    if (!reason) return;
    log.verbose(`[${this.id}] closed: ${reason}`);
    this.#ctx.notify("closed", { peerId: this.id, reason });
    // Not from inside libdatachannel's callback: close on the next turn.
    setTimeout(() => this.close(), 0);
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    if (!this.#closed) this.#timer = setTimeout(() => this.#tick(), ms);
  }

  #tick(): void {
    if (this.#closed) return;
    const now = performance.now();
    if (now - this.#lastReport >= REPORT_MS) {
      this.#lastReport = now;
      this.#media.report(now);
    }
    this.#sample();
    const since = this.#connectedAt === undefined ? Infinity : Date.now() - this.#connectedAt;
    this.#schedule(since < FAST_POLL_WINDOW_MS ? FAST_POLL_MS : POLL_MS);
  }

  #sample(): void {
    if (this.#closed) return;
    const out = this.#monitor.update(this.#media.stats(), Date.now());
    for (const change of out.media) this.#ctx.notify("media", { peerId: this.id, change });
    for (const report of out.slowLinks) this.#ctx.notify("slowLink", { peerId: this.id, report });
  }
}

function dtlsOf(state: string): string {
  if (state === "failed") return "failed";
  if (state === "closed") return "closed";
  if (state === "connecting") return "connecting";
  return "new";
}
