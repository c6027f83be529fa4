/**
 * One PeerConnection of the RTP engine (node-datachannel): answers a client's offer with our
 * tracks added first (so the answer carries our SSRCs, one codec and its RTX), trickles and
 * filters candidates as the wrtc worker does, forwards what it receives to other peers' lines
 * and back to itself (echo, `EchoMedia`), carries data channels, and reports `connected`,
 * `media`, `slowLink`, `data` and `closed` through the worker's RPC.
 *
 * libdatachannel rules (design.md): every wrapper is held in the worker's registry until its
 * onClosed (a collected one crashes Deno); tracks close before their PeerConnection; ICE
 * restart is not supported (a clear error).
 *
 * @module
 */
import {
  Audio,
  type DataChannel,
  PeerConnection,
  type RtcConfig,
  type Track,
  Video,
} from "node-datachannel";
import { createLogger } from "../../log.ts";
import { candidatePorts, type EarlyPacketGate, shutEarlyPackets } from "./early_packet_gate.ts";
import { CandidateBook } from "../candidates.ts";
import type { CandidateFilter } from "../ice_filter.ts";
import { toWire, type WorkerConfig, type WorkerEvents } from "../protocol.ts";
import {
  answerEdits,
  applyBitrateCap,
  conformSdp,
  finalizeCandidates,
  hasDataLine,
  keepSingleCodec,
  type LocalSdpEdits,
  mediaKind,
  mediaPort,
  rejectUnsupportedMedia,
  type SdpOrigin,
  sectionMids,
  sessionOrigin,
  shapeLocalSdp,
  splitSdp,
} from "../sdp.ts";
import { MediaMonitor } from "../stats.ts";
import type {
  AnswerOptions,
  IceCandidate,
  OfferOptions,
  PeerCloseReason,
  PeerInfo,
  PlayoutOptions,
  PlayoutStream,
  RecordingOptions,
  RecordingUpdate,
  RtpForwardOptions,
  RtpForwardResult,
} from "../types.ts";
import type { Stat } from "../stats.ts";
import { type StreamStats, streamStats } from "../stream_stats.ts";
import { AUDIO_LEVEL_URI, audioLevelId } from "./audio_level_ext.ts";
import { EchoMedia, type PacketTap } from "./echo_media.ts";
import { MjrPlayer } from "./mjr_player.ts";
import { MjrRecorder } from "./mjr_recorder.ts";
import { RtpForwarder } from "./rtp_forwarder.ts";
import { KEYFRAME_CODECS } from "./keyframes.ts";
import { type OfferMedia, readOfferMedia } from "./offer_media.ts";
import { randomSsrc } from "./rtp_send.ts";
import { codecOf, type ForwardSource, type SendLine, SendLines } from "./send_lines.ts";

const log = createLogger("rtp-worker");
/** Whether the missing early packet gate was logged (once per worker). */
let gateMissingTold = false;

/**
 * Codecs this engine answers: it forwards without decoding, so video is any codec whose
 * keyframes it recognises (VP8, VP9, H.264, AV1); the audio mixer decodes and encodes Opus
 * and G.711. Multiopus (surround Opus, as the reference's `multiopus` demo offers it) is
 * echoed and forwarded as it comes.
 */
export const RTP_SUPPORTED = {
  audio: new Set(["opus", "pcmu", "pcma", "multiopus"]) as ReadonlySet<string>,
  video: KEYFRAME_CODECS,
};

/**
 * The reference's order of preference when a plugin names no codec for a kind
 * (janus_sdp_generate_answer): Opus before G.711 and VP8 first, whatever the offer's order.
 */
const REFERENCE_PREFERENCE = {
  audio: ["opus", "pcmu", "pcma", "g722", "multiopus"],
  video: ["vp8", "vp9", "h264", "av1", "h265"],
};

/** The plugin's codec lists, with the reference's preference for a kind it names none for. */
function answerCodecs(
  asked: { audio?: string[]; video?: string[] } = {},
): { audio: readonly string[]; video: readonly string[] } {
  return {
    audio: asked.audio ?? REFERENCE_PREFERENCE.audio,
    video: asked.video ?? REFERENCE_PREFERENCE.video,
  };
}

/** H.264's parameters when a source names none (what libdatachannel offers by default). */
const H264_DEFAULT_FMTP = "profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1";

/**
 * Adds `codec` (an `RTP_SUPPORTED` video codec) on `payloadType` to a video description, with
 * the fmtp it was offered with (H.264's profile and packetization mode, VP9's profile).
 */
function addVideoCodec(
  description: Video,
  codec: string,
  payloadType: number,
  offered?: { fmtp: string },
): void {
  const fmtp = offered?.fmtp || (codec === "h264" ? H264_DEFAULT_FMTP : "");
  // The binding refuses an explicit undefined profile: no fmtp, no argument.
  if (fmtp) description.addVideoCodec(payloadType, codec.toUpperCase(), fmtp);
  else description.addVideoCodec(payloadType, codec.toUpperCase());
}

/**
 * Adds `codec` (an `RTP_SUPPORTED` audio codec) on `payloadType` to an audio description;
 * multiopus takes the channels and fmtp it was offered with (its channel mapping).
 */
function addAudioCodec(
  description: Audio,
  codec: string,
  payloadType: number,
  offered?: { channels: number; fmtp: string },
): void {
  if (codec === "pcmu" || codec === "pcma") {
    description.addAudioCodec(payloadType, `${codec.toUpperCase()}/8000`);
  } else if (codec === "multiopus") {
    const channels = offered?.channels || 6;
    const fmtp = offered?.fmtp;
    const name = `multiopus/48000/${channels}`;
    // As for video: the binding takes no explicit undefined profile.
    if (fmtp) description.addAudioCodec(payloadType, name, fmtp);
    else description.addAudioCodec(payloadType, name);
  } else description.addOpusCodec(payloadType);
}

/**
 * `line` (the target's m-line `mid`) when `source` can feed it: same kind and codec (packets
 * are forwarded as they come, so a line offered VP8 cannot carry H.264).
 */
function fitLine(line: SendLine | undefined, mid: string, source: ForwardSource): SendLine {
  if (!line) throw new Error(`No m-line ${mid} on the target`);
  if (line.kind !== source.kind) {
    throw new Error(`m-line ${mid} of the target is not ${source.kind}`);
  }
  const codec = codecOf(source);
  if (line.codec !== codec) {
    throw new Error(`m-line ${mid} of the target is ${line.codec}, not ${codec}`);
  }
  return line;
}

/** Fast polls right after connecting, so `media` follows `webrtcup` closely. */
const FAST_POLL_MS = 50;
const FAST_POLL_WINDOW_MS = 2000;
const POLL_MS = 500;
/** Poll period while audio levels are read (`talking` follows its window closely). */
const LEVELS_POLL_MS = 100;
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

/** A PeerConnection on the RTP engine. */
export class RtpPeer {
  readonly id: string;
  #ctx: RtpPeerContext;
  #pc: PeerConnection | undefined;
  #media = new EchoMedia();
  /** Our m-lines other peers forward to (subscriber offers). */
  #lines = new SendLines();
  #channels = new Map<string, DataChannel>();
  #queued: (IceCandidate | null)[] = [];
  #candidates: CandidateBook;
  #monitor: MediaMonitor;
  #bitrateCap: number | undefined;
  #origin: SdpOrigin | undefined;
  #localSdp: string | undefined;
  #remoteSdp: string | undefined;
  /** Our DTLS role as an answer to our offer set it (the opposite of the remote side's). */
  #offeredRole: "active" | "passive" | undefined;
  /** Our first offer's socket filter, dropping the peer's packets until its answer is stored. */
  #gate: EarlyPacketGate | undefined;
  #connected = false;
  /** ICE reached connected: a failure after it is DTLS's, whatever iceState() says by then. */
  #iceUp = false;
  #connectedAt: number | undefined;
  #closed = false;
  #gatheringDone = false;
  #gathered = Promise.withResolvers<void>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastReport = 0;
  #levels = false;
  /** Recordings by mid, and plain RTP forwarders by id (VideoRoom). */
  #recorders = new Map<string, MjrRecorder>();
  #forwarders = new Map<string, RtpForwarder>();
  /** A playout of recordings (Record&Play) into our sending lines. */
  #player: MjrPlayer | undefined;

  constructor(id: string, ctx: RtpPeerContext) {
    this.id = id;
    this.#ctx = ctx;
    this.#candidates = new CandidateBook({ tcp: ctx.config.iceTcp });
    // The worker's config itself: the `settings` call changes it for live peers too.
    this.#monitor = new MediaMonitor(ctx.config);
  }

  /** Closed (by us, the remote side or a failure). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Applies an offer and returns our answer (candidates included, filtered). */
  async acceptOffer(sdp: string, options: AnswerOptions): Promise<string> {
    if (this.#closed) throw new Error("Peer closed");
    if (this.#pc) return this.#renegotiate(sdp, options);
    const usable = rejectUnsupportedMedia(sdp, RTP_SUPPORTED);
    const narrowed = keepSingleCodec(usable.sdp, RTP_SUPPORTED, answerCodecs(options.codecs));
    const pc = this.#createPc();
    // Tracks go in before the remote description so the answer carries our SSRCs and codecs.
    const sections = audioVideoSections(narrowed.sdp);
    // One codec per kind was kept: it is the one answered.
    const offered = readOfferMedia(narrowed.sdp, RTP_SUPPORTED);
    for (const [i, media] of offered.entries()) {
      const section = sections[i];
      if (!section || mediaPort(section) === 0 || media.codec === "") continue;
      // The RFC 6464 level is read from each packet (VideoRoom's talking): answer its extmap.
      const levelId = media.kind === "audio" ? audioLevelId(section.join("\n")) : 0;
      const { track, ssrcs } = this.#addSendRecvTrack(pc, media, levelId);
      this.#media.add(media, track, ssrcs, levelId);
    }
    this.#remoteSdp = sdp;
    pc.setRemoteDescription(narrowed.sdp, "offer");
    this.#flushCandidates();
    if (options.bitrateCap !== undefined) this.#bitrateCap = options.bitrateCap;
    const cap = this.#bitrateCap;
    this.#media.setBitrateCap(cap);
    this.#origin = sessionOrigin(sdp);
    return await this.#finalLocalSdp(cap, answerEdits(options));
  }

  /**
   * Our own offer (a subscriber's): a `sendonly` m-line per forward target line, with its
   * source's codec and payload types, our SSRC (and RTX SSRC), and a data channel when asked.
   */
  async createOffer(options: OfferOptions): Promise<string> {
    if (this.#closed) throw new Error("Peer closed");
    if (options.iceRestart) throw new Error("ICE restart is not supported by the rtp media engine");
    const pc = this.#pc ?? this.#createPc(true);
    const mirrorData = options.mirror !== undefined && this.#mirror(pc, options.mirror);
    for (const line of this.#lines.list) if (!line.track) this.#addLineTrack(pc, line);
    if ((options.data || mirrorData) && this.#channels.size === 0) {
      // A data-only offer (TextRoom) gets its m=application line from a negotiated channel,
      // which sends no DCEP open: as with Janus (which opens none), the client sees only the
      // channel it opens itself; janus.js would otherwise announce "data open" twice.
      const init = options.data && !mirrorData ? { negotiated: true, id: 1 } : {};
      this.#addChannel(pc.createDataChannel("JanusDataChannel", init));
    }
    pc.setLocalDescription("offer");
    const local = pc.localDescription()?.sdp ?? "";
    this.#origin = this.#origin
      ? { ...this.#origin, version: this.#origin.version + 1 }
      : sessionOrigin(local);
    const { codecs, inactive } = options;
    const offer = await this.#finalLocalSdp(undefined, {
      ...(codecs !== undefined ? { codecs } : {}),
      ...(inactive !== undefined ? { inactive } : {}),
    });
    // Until the answer is stored, nothing the peer sends may reach the library (see the gate).
    if (this.#remoteSdp === undefined && !this.#gate) {
      const ports = candidatePorts(offer);
      this.#gate = shutEarlyPackets(ports);
      if (!this.#gate && ports.size > 0 && !gateMissingTold) {
        gateMissingTold = true;
        log.warn(
          "no early packet gate (no FFI or no Linux socket filter): an offer's peer may " +
            "end in 'DTLS error' when the worker is busy (early_packet_gate.ts)",
        );
      }
    }
    return offer;
  }

  /**
   * A sendrecv track of ours for an offered m-line: its mid, codec and payload types, our SSRC
   * (and an RTX SSRC in a FID group when RTX is negotiated: without RTX the peer's NACK resends
   * are identical SRTP packets dropped as replays), and the audio-level extmap when `levelId`.
   */
  #addSendRecvTrack(
    pc: PeerConnection,
    media: OfferMedia,
    levelId: number,
  ): { track: Track; ssrcs: { ssrc: number; rtxSsrc: number } } {
    const ssrcs = { ssrc: randomSsrc(), rtxSsrc: randomSsrc() };
    const rtx = media.kind === "video" && media.rtxPayloadType > 0;
    const description = media.kind === "video"
      ? new Video(media.mid, "SendRecv")
      : new Audio(media.mid, "SendRecv");
    if (description instanceof Video) {
      addVideoCodec(description, media.codec, media.payloadType, media);
      if (rtx) description.addRTXCodec(media.rtxPayloadType, media.payloadType, media.clockRate);
    } else {
      addAudioCodec(description, media.codec, media.payloadType, media);
    }
    if (levelId > 0) description.parseSdpLine(`a=extmap:${levelId} ${AUDIO_LEVEL_URI}`);
    const msid = `janus${media.kind}`;
    description.addSSRC(ssrcs.ssrc, "janus", "janus", msid);
    if (rtx) {
      description.addSSRC(ssrcs.rtxSsrc, "janus", "janus", msid);
      description.parseSdpLine(`a=ssrc-group:FID ${ssrcs.ssrc} ${ssrcs.rtxSsrc}`);
    }
    const track = pc.addTrack(description);
    this.#ctx.hold(track);
    track.onClosed(() => this.#ctx.release(track));
    return { track, ssrcs };
  }

  /**
   * The m-lines of `template` (an answer of ours to another peer) as sendrecv tracks of ours,
   * same mids, codec and payload types, each receiving (its sender's SSRCs come with the
   * answer) and sending through its echo line, which the other peer forwards into. Once only:
   * a later offer keeps them. Returns whether `template` has a data channel.
   */
  #mirror(pc: PeerConnection, template: string): boolean {
    if (this.#media.tracks().length > 0) return false;
    const sections = audioVideoSections(template);
    for (const [i, media] of readOfferMedia(template, RTP_SUPPORTED).entries()) {
      const section = sections[i];
      if (!section || mediaPort(section) === 0 || media.codec === "") continue;
      const { track, ssrcs } = this.#addSendRecvTrack(pc, media, 0);
      // No extensions offered, none received; the sender's SSRCs come with its answer.
      const received = { ...media, ssrc: 0, rtxSsrc: 0, extensions: new Map<number, string>() };
      this.#media.add(received, track, ssrcs);
    }
    return hasDataLine(template);
  }

  /** Applies the answer to our offer (a mirrored m-line learns its sender's SSRCs). */
  acceptAnswer(sdp: string): void {
    const pc = this.#pc;
    if (this.#closed || !pc) throw new Error("No offer to answer");
    try {
      pc.setRemoteDescription(sdp, "answer");
    } finally {
      this.#gate?.open();
      this.#gate = undefined;
    }
    this.#remoteSdp = sdp;
    const remoteRole = /^a=setup:(active|passive)/m.exec(sdp)?.[1];
    if (remoteRole) this.#offeredRole = remoteRole === "active" ? "passive" : "active";
    this.#media.updateSsrcs(readOfferMedia(sdp, RTP_SUPPORTED));
    this.#flushCandidates();
  }

  /**
   * Forwards the stream we receive on `fromMid` to a line of `target` (`toMid`, whose stream is
   * replaced; else a free line of the kind, else a new one). Returns the line's mid. To
   * ourselves it is echo, back onto `fromMid` only.
   */
  forward(
    target: RtpPeer,
    options: { fromMid: string; toMid?: string; active?: boolean },
  ): string {
    if (target.#closed || this.#closed) throw new Error("Peer closed");
    const source = this.#media.sourceOf(options.fromMid);
    if (!source) throw new Error(`No received m-line ${options.fromMid}`);
    let line: SendLine | undefined;
    if (target === this) {
      if (options.toMid !== undefined && options.toMid !== options.fromMid) {
        throw new Error("A peer forwards to itself only back onto the same m-line (echo)");
      }
      line = this.#media.echoLine(options.fromMid);
    } else if (options.toMid !== undefined) {
      line = fitLine(target.#lineAt(options.toMid), options.toMid, source);
    } else {
      line = target.#lines.free(source.kind, codecOf(source)) ??
        target.#lines.add(target.#newLineMid(), source);
    }
    if (!line) throw new Error(`No m-line ${options.fromMid} to echo on`);
    line.attach(source, options.active ?? true, performance.now());
    return line.mid;
  }

  /** Pauses or resumes what we forward to `toMid` of `target`. */
  setForwarding(target: RtpPeer, toMid: string, active: boolean): void {
    const line = this.#lineFedByUs(target, toMid);
    if (!line) throw new Error(`No forward from ${this.id} to m-line ${toMid} of ${target.id}`);
    line.setActive(active, performance.now());
  }

  /** Stops what we forward to `toMid` of `target`, if anything. */
  stopForward(target: RtpPeer, toMid: string): void {
    this.#lineFedByUs(target, toMid)?.detach();
  }

  /**
   * Feeds one of our sending lines from a stream that belongs to no peer (an RTP source):
   * `toMid`'s line (its stream replaced), else a free line of the kind, else a new one, named
   * `newMid` when that mid is unused here. Returns the line's mid.
   */
  attachSource(
    source: ForwardSource,
    options: { toMid?: string; newMid?: string; active?: boolean },
  ): string {
    if (this.#closed) throw new Error("Peer closed");
    let line: SendLine | undefined;
    if (options.toMid !== undefined) {
      line = fitLine(this.#lines.byMid(options.toMid), options.toMid, source);
    } else {
      const named = options.newMid !== undefined && !this.#lines.byMid(options.newMid);
      line = this.#lines.free(source.kind, codecOf(source)) ??
        this.#lines.add(named ? options.newMid! : String(this.#lines.list.length), source);
    }
    line.attach(source, options.active ?? true, performance.now());
    return line.mid;
  }

  /**
   * The stream received on `mid` and the line that sends back on its m-line, for a mixer
   * member (it taps the stream and sends its mix on the line); undefined when there is none.
   */
  mixLine(mid: string): { media: OfferMedia; line: SendLine } | undefined {
    if (this.#closed) return undefined;
    const media = this.#media.mediaOf(mid);
    const line = this.#media.echoLine(mid);
    return media && line ? { media, line } : undefined;
  }

  /** Sees every packet received on `mid` (RTX unwrapped); false when there is no such stream. */
  tap(mid: string, tap: PacketTap): boolean {
    return !this.#closed && this.#media.addTap(mid, tap);
  }

  untap(tap: PacketTap): void {
    this.#media.removeTap(tap);
  }

  /** Our sending line `mid` (added for forwards), if any. */
  sendLine(mid: string): SendLine | undefined {
    return this.#lines.byMid(mid);
  }

  /** Asks the sender of our received m-line `mid` for a keyframe (limited to one a second). */
  requestKeyframe(mid: string): void {
    const source = this.#media.sourceOf(mid);
    if (!source) throw new Error(`No received m-line ${mid}`);
    if (source.kind === "video") source.requestKeyframe(performance.now());
  }

  /** Turns `audioLevel` reports (RFC 6464, read from each packet) on or off. */
  setAudioLevels(enabled: boolean): void {
    this.#levels = enabled;
    this.#media.setAudioLevels(enabled);
  }

  /** Records the stream received on `mid` (replacing its recording); throws when it cannot. */
  startRecording(options: RecordingOptions): void {
    if (this.#closed) throw new Error("Peer closed");
    const source = this.#media.sourceOf(options.mid);
    if (!source) throw new Error(`No received m-line ${options.mid}`);
    this.stopRecording(options.mid);
    const recorder = new MjrRecorder(source, options, performance.now());
    this.#recorders.set(options.mid, recorder);
    this.#media.addTap(options.mid, recorder);
  }

  stopRecording(mid: string): void {
    const recorder = this.#recorders.get(mid);
    if (!recorder) return;
    this.#recorders.delete(mid);
    this.#media.removeTap(recorder);
    recorder.close();
  }

  updateRecording(update: RecordingUpdate): void {
    this.#recorders.get(update.mid)?.update(update, performance.now());
  }

  /** Sends the stream received on `options.mid` as RTP/SRTP to a UDP address. */
  async rtpForward(options: RtpForwardOptions): Promise<RtpForwardResult> {
    if (this.#closed) throw new Error("Peer closed");
    const source = this.#media.sourceOf(options.mid);
    if (!source) throw new Error(`No received m-line ${options.mid}`);
    if (this.#forwarders.has(options.id)) throw new Error(`Forwarder ${options.id} exists`);
    const forwarder = new RtpForwarder(source, options, performance.now());
    this.#forwarders.set(options.id, forwarder);
    this.#media.addTap(options.mid, forwarder);
    if (!options.rtcp) return {};
    try {
      return { localRtcpPort: await forwarder.bindRtcp(options.rtcp.remotePort) };
    } catch (e) {
      this.stopRtpForward(options.id);
      throw e;
    }
  }

  stopRtpForward(id: string): void {
    const forwarder = this.#forwarders.get(id);
    if (!forwarder) return;
    this.#forwarders.delete(id);
    this.#media.removeTap(forwarder);
    forwarder.close();
  }

  /** Plays recordings into new sending lines (offered by our next offer); throws when it cannot. */
  play(options: PlayoutOptions): PlayoutStream[] {
    if (this.#closed) throw new Error("Peer closed");
    if (this.#player) throw new Error("A playout is running");
    const player: MjrPlayer = new MjrPlayer(
      options.files,
      (mid, source) => this.sendLine(this.attachSource(source, { newMid: mid }))!,
      () => {
        if (this.#player === player) this.#player = undefined;
        if (!this.#closed) this.#ctx.notify("playoutEnded", { peerId: this.id });
      },
    );
    this.#player = player;
    return player.streams;
  }

  stopPlay(): void {
    this.#player?.close();
    this.#player = undefined;
  }

  #lineFedByUs(target: RtpPeer, toMid: string): SendLine | undefined {
    const line = target === this ? this.#media.echoLine(toMid) : target.#lineAt(toMid);
    return line?.source && this.#media.owns(line.source) ? line : undefined;
  }

  /**
   * Our sending line on `mid`: one added for forwards (subscriber offers), else the one of a
   * sendrecv m-line that also receives (an answered or mirrored one: a one-to-one relay).
   */
  #lineAt(mid: string): SendLine | undefined {
    return this.#lines.byMid(mid) ?? this.#media.echoLine(mid);
  }

  #addLineTrack(pc: PeerConnection, line: SendLine): void {
    const description = line.kind === "video"
      ? new Video(line.mid, "SendOnly")
      : new Audio(line.mid, "SendOnly");
    if (description instanceof Video) {
      addVideoCodec(description, line.codec, line.payloadType, line.format);
      if (line.rtxPayloadType > 0) {
        description.addRTXCodec(line.rtxPayloadType, line.payloadType, line.clockRate);
      }
    } else {
      addAudioCodec(description, line.codec, line.payloadType, line.format);
    }
    const msid = `janus${line.mid}`;
    description.addSSRC(line.ssrc, "janus", "janus", msid);
    if (line.rtxPayloadType > 0) {
      description.addSSRC(line.rtxSsrc, "janus", "janus", msid);
      description.parseSdpLine(`a=ssrc-group:FID ${line.ssrc} ${line.rtxSsrc}`);
    }
    const track = pc.addTrack(description);
    line.track = track;
    this.#ctx.hold(track);
    track.onClosed(() => this.#ctx.release(track));
    track.onMessage((message) => {
      if (!this.#closed) this.#lines.onPacket(message, performance.now());
    });
    track.onOpen(() => line.opened(performance.now()));
  }

  /** Adds a remote candidate, queued until the remote description is set. */
  addRemoteCandidate(candidate: IceCandidate | null): void {
    if (!this.#pc || this.#remoteSdp === undefined) {
      this.#queued.push(candidate);
      return;
    }
    this.#addCandidate(candidate);
  }

  /** The cap on what the client sends us: our REMB from now on (and `b=AS` in later answers). */
  setBitrateCap(bitsPerSecond: number): void {
    this.#bitrateCap = bitsPerSecond > 0 ? bitsPerSecond : undefined;
    this.#media.setBitrateCap(this.#bitrateCap);
  }

  /**
   * Sends on the channel `label`, opened first when there is none yet (as Janus's SCTP stack
   * does: VideoRoom relays each publisher's data on a channel named after it), or without a
   * label on the first open one.
   */
  sendData(label: string | undefined, data: string | Uint8Array): void {
    const channel = label !== undefined
      ? this.#channels.get(label) ?? this.#openChannel(label)
      : [...this.#channels.values()].find((c) => c.isOpen());
    if (!channel) {
      throw new Error(`No open data channel${label !== undefined ? ` "${label}"` : ""}`);
    }
    // A channel we just opened is not open until the peer acknowledges it, yet libdatachannel
    // sends on it at once, after its open request; on a closed one it throws.
    if (typeof data === "string") channel.sendMessage(data);
    else channel.sendMessageBinary(data);
  }

  /** A channel of ours named `label`, when the remote description took our data m-line. */
  #openChannel(label: string): DataChannel | undefined {
    const pc = this.#pc;
    if (!pc || this.#closed || this.#remoteSdp === undefined) return undefined;
    if (!hasDataLine(this.#remoteSdp)) return undefined;
    const channel = pc.createDataChannel(label);
    this.#addChannel(channel);
    return channel;
  }

  /**
   * The mid of a new sending line: the lowest number from the line count up that no m-line of
   * ours has (our data channel's m-line takes one too: "1" after a first line "0").
   */
  #newLineMid(): string {
    const taken = new Set(this.#lines.list.map((l) => l.mid));
    const local = this.#pc && !this.#closed ? this.#pc.localDescription()?.sdp : undefined;
    for (const mid of local ? sectionMids(local) : []) if (mid !== undefined) taken.add(mid);
    let n = this.#lines.list.length;
    while (taken.has(String(n))) n++;
    return String(n);
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

  /** Per-m-line stats in the shape of Janus's media `stats` event. */
  streamStats(): StreamStats[] {
    if (this.#closed) return [];
    const stats: Stat[] = this.#media.stats();
    this.#lines.stats(stats);
    return streamStats(stats, this.#localSdp);
  }

  /** Closes tracks, channels, then the PeerConnection; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Its sockets close with the PeerConnection; their numbers may soon be another's.
    this.#gate?.forget();
    clearTimeout(this.#timer);
    for (const mid of [...this.#recorders.keys()]) this.stopRecording(mid);
    for (const id of [...this.#forwarders.keys()]) this.stopRtpForward(id);
    this.stopPlay();
    this.#media.close();
    this.#lines.close();
    for (const track of this.#media.tracks()) track.close();
    for (const line of this.#lines.list) line.track?.close();
    for (const channel of this.#channels.values()) channel.close();
    this.#pc?.close();
    this.#gathered.resolve();
    this.#ctx.onClosed(this);
  }

  /** `offering`: we make the offers (subscribers), so libdatachannel must not on its own. */
  #createPc(offering = false): PeerConnection {
    const { config, bindAddress } = this.#ctx;
    const rtc: RtcConfig = {
      iceServers: [],
      ...(offering ? { disableAutoNegotiation: true } : {}),
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
    pc.onIceStateChange((state) => {
      if (state !== "connected" && state !== "completed") return;
      // The DTLS handshake starts now: told once, before `connected`.
      if (!this.#iceUp && !this.#connected && !this.#closed) {
        this.#ctx.notify("iceConnected", { peerId: this.id });
      }
      this.#iceUp = true;
    });
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
    const narrowed = keepSingleCodec(usable.sdp, RTP_SUPPORTED, answerCodecs(options.codecs));
    this.#remoteSdp = sdp;
    pc.setRemoteDescription(narrowed.sdp, "offer");
    this.#media.updateSsrcs(readOfferMedia(narrowed.sdp, RTP_SUPPORTED));
    if (options.bitrateCap !== undefined) {
      this.#bitrateCap = options.bitrateCap;
      this.#media.setBitrateCap(options.bitrateCap);
    }
    if (this.#origin) this.#origin = { ...this.#origin, version: this.#origin.version + 1 };
    const answer = await this.#finalLocalSdp(this.#bitrateCap, answerEdits(options));
    // A peer that offered first answers a later offer `actpass` (libdatachannel), which an
    // answer must not say (a VideoCall callee renegotiating): the role it has is kept.
    const role = this.#offeredRole;
    if (role === undefined || !answer.includes("a=setup:actpass")) return answer;
    this.#localSdp = answer.replaceAll("a=setup:actpass", `a=setup:${role}`);
    return this.#localSdp;
  }

  /**
   * The SDP we send: libdatachannel's description with our candidates, cap and shape, edited as
   * the plugin asked. Its tracks stay sendrecv: a recvonly one would not carry our RTCP feedback.
   */
  async #finalLocalSdp(
    bitrateCap: number | undefined,
    edits: LocalSdpEdits = {},
  ): Promise<string> {
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
    const conformed = conformSdp(capped, this.#origin ? { origin: this.#origin } : {});
    this.#localSdp = shapeLocalSdp(conformed, edits);
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
      // ICE's own callback may come after the connection's: tell it first all the same.
      if (!this.#iceUp) this.#ctx.notify("iceConnected", { peerId: this.id });
      this.#iceUp = true;
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
      else if (this.#iceUp || ice === "connected" || ice === "completed") reason = "DTLS error";
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
      this.#lines.report(now);
    }
    for (const report of this.#media.takeLevels()) {
      this.#ctx.notify("audioLevel", { peerId: this.id, report });
    }
    this.#sample();
    const since = this.#connectedAt === undefined ? Infinity : Date.now() - this.#connectedAt;
    const slow = this.#levels ? LEVELS_POLL_MS : POLL_MS;
    this.#schedule(since < FAST_POLL_WINDOW_MS ? FAST_POLL_MS : slow);
  }

  #sample(): void {
    if (this.#closed) return;
    const stats: Stat[] = this.#media.stats();
    this.#lines.stats(stats);
    const out = this.#monitor.update(stats, Date.now());
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

/** The audio and video m-sections of `sdp`, in order (what readOfferMedia lists). */
function audioVideoSections(sdp: string): string[][] {
  return splitSdp(sdp).media.filter((s) => {
    const kind = mediaKind(s);
    return kind === "audio" || kind === "video";
  });
}
