/**
 * The sending m-lines of a peer on the RTP engine that other peers forward to (a VideoRoom
 * subscriber's m-lines). Each line carries at most one source stream at a time, through its
 * own rewriter (our SSRC; sequence numbers and timestamps continuous across switch, pause,
 * resume and the publisher's renegotiation), starts on a keyframe (asked upstream on attach,
 * resume and when the line opens), keeps what it sent to answer the subscriber's NACKs (as RTX
 * when negotiated: an identical SRTP packet is dropped as a replay), passes the subscriber's
 * PLI/FIR upstream (the publisher's limiter keeps it to one a second), sends an SR every
 * report interval, and carries only the header extensions the receiving peer negotiated, under
 * its ids (`header_ext.ts`).
 *
 * @module
 */
import type { Track } from "node-datachannel";
import { hasExtension, isRtcp, payloadType, sequenceNumber, setPayloadType } from "./header.ts";
import { extensionBlock, extensionIdTable, rewriteExtensions } from "./header_ext.ts";
import { NACK_SLOT_BYTES, NackCache } from "./nack_cache.ts";
import { StreamRewriter } from "./rewriter.ts";
import { buildSr, ntpTime, parseRtcp, type ReportBlock, type RtcpPacket } from "./rtcp.ts";
import { wrapRtx } from "./rtx.ts";
import { type KeyframeTest, keyframeTest, startsKeyframe } from "./keyframes.ts";
import type { Stat } from "../stats.ts";
import { randomSsrc, RtcpDeduper, sendTo } from "./rtp_send.ts";
import { RTP_TOTALS } from "./totals.ts";

/** What a line needs of the stream it forwards (a publisher's received m-line). */
export interface ForwardSource {
  readonly kind: "audio" | "video";
  /** Codec name, lower case; absent: Opus for audio, VP8 for video. */
  readonly codec?: string;
  readonly payloadType: number;
  readonly rtxPayloadType: number;
  readonly clockRate: number;
  /**
   * The offered channels (audio) and fmtp: multiopus needs its channel mapping offered on,
   * H.264 its profile and packetization mode.
   */
  readonly format?: { channels: number; fmtp: string };
  /** Header extension ids the publisher's packets carry: id -> URI. */
  readonly extensions: ReadonlyMap<number, string>;
  /** Asks the publisher for a keyframe (at most one a second per publisher). */
  requestKeyframe(nowMs: number): void;
  /** A line started on a keyframe: a held-back request for one is answered. */
  keyframeReceived(): void;
  /**
   * A receiver's REMB for what this source feeds it (Streaming relays the lowest to an
   * RTCP-capable source, as janus_streaming.c; a publisher's bitrate is the room's, not this).
   */
  receiverEstimate(bps: number, nowMs: number): void;
  /** Stops feeding `line` (the line detaches itself). */
  removeOutput(line: SendLine): void;
  addOutput(line: SendLine): void;
}

/** The codec of `source`'s packets, lower case (Opus or VP8 when it names none). */
export function codecOf(source: Pick<ForwardSource, "kind" | "codec">): string {
  return source.codec ?? (source.kind === "audio" ? "opus" : "vp8");
}

/**
 * A source with nothing upstream to answer feedback (a mix, a plain-RTP socket): keyframe
 * requests, estimates and outputs are ignored, and it has no RTX.
 */
export function sourceWithoutFeedback(
  media: Pick<ForwardSource, "kind" | "codec" | "payloadType" | "clockRate" | "extensions">,
): ForwardSource {
  return {
    ...media,
    rtxPayloadType: 0,
    requestKeyframe: () => {},
    keyframeReceived: () => {},
    receiverEstimate: () => {},
    addOutput: () => {},
    removeOutput: () => {},
  };
}

/** One of our sending m-lines. */
export class SendLine {
  readonly mid: string;
  readonly kind: "audio" | "video";
  readonly ssrc: number;
  readonly rtxSsrc: number;
  /** Codec, payload types and clock rate offered for this line (from its first source). */
  readonly codec: string;
  readonly payloadType: number;
  readonly rtxPayloadType: number;
  readonly clockRate: number;
  /** The first source's channels and fmtp, for our offer. */
  readonly format: { channels: number; fmtp: string } | undefined;
  track: Track | undefined;
  source: ForwardSource | undefined;
  /**
   * Header extensions the receiving peer negotiated on this line (id -> URI); a source's
   * others are blanked and its ids rewritten to these. Our own offers declare none.
   */
  extensions: ReadonlyMap<number, string> = new Map();
  active = false;
  /** Video sends nothing until a keyframe after attach and resume. */
  started = false;
  packetsOut = 0;
  bytesOut = 0;
  /** Cumulative loss the subscriber reports on this line. */
  lostOut = 0;
  /** Interarrival jitter the subscriber reports on this line, in RTP timestamp units. */
  jitterOut = 0;
  /** Packets resent on the subscriber's NACKs. */
  nacked = 0;
  /** Sequence numbers the subscriber NACKed, and its keyframe requests. */
  nacksIn = 0;
  plisIn = 0;
  readonly #rewriter: StreamRewriter;
  readonly #cache: NackCache;
  #rtxSeq = randomSsrc() & 0xffff;
  #lastSentMs = 0;
  /** Spare bytes to wrap a cached packet as RTX without allocating. */
  readonly #scratch = new Uint8Array(NACK_SLOT_BYTES + 2);
  /** Source extension id -> ours (0: blank), undefined when they match. */
  #extensionIds: Uint8Array | undefined;
  /** The source's extension bytes, put back after we rewrote them for this line. */
  #extensionSaved = new Uint8Array(64);

  /** Video waits for a keyframe of its codec (one not recognised is forwarded at once). */
  readonly #isKeyframe: KeyframeTest | undefined;

  /** `options`: our SSRCs when already announced (an echo's answer), else random ones. */
  constructor(
    mid: string,
    source: ForwardSource,
    options: { ssrc?: number; rtxSsrc?: number } = {},
  ) {
    this.mid = mid;
    this.ssrc = options.ssrc ?? randomSsrc();
    this.rtxSsrc = options.rtxSsrc ?? randomSsrc();
    this.kind = source.kind;
    this.codec = codecOf(source);
    this.#isKeyframe = source.kind === "video" ? keyframeTest(this.codec) : undefined;
    this.payloadType = source.payloadType;
    this.rtxPayloadType = source.kind === "video" ? source.rtxPayloadType : 0;
    this.clockRate = source.clockRate;
    this.format = source.format;
    this.#rewriter = new StreamRewriter({ ssrc: this.ssrc, clockRate: source.clockRate });
    this.#cache = new NackCache(source.kind === "video" ? 1024 : 128);
  }

  /** Feeds the line from `source` (replacing another one: a switch). */
  attach(source: ForwardSource, active: boolean, nowMs: number): void {
    if (this.source !== source) {
      this.source?.removeOutput(this);
      this.source = source;
      source.addOutput(this);
      this.#extensionIds = extensionIdTable(source.extensions, this.extensions);
    }
    this.active = active;
    this.#restart(nowMs);
  }

  /** Pauses or resumes; a resume starts on a keyframe. */
  setActive(active: boolean, nowMs: number): void {
    if (this.active === active) return;
    this.active = active;
    if (active) this.#restart(nowMs);
  }

  /** The source's packets now come from another stream (a simulcast switch): a new epoch. */
  newEpoch(): void {
    this.#rewriter.resync();
  }

  /** The source's next sequence number is not sent on purpose: no gap is left for it. */
  skipSequence(): void {
    this.#rewriter.skip();
  }

  /** Stops the forward; the line stays, free. */
  detach(): void {
    this.source?.removeOutput(this);
    this.source = undefined;
    this.active = false;
  }

  /** The track opened: the subscriber can decode from the next keyframe. */
  opened(nowMs: number): void {
    if (this.active && this.source && this.kind === "video") {
      this.started = this.#isKeyframe === undefined;
      this.source.requestKeyframe(nowMs);
    }
  }

  /**
   * Sends one packet of the source (`buf[0, length)`, the publisher's header restored): in
   * place, so the caller restores the header before the next line.
   */
  send(buf: Uint8Array, length: number, nowMs: number): void {
    const track = this.track;
    if (!this.active || !track || !track.isOpen()) return;
    if (!this.started) {
      if (!this.#isKeyframe || !startsKeyframe(this.#isKeyframe, buf, length)) return;
      this.started = true;
      this.source?.keyframeReceived();
    }
    if (payloadType(buf) !== this.payloadType) setPayloadType(buf, this.payloadType);
    if (!this.#rewriter.rewrite(buf, nowMs)) return;
    const saved = this.#mapExtensions(buf, length);
    const packet = length === buf.length ? buf : buf.subarray(0, length);
    this.#cache.put(sequenceNumber(buf), packet, length, nowMs);
    if (sendTo(track, packet)) {
      this.packetsOut++;
      this.bytesOut += length;
      const totals = RTP_TOTALS[this.kind];
      totals.packetsSent++;
      totals.bytesSent += length;
      this.#lastSentMs = nowMs;
    }
    if (saved) buf.set(this.#extensionSaved.subarray(0, saved.end - saved.start), saved.start);
  }

  /**
   * Rewrites the packet's extension ids to ours (blanking those we did not negotiate); returns
   * the rewritten range, whose original bytes are kept in `#extensionSaved`.
   */
  #mapExtensions(buf: Uint8Array, length: number): { start: number; end: number } | undefined {
    const table = this.#extensionIds;
    if (!table || !hasExtension(buf)) return undefined;
    const block = extensionBlock(buf, length);
    if (!block) return undefined;
    const size = block.end - block.start;
    if (this.#extensionSaved.length < size) this.#extensionSaved = new Uint8Array(size);
    this.#extensionSaved.set(buf.subarray(block.start, block.end));
    return rewriteExtensions(buf, length, table) ? block : undefined;
  }

  /** Resends what the subscriber lost, from the cache (as RTX when negotiated). */
  resend(lost: readonly number[], nowMs: number): void {
    const track = this.track;
    if (!track) return;
    const totals = RTP_TOTALS[this.kind];
    this.nacksIn += lost.length;
    totals.nacksReceived += lost.length;
    for (const seq of lost) {
      const cached = this.#cache.get(seq, nowMs);
      if (!cached) continue;
      this.nacked++;
      totals.rtxSent++;
      if (this.rtxPayloadType === 0) {
        sendTo(track, cached);
        continue;
      }
      this.#scratch.set(cached);
      this.#rtxSeq = (this.#rtxSeq + 1) & 0xffff;
      const n = wrapRtx(
        this.#scratch,
        cached.length,
        this.rtxPayloadType,
        this.rtxSsrc,
        this.#rtxSeq,
      );
      if (n > 0) sendTo(track, this.#scratch.subarray(0, n));
    }
  }

  /** The subscriber asked for a keyframe on this line (counted, acted on by the caller). */
  keyframeRequested(): void {
    this.plisIn++;
    RTP_TOTALS[this.kind].plisReceived++;
  }

  /** What the subscriber's RR says of this line: cumulative loss and jitter. */
  remoteReport(block: ReportBlock): void {
    this.lostOut = Math.max(0, block.packetsLost);
    this.jitterOut = block.jitter;
  }

  /** Our SR for this line (with `reports` on what we receive), once something was sent. */
  senderReport(
    unixMs: number,
    nowMs: number,
    reports: ReportBlock[] = [],
  ): Uint8Array | undefined {
    if (this.packetsOut === 0) return undefined;
    const ntp = ntpTime(unixMs);
    const elapsed = Math.max(0, nowMs - this.#lastSentMs);
    return buildSr({
      ssrc: this.ssrc,
      ntpSeconds: ntp.seconds,
      ntpFraction: ntp.fraction,
      rtpTimestamp: (this.#rewriter.lastTimestamp +
        Math.round((elapsed * this.clockRate) / 1000)) >>> 0,
      packetCount: this.packetsOut >>> 0,
      octetCount: this.bytesOut >>> 0,
      reports,
    });
  }

  #restart(nowMs: number): void {
    this.#rewriter.resync();
    this.started = this.#isKeyframe === undefined;
    // A line not open yet asks when it opens: a keyframe now would arrive before it can go.
    if (!this.track?.isOpen()) return;
    if (this.active && this.source && this.kind === "video") this.source.requestKeyframe(nowMs);
  }
}

/** Every sending line of one peer, and the subscriber's RTCP about them. */
export class SendLines {
  readonly list: SendLine[] = [];
  #bySsrc = new Map<number, SendLine>();
  #dedup = new RtcpDeduper();

  byMid(mid: string): SendLine | undefined {
    return this.list.find((l) => l.mid === mid);
  }

  /** A line of `kind` offered with `codec`, carrying nothing, if any. */
  free(kind: "audio" | "video", codec: string): SendLine | undefined {
    return this.list.find((l) => l.kind === kind && l.codec === codec && l.source === undefined);
  }

  add(mid: string, source: ForwardSource): SendLine {
    const line = new SendLine(mid, source);
    this.list.push(line);
    this.#bySsrc.set(line.ssrc, line);
    return line;
  }

  /** A packet the subscriber sent on one of our tracks (RTCP only: the lines are sendonly). */
  onPacket(buf: Uint8Array, nowMs: number): void {
    if (!isRtcp(buf) || this.#dedup.seen(buf, nowMs)) return;
    for (const packet of parseRtcp(buf) ?? []) this.#onFeedback(packet, nowMs);
  }

  /** Every report interval: an SR on each line that sent something. */
  report(nowMs: number): void {
    this.#dedup.prune(nowMs);
    const unixMs = Date.now();
    for (const line of this.list) {
      const track = line.track;
      if (!track || !track.isOpen()) continue;
      const sr = line.senderReport(unixMs, nowMs);
      if (sr) sendTo(track, sr);
    }
  }

  /** Stats entries of what we send (outbound-rtp and the subscriber's loss). */
  stats(out: Stat[]): void {
    for (const l of this.list) {
      out.push({
        id: `out-${l.mid}`,
        type: "outbound-rtp",
        kind: l.kind,
        mid: l.mid,
        packetsSent: l.packetsOut,
        bytesSent: l.bytesOut,
        nackCount: l.nacksIn,
        pliCount: l.plisIn,
        retransmittedPacketsSent: l.nacked,
      }, {
        id: `remote-in-${l.mid}`,
        type: "remote-inbound-rtp",
        kind: l.kind,
        localId: `out-${l.mid}`,
        packetsLost: l.lostOut,
        jitter: l.clockRate > 0 ? l.jitterOut / l.clockRate : 0,
      });
    }
  }

  /** Detaches every line from its source (the peer is closing). */
  close(): void {
    for (const line of this.list) line.detach();
  }

  #onFeedback(packet: RtcpPacket, nowMs: number): void {
    switch (packet.type) {
      case "sr":
      case "rr":
        for (const block of packet.reports) this.#bySsrc.get(block.ssrc)?.remoteReport(block);
        return;
      case "nack":
        this.#bySsrc.get(packet.mediaSsrc)?.resend(packet.lost, nowMs);
        return;
      case "pli":
        this.#keyframe(packet.mediaSsrc, nowMs);
        return;
      case "fir":
        for (const e of packet.entries) this.#keyframe(e.ssrc, nowMs);
        return;
      case "remb":
        for (const ssrc of packet.ssrcs) {
          const line = this.#bySsrc.get(ssrc);
          if (line?.active) line.source?.receiverEstimate(packet.bitrate, nowMs);
        }
        return;
      default:
        return;
    }
  }

  #keyframe(ssrc: number, nowMs: number): void {
    const line = this.#bySsrc.get(ssrc);
    line?.keyframeRequested();
    if (line?.active && line.kind === "video") line.source?.requestKeyframe(nowMs);
  }
}
