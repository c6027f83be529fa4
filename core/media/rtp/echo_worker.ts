/**
 * Spike of the RTP engine (issue 10): a worker process that answers one peer's offer with
 * node-datachannel and echoes its audio and video RTP back without decoding, through the
 * packet primitives an SFU forwards with (rewriter, RTX unwrap, NACKs upstream, NACK cache,
 * keyframe limiter, RR and REMB written by hand). It speaks line JSON on stdin/stdout until
 * the engine interface takes it over:
 *
 *   in  {"op":"offer","sdp":"..."}  out {"op":"answer","sdp":"..."} (candidates inside)
 *   in  {"op":"stats"}              out {"op":"stats", ...counters}
 *   in  {"op":"close"}              out {"op":"closed"}, then the process exits 0
 *   out {"op":"state","state":"connected"|...}, {"op":"error","message":"..."}
 *
 * libdatachannel rules it follows (design.md): every wrapper stays referenced until its
 * onClosed; cleanup() is never called; tracks close before the peer, then Deno.exit.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Audio, PeerConnection, type Track, Video } from "node-datachannel";
import {
  headerLength,
  isRtcp,
  isRtp,
  paddingLength,
  sequenceNumber,
  ssrc,
  timestamp,
} from "./header.ts";
import { KeyframeLimiter } from "./keyframe_limiter.ts";
import { NackCache } from "./nack_cache.ts";
import { NackGenerator } from "./nack_generator.ts";
import { type OfferMedia, readOfferMedia } from "./offer_media.ts";
import { ReceiveStats } from "./receive_stats.ts";
import { StreamRewriter } from "./rewriter.ts";
import {
  buildNack,
  buildPli,
  buildRemb,
  buildRr,
  mediaSsrcs,
  parseRtcp,
  type RtcpPacket,
} from "./rtcp.ts";
import { unwrapRtx } from "./rtx.ts";
import { isVp8Keyframe } from "./vp8.ts";

/** Bitrate cap announced to the publisher with REMB. */
const REMB_BPS = 2_000_000;
const REPORT_INTERVAL_MS = 500;
/** Identical RTCP within this window is one packet delivered on several tracks. */
const RTCP_DEDUP_MS = 50;

interface Stream {
  media: OfferMedia;
  track: Track;
  /** Our SSRC towards the peer. */
  outSsrc: number;
  rewriter: StreamRewriter;
  cache: NackCache;
  stats: ReceiveStats;
  /** Gaps to NACK upstream (video: the peer resends them over RTX). */
  nack: NackGenerator | undefined;
  /** Video waits for a keyframe before the first packet goes out. */
  started: boolean;
}

const counters = {
  rtpIn: 0,
  rtpOut: 0,
  rtxUnwrapped: 0,
  waitingKeyframe: 0,
  rtcpIn: 0,
  rtcpDeduped: 0,
  nacksAnswered: 0,
  nacksSent: 0,
  plisSent: 0,
  rrSent: 0,
  rembSent: 0,
  keyframeRequests: 0,
};

/** libdatachannel wrappers held until their onClosed: a collected one crashes Deno. */
const registry = new Set<object>();
const streams: Stream[] = [];
/** Publisher SSRC (media or RTX) to its stream. */
const bySsrc = new Map<number, Stream>();
/** Our outgoing SSRC to its stream, for NACK/PLI from the peer. */
const byOutSsrc = new Map<number, Stream>();
const recentRtcp = new Map<string, number>();
const limiter = new KeyframeLimiter(1000);
let pc: PeerConnection | undefined;
let reportTimer: ReturnType<typeof setInterval> | undefined;
let closing = false;

const encoder = new TextEncoder();
function send(message: Record<string, unknown>): void {
  Deno.stdout.writeSync(encoder.encode(JSON.stringify(message) + "\n"));
}

function randomSsrc(): number {
  return (crypto.getRandomValues(new Uint32Array(1))[0]! | 1) >>> 0;
}

async function answer(offer: string): Promise<string> {
  const peer = new PeerConnection("echo", { iceServers: [], bindAddress: "127.0.0.1" });
  pc = peer;
  registry.add(peer);
  peer.onStateChange((state) => {
    send({ op: "state", state });
    if (state === "closed") registry.delete(peer);
  });
  const gathered = new Promise<void>((resolve) =>
    peer.onGatheringStateChange((state) => state === "complete" && resolve())
  );
  // Tracks go in before the remote description so the answer carries our SSRCs and codecs.
  for (const media of readOfferMedia(offer)) {
    if (media.payloadType === 0) continue;
    const outSsrc = randomSsrc();
    const description = media.kind === "video"
      ? new Video(media.mid, "SendRecv")
      : new Audio(media.mid, "SendRecv");
    if (media.kind === "video") {
      (description as Video).addVideoCodec(media.payloadType, "VP8");
      // Without RTX the peer's NACK resends are identical SRTP packets dropped as replays.
      if (media.rtxPayloadType > 0) {
        description.addRTXCodec(media.rtxPayloadType, media.payloadType, media.clockRate);
      }
    } else {
      (description as Audio).addOpusCodec(media.payloadType);
    }
    description.addSSRC(outSsrc, "echo", "echo", `echo-${media.kind}`);
    const track = peer.addTrack(description);
    registry.add(track);
    const stream: Stream = {
      media,
      track,
      outSsrc,
      rewriter: new StreamRewriter({ ssrc: outSsrc, clockRate: media.clockRate }),
      cache: new NackCache(media.kind === "video" ? 1024 : 128),
      stats: new ReceiveStats(media.ssrc, media.clockRate),
      nack: media.kind === "video" ? new NackGenerator() : undefined,
      started: media.kind === "audio",
    };
    streams.push(stream);
    if (media.ssrc) bySsrc.set(media.ssrc, stream);
    if (media.rtxSsrc) bySsrc.set(media.rtxSsrc, stream);
    byOutSsrc.set(outSsrc, stream);
    track.onClosed(() => registry.delete(track));
    track.onMessage((message) => onPacket(message, performance.now()));
    track.onOpen(() => {
      // One PLI upstream at start so the first forwarded frame is a keyframe.
      if (media.kind === "video") requestKeyframe(stream, performance.now());
    });
  }
  peer.setRemoteDescription(offer, "offer");
  await gathered;
  const local = peer.localDescription();
  if (!local) throw new Error("no local description after gathering");
  reportTimer = setInterval(report, REPORT_INTERVAL_MS);
  return local.sdp;
}

function onPacket(buf: Uint8Array, now: number): void {
  if (closing) return;
  if (isRtcp(buf)) return onRtcp(buf, now);
  if (!isRtp(buf)) return;
  counters.rtpIn++;
  const inSsrc = ssrc(buf);
  const stream = bySsrc.get(inSsrc);
  if (!stream) return;
  let length = buf.length;
  if (inSsrc === stream.media.rtxSsrc) {
    length = unwrapRtx(buf, length, stream.media.payloadType, stream.media.ssrc);
    if (length < 0) return;
    counters.rtxUnwrapped++;
  }
  stream.stats.packet(sequenceNumber(buf), timestamp(buf), now);
  if (stream.nack) {
    if (!stream.nack.packet(sequenceNumber(buf))) requestKeyframe(stream, now);
    sendNacks(stream, now);
  }
  if (!stream.started) {
    const header = headerLength(buf, length);
    const end = length - paddingLength(buf, length);
    if (header < 0 || !isVp8Keyframe(buf, header, end)) {
      counters.waitingKeyframe++;
      return;
    }
    stream.started = true;
    limiter.keyframeReceived();
  }
  if (!stream.rewriter.rewrite(buf, now)) return;
  const packet = length === buf.length ? buf : buf.subarray(0, length);
  stream.cache.put(sequenceNumber(buf), packet, length, now);
  if (stream.track.isOpen() && sendTo(stream.track, packet)) counters.rtpOut++;
}

function onRtcp(buf: Uint8Array, now: number): void {
  counters.rtcpIn++;
  // RTCP is delivered once per SSRC it mentions: act on each compound packet once.
  const key = rtcpKey(buf);
  const seen = recentRtcp.get(key);
  if (seen !== undefined && now - seen < RTCP_DEDUP_MS) {
    counters.rtcpDeduped++;
    return;
  }
  recentRtcp.set(key, now);
  for (const packet of parseRtcp(buf) ?? []) onFeedback(packet, now);
}

function onFeedback(packet: RtcpPacket, now: number): void {
  switch (packet.type) {
    case "sr":
      bySsrc.get(packet.ssrc)?.stats.senderReport(packet.ntpSeconds, packet.ntpFraction, now);
      return;
    case "nack": {
      const stream = byOutSsrc.get(packet.mediaSsrc);
      if (!stream) return;
      for (const seq of packet.lost) {
        const cached = stream.cache.get(seq, now);
        if (cached && sendTo(stream.track, cached)) counters.nacksAnswered++;
      }
      return;
    }
    case "pli":
    case "fir":
      for (const target of mediaSsrcs(packet)) {
        const stream = byOutSsrc.get(target);
        if (stream?.media.kind === "video") requestKeyframe(stream, now);
      }
      return;
    default:
      return;
  }
}

function sendNacks(stream: Stream, now: number): void {
  const lost = stream.nack?.due(now) ?? [];
  if (lost.length === 0 || !stream.track.isOpen()) return;
  if (sendTo(stream.track, buildNack(stream.outSsrc, stream.media.ssrc, lost))) {
    counters.nacksSent++;
  }
}

function requestKeyframe(stream: Stream, now: number): void {
  counters.keyframeRequests++;
  if (limiter.request(now)) sendPli(stream);
}

function sendPli(stream: Stream): void {
  if (
    stream.track.isOpen() &&
    sendTo(stream.track, buildPli(stream.outSsrc, stream.media.ssrc))
  ) {
    counters.plisSent++;
  }
}

/** Every 500 ms: RR for what we receive, REMB on video, a held-back PLI when due. */
function report(): void {
  const now = performance.now();
  for (const [key, at] of recentRtcp) if (now - at > RTCP_DEDUP_MS) recentRtcp.delete(key);
  for (const stream of streams) {
    if (!stream.track.isOpen()) continue;
    const block = stream.stats.report(now);
    if (sendTo(stream.track, buildRr(stream.outSsrc, block ? [block] : []))) {
      counters.rrSent++;
    }
    if (stream.media.kind !== "video") continue;
    sendNacks(stream, now);
    if (sendTo(stream.track, buildRemb(stream.outSsrc, REMB_BPS, [stream.media.ssrc]))) {
      counters.rembSent++;
    }
    if (limiter.due(now)) sendPli(stream);
  }
}

/** Sends a packet on a track; the binding takes Buffers, a view of the same bytes is one. */
function sendTo(track: Track, packet: Uint8Array): boolean {
  const buffer = Buffer.isBuffer(packet)
    ? packet
    : Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  return track.sendMessageBinary(buffer);
}

function rtcpKey(buf: Uint8Array): string {
  // FNV-1a over the bytes: RTCP is small and rare, a string key is fine here.
  let h = 0x811c9dc5;
  for (let i = 0; i < buf.length; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return `${buf.length}:${h >>> 0}`;
}

/** Closes tracks, then the peer, waits for their onClosed, then ends the process. */
async function close(): Promise<never> {
  closing = true;
  clearInterval(reportTimer);
  for (const stream of streams) stream.track.close();
  pc?.close();
  const deadline = performance.now() + 3000;
  while (registry.size > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  send({ op: "closed", left: registry.size });
  Deno.exit(registry.size === 0 ? 0 : 2);
}

async function main(): Promise<void> {
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let pending = "";
  for await (const chunk of lines) {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        const message = JSON.parse(line) as { op?: string; sdp?: string };
        if (message.op === "offer" && typeof message.sdp === "string") {
          send({ op: "answer", sdp: await answer(message.sdp) });
        } else if (message.op === "stats") {
          send({
            op: "stats",
            ...counters,
            dropped: streams.reduce((n, s) => n + s.rewriter.dropped, 0),
          });
        } else if (message.op === "close") {
          await close();
        } else {
          send({ op: "error", message: `unknown request ${line.slice(0, 80)}` });
        }
      } catch (e) {
        send({ op: "error", message: e instanceof Error ? e.message : String(e) });
      }
    }
  }
  // The parent went away: close as asked.
  await close();
}

if (import.meta.main) await main();
