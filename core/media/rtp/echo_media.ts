/**
 * The received streams of one peer on the RTP engine, without decoding: gaps are NACKed
 * upstream and the peer's RTX resends unwrapped, keyframes are asked for (PLI, at most one a
 * second per stream), RFC 6464 levels are read, and every 500 ms an RR per stream and a REMB
 * (the bitrate cap) on video go to the peer. Each packet goes on to the lines it is forwarded
 * to: other peers' (`SendLines`) and the stream's own echo line, which sends it back on the
 * same m-line with our SSRC (a forward to ourselves: it waits for a keyframe at start and on
 * resume, answers the peer's NACKs from its cache over RTX, and its SR carries our RR).
 * Counters feed the same `MediaMonitor` the wrtc worker uses, as stats entries.
 *
 * @module
 */
import type { Track } from "node-datachannel";
import {
  isRtcp,
  isRtp,
  payloadType,
  sequenceNumber,
  setPayloadType,
  setSequenceNumber,
  setSsrc,
  setTimestamp,
  ssrc,
  timestamp,
} from "./header.ts";
import { readAudioLevel } from "./audio_level_ext.ts";
import { KeyframeLimiter } from "./keyframe_limiter.ts";
import { NackGenerator } from "./nack_generator.ts";
import type { OfferMedia } from "./offer_media.ts";
import { ReceiveStats } from "./receive_stats.ts";
import {
  buildNack,
  buildPli,
  buildRemb,
  buildRr,
  mediaSsrcs,
  parseRtcp,
  type ReportBlock,
  type RtcpPacket,
} from "./rtcp.ts";
import { unwrapRtx } from "./rtx.ts";
import type { Stat } from "../stats.ts";
import type { AudioLevelReport } from "../types.ts";
import { RtcpDeduper, sendTo } from "./rtp_send.ts";
import { type ForwardSource, SendLine } from "./send_lines.ts";
import { RTP_TOTALS } from "./totals.ts";

export { randomSsrc } from "./rtp_send.ts";

/** REMB sent when no cap is set: lets the sender ramp up (no other estimate reaches it). */
export const DEFAULT_REMB_BPS = 2_000_000;

/**
 * Something that sees every packet received on one stream (a recorder, a plain RTP
 * forwarder), RTX already unwrapped; it must leave `buf` as it found it.
 */
export interface PacketTap {
  packet(buf: Uint8Array, length: number, nowMs: number): void;
}

/** One received stream and its way back. */
interface Stream {
  media: OfferMedia;
  track: Track;
  /** Our SSRC on this m-line (the echo line's): RTCP we send goes from it. */
  outSsrc: number;
  stats: ReceiveStats;
  nack: NackGenerator | undefined;
  bytesIn: number;
  /** RTX resends received, sequence numbers we NACKed, keyframe requests we sent. */
  rtxIn: number;
  nacksOut: number;
  plisOut: number;
  /** Cumulative loss from our last RR (after NACK recovery). */
  lost: number;
  /** Keyframe requests to the publisher, at most one a second for this stream. */
  limiter: KeyframeLimiter;
  /** Lines this stream is forwarded to (other peers', and its echo line while attached). */
  outputs: SendLine[];
  /** Recorders and plain RTP forwarders of this stream. */
  taps: PacketTap[];
  /** This stream as a forward source. */
  source: ForwardSource;
  /** What we send on this m-line: the stream itself, once forwarded to ourselves (echo). */
  echo: SendLine;
  /** extmap id of the RFC 6464 audio level, 0 when not negotiated. */
  levelId: number;
  levelSum: number;
  levelPackets: number;
}

/** The received streams of one peer, and what it echoes. */
export class EchoMedia {
  #streams: Stream[] = [];
  #bySsrc = new Map<number, Stream>();
  #byOutSsrc = new Map<number, Stream>();
  #dedup = new RtcpDeduper();
  #levels = false;
  #rembBps = DEFAULT_REMB_BPS;
  #closed = false;

  /**
   * Adds a stream whose track is already on the PeerConnection, sending as `ssrcs` (announced
   * in our answer; `rtxSsrc` for resends when RTX is negotiated); video echoes from a
   * keyframe.
   */
  add(
    media: OfferMedia,
    track: Track,
    ssrcs: { ssrc: number; rtxSsrc: number },
    levelId = 0,
  ): void {
    const source: ForwardSource = {
      kind: media.kind,
      codec: media.codec,
      payloadType: media.payloadType,
      rtxPayloadType: media.rtxPayloadType,
      clockRate: media.clockRate,
      format: { channels: media.channels, fmtp: media.fmtp },
      extensions: media.extensions,
      requestKeyframe: (nowMs) => this.#requestKeyframe(stream, nowMs),
      keyframeReceived: () => stream.limiter.keyframeReceived(),
      // A publisher's bitrate is capped by the room (setBitrateCap), not by its subscribers.
      receiverEstimate: () => {},
      addOutput: (line) => {
        if (!stream.outputs.includes(line)) stream.outputs.push(line);
      },
      removeOutput: (line) => {
        const i = stream.outputs.indexOf(line);
        if (i >= 0) stream.outputs.splice(i, 1);
      },
    };
    const echo = new SendLine(media.mid, source, ssrcs);
    echo.track = track;
    // The client hears its own packets back: the ids it sends are its own.
    echo.extensions = media.extensions;
    const stream: Stream = {
      media,
      track,
      outSsrc: ssrcs.ssrc,
      stats: new ReceiveStats(media.ssrc, media.clockRate),
      nack: media.kind === "video" ? new NackGenerator() : undefined,
      bytesIn: 0,
      rtxIn: 0,
      nacksOut: 0,
      plisOut: 0,
      lost: 0,
      limiter: new KeyframeLimiter(1000),
      outputs: [],
      taps: [],
      source,
      echo,
      levelId: media.kind === "audio" ? levelId : 0,
      levelSum: 0,
      levelPackets: 0,
    };
    this.#streams.push(stream);
    if (media.ssrc) this.#bySsrc.set(media.ssrc, stream);
    if (media.rtxSsrc) this.#bySsrc.set(media.rtxSsrc, stream);
    this.#byOutSsrc.set(ssrcs.ssrc, stream);
    track.onMessage((message) => this.#onPacket(message, performance.now()));
    track.onOpen(() => {
      const now = performance.now();
      // An echo set up before the track opened starts now (on a keyframe it asks for).
      if (echo.active) echo.opened(now);
      else if (media.kind === "video") this.#requestKeyframe(stream, now);
    });
  }

  /** The line that sends the stream received on `mid` back on that m-line (echo). */
  echoLine(mid: string): SendLine | undefined {
    return this.#streams.find((s) => s.media.mid === mid)?.echo;
  }

  /** What was negotiated for the stream received on `mid`. */
  mediaOf(mid: string): OfferMedia | undefined {
    return this.#streams.find((s) => s.media.mid === mid)?.media;
  }

  /** The received stream on `mid` as a forward source. */
  sourceOf(mid: string): ForwardSource | undefined {
    return this.#streams.find((s) => s.media.mid === mid)?.source;
  }

  /** Adds a tap on the stream received on `mid`; false when there is no such stream. */
  addTap(mid: string, tap: PacketTap): boolean {
    const s = this.#streams.find((s) => s.media.mid === mid);
    if (!s) return false;
    if (!s.taps.includes(tap)) s.taps.push(tap);
    return true;
  }

  /** Removes a tap, wherever it is. */
  removeTap(tap: PacketTap): void {
    for (const s of this.#streams) {
      const i = s.taps.indexOf(tap);
      if (i >= 0) s.taps.splice(i, 1);
    }
  }

  /** Whether `source` is one of our received streams. */
  owns(source: ForwardSource): boolean {
    return this.#streams.some((s) => s.source === source);
  }

  /**
   * The publisher renegotiated: its streams may have new SSRCs (the lines' rewriters keep
   * what they send continuous).
   */
  updateSsrcs(offered: readonly OfferMedia[]): void {
    for (const s of this.#streams) {
      const o = offered.find((m) => m.mid === s.media.mid && m.kind === s.media.kind);
      if (!o || (o.ssrc === s.media.ssrc && o.rtxSsrc === s.media.rtxSsrc) || o.ssrc === 0) {
        continue;
      }
      if (this.#bySsrc.get(s.media.ssrc) === s) this.#bySsrc.delete(s.media.ssrc);
      if (this.#bySsrc.get(s.media.rtxSsrc) === s) this.#bySsrc.delete(s.media.rtxSsrc);
      s.media = { ...s.media, ssrc: o.ssrc, rtxSsrc: o.rtxSsrc };
      s.stats = new ReceiveStats(o.ssrc, s.media.clockRate);
      s.nack = s.media.kind === "video" ? new NackGenerator() : undefined;
      this.#bySsrc.set(o.ssrc, s);
      if (o.rtxSsrc) this.#bySsrc.set(o.rtxSsrc, s);
    }
  }

  /** Turns RFC 6464 level collection on or off. */
  setAudioLevels(enabled: boolean): void {
    this.#levels = enabled;
    for (const s of this.#streams) {
      s.levelSum = 0;
      s.levelPackets = 0;
    }
  }

  /** The mean level per audio stream since the last call (streams with packets only). */
  takeLevels(): AudioLevelReport[] {
    const out: AudioLevelReport[] = [];
    if (!this.#levels) return out;
    for (const s of this.#streams) {
      if (s.levelPackets === 0) continue;
      out.push({ mid: s.media.mid, level: s.levelSum / s.levelPackets, packets: s.levelPackets });
      s.levelSum = 0;
      s.levelPackets = 0;
    }
    return out;
  }

  /** The tracks, for closing. */
  tracks(): Track[] {
    return this.#streams.map((s) => s.track);
  }

  /** The REMB value sent to the peer; 0 or less = the default. */
  setBitrateCap(bps: number | undefined): void {
    this.#rembBps = bps !== undefined && bps > 0 ? bps : DEFAULT_REMB_BPS;
    const now = performance.now();
    for (const s of this.#streams) if (s.media.kind === "video") this.#sendRemb(s, now);
  }

  /** Stats entries in the shapes `MediaMonitor` and `info()` read. */
  stats(): Stat[] {
    const out: Stat[] = [];
    for (const s of this.#streams) {
      const { kind, mid } = s.media;
      out.push({
        id: `in-${mid}`,
        type: "inbound-rtp",
        kind,
        mid,
        packetsReceived: s.stats.received,
        bytesReceived: s.bytesIn,
        packetsLost: s.lost,
        jitter: s.media.clockRate > 0 ? s.stats.jitter / s.media.clockRate : 0,
        nackCount: s.nacksOut,
        pliCount: s.plisOut,
        retransmittedPacketsReceived: s.rtxIn,
      }, {
        id: `out-${mid}`,
        type: "outbound-rtp",
        kind,
        mid,
        packetsSent: s.echo.packetsOut,
        bytesSent: s.echo.bytesOut,
        nackCount: s.echo.nacksIn,
        pliCount: s.echo.plisIn,
        retransmittedPacketsSent: s.echo.nacked,
      }, {
        id: `remote-in-${mid}`,
        type: "remote-inbound-rtp",
        kind,
        localId: `out-${mid}`,
        packetsLost: s.echo.lostOut,
        jitter: s.media.clockRate > 0 ? s.echo.jitterOut / s.media.clockRate : 0,
      });
    }
    return out;
  }

  /**
   * Every 500 ms: RR per stream (an SR once the echo sent something), REMB and NACKs on
   * video, a held-back PLI when due.
   */
  report(now: number): void {
    if (this.#closed) return;
    this.#dedup.prune(now);
    const unixMs = Date.now();
    for (const s of this.#streams) {
      if (!s.track.isOpen()) continue;
      const block = s.stats.report(now);
      if (block) s.lost = Math.max(0, block.packetsLost);
      const blocks = block ? [block] : [];
      sendTo(s.track, s.echo.senderReport(unixMs, now, blocks) ?? buildRr(s.outSsrc, blocks));
      if (s.media.kind !== "video") continue;
      this.#sendNacks(s, now);
      this.#sendRemb(s, now);
      if (s.limiter.due(now)) this.#sendPli(s);
    }
  }

  /** Stops handling packets (the tracks are closed by the peer). */
  close(): void {
    this.#closed = true;
    for (const s of this.#streams) {
      for (const line of [...s.outputs]) line.detach();
      // Another peer's stream may feed our echo line (a relay): it stops sending to us.
      s.echo.detach();
    }
  }

  #onPacket(buf: Uint8Array, now: number): void {
    if (this.#closed) return;
    if (isRtcp(buf)) return this.#onRtcp(buf, now);
    if (!isRtp(buf)) return;
    const inSsrc = ssrc(buf);
    const s = this.#bySsrc.get(inSsrc);
    if (!s) return;
    let length = buf.length;
    if (inSsrc === s.media.rtxSsrc) {
      length = unwrapRtx(buf, length, s.media.payloadType, s.media.ssrc);
      if (length < 0) return;
      s.rtxIn++;
    }
    s.bytesIn += length;
    const totals = RTP_TOTALS[s.media.kind];
    totals.packetsReceived++;
    totals.bytesReceived += length;
    s.stats.packet(sequenceNumber(buf), timestamp(buf), now);
    if (s.nack) {
      if (!s.nack.packet(sequenceNumber(buf))) this.#requestKeyframe(s, now);
      this.#sendNacks(s, now);
      // A held-back keyframe request goes as soon as it is due, not at the next report.
      if (s.limiter.pending && s.limiter.due(now)) this.#sendPli(s);
    }
    if (s.levelId > 0 && this.#levels) {
      const level = readAudioLevel(buf, length, s.levelId);
      if (level >= 0) {
        s.levelSum += level;
        s.levelPackets++;
      }
    }
    for (let i = 0; i < s.taps.length; i++) s.taps[i]!.packet(buf, length, now);
    const outs = s.outputs;
    if (outs.length === 0) return;
    // Each line rewrites the header in place: put the publisher's back before the next.
    const seq = sequenceNumber(buf);
    const ts = timestamp(buf);
    const pt = payloadType(buf);
    const src = ssrc(buf);
    for (let i = 0; i < outs.length; i++) {
      outs[i]!.send(buf, length, now);
      setSsrc(buf, src);
      setSequenceNumber(buf, seq);
      setTimestamp(buf, ts);
      setPayloadType(buf, pt);
    }
  }

  #onRtcp(buf: Uint8Array, now: number): void {
    // RTCP is delivered once per SSRC it mentions: act on each compound packet once.
    if (this.#dedup.seen(buf, now)) return;
    for (const packet of parseRtcp(buf) ?? []) this.#onFeedback(packet, now);
  }

  #onFeedback(packet: RtcpPacket, now: number): void {
    switch (packet.type) {
      case "sr":
        this.#bySsrc.get(packet.ssrc)?.stats.senderReport(
          packet.ntpSeconds,
          packet.ntpFraction,
          now,
        );
        for (const block of packet.reports) this.#remoteReport(block);
        return;
      case "rr":
        for (const block of packet.reports) this.#remoteReport(block);
        return;
      case "nack":
        this.#byOutSsrc.get(packet.mediaSsrc)?.echo.resend(packet.lost, now);
        return;
      case "pli":
      case "fir":
        for (const target of mediaSsrcs(packet)) {
          const s = this.#byOutSsrc.get(target);
          s?.echo.keyframeRequested();
          // Whoever feeds the m-line is asked: ourselves (echo) or another peer (a relay).
          if (s?.media.kind === "video") (s.echo.source ?? s.source).requestKeyframe(now);
        }
        return;
      default:
        return;
    }
  }

  #remoteReport(block: ReportBlock): void {
    this.#byOutSsrc.get(block.ssrc)?.echo.remoteReport(block);
  }

  #sendNacks(s: Stream, now: number): void {
    const lost = s.nack?.due(now) ?? [];
    if (lost.length === 0) return;
    s.nacksOut += lost.length;
    RTP_TOTALS[s.media.kind].nacksSent += lost.length;
    sendTo(s.track, buildNack(s.outSsrc, s.media.ssrc, lost));
  }

  #sendRemb(s: Stream, _now: number): void {
    if (s.media.ssrc) sendTo(s.track, buildRemb(s.outSsrc, this.#rembBps, [s.media.ssrc]));
  }

  #requestKeyframe(s: Stream, now: number): void {
    if (s.limiter.request(now)) this.#sendPli(s);
  }

  #sendPli(s: Stream): void {
    if (!s.media.ssrc) return;
    s.plisOut++;
    RTP_TOTALS[s.media.kind].plisSent++;
    sendTo(s.track, buildPli(s.outSsrc, s.media.ssrc));
  }
}
