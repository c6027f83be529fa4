/**
 * RTCP compound packets: parse SR, RR, SDES, BYE (RFC 3550), generic NACK and PLI (RFC 4585),
 * FIR (RFC 5104) and REMB (draft-alvestrand-rmcat-remb); build PLI, FIR, REMB, NACK, RR and SR.
 * RTCP comes a few times a second, so parsing returns plain objects.
 *
 * @module
 */
import { readU32, writeU32 } from "./header.ts";

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const RTCP_RTPFB = 205;
export const RTCP_PSFB = 206;

/** One reception report block (RFC 3550 section 6.4.1). */
export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the last report, 0-255 (lost / expected * 256). */
  fractionLost: number;
  /** Cumulative packets lost (signed 24-bit). */
  packetsLost: number;
  /** Extended highest sequence number received. */
  highestSeq: number;
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received. */
  lastSr: number;
  /** Delay since that SR, in 1/65536 s. */
  delaySinceLastSr: number;
}

export interface SenderReport {
  type: "sr";
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: ReportBlock[];
}

export interface ReceiverReport {
  type: "rr";
  ssrc: number;
  reports: ReportBlock[];
}

export interface SdesItem {
  type: number;
  text: string;
}

export interface SourceDescription {
  type: "sdes";
  chunks: { ssrc: number; items: SdesItem[] }[];
}

export interface Bye {
  type: "bye";
  ssrcs: number[];
  reason?: string;
}

export interface Nack {
  type: "nack";
  senderSsrc: number;
  mediaSsrc: number;
  /** Every lost sequence number named by the PID/BLP pairs, in order. */
  lost: number[];
}

export interface Pli {
  type: "pli";
  senderSsrc: number;
  mediaSsrc: number;
}

export interface Fir {
  type: "fir";
  senderSsrc: number;
  entries: { ssrc: number; seqNr: number }[];
}

export interface Remb {
  type: "remb";
  senderSsrc: number;
  /** Estimated maximum bitrate, bits per second. */
  bitrate: number;
  ssrcs: number[];
}

export interface OtherRtcp {
  type: "other";
  packetType: number;
  /** The 5-bit count / feedback message type field. */
  format: number;
}

export type RtcpPacket =
  | SenderReport
  | ReceiverReport
  | SourceDescription
  | Bye
  | Nack
  | Pli
  | Fir
  | Remb
  | OtherRtcp;

/**
 * Parses a compound RTCP packet. Returns null when its framing is broken (bad version, a
 * length past the end); unknown packet types come back as `other`.
 */
export function parseRtcp(buf: Uint8Array, length = buf.length): RtcpPacket[] | null {
  const packets: RtcpPacket[] = [];
  let at = 0;
  while (at < length) {
    if (length - at < 4 || (buf[at]! >> 6) !== 2) return null;
    const format = buf[at]! & 0x1f;
    const packetType = buf[at + 1]!;
    const end = at + 4 * (((buf[at + 2]! << 8) | buf[at + 3]!) + 1);
    if (end > length) return null;
    const packet = parseOne(buf, at, end, packetType, format);
    if (!packet) return null;
    packets.push(packet);
    at = end;
  }
  return packets;
}

function parseOne(
  buf: Uint8Array,
  at: number,
  end: number,
  packetType: number,
  format: number,
): RtcpPacket | null {
  const size = end - at;
  switch (packetType) {
    case RTCP_SR: {
      if (size < 28 + 24 * format) return null;
      return {
        type: "sr",
        ssrc: readU32(buf, at + 4),
        ntpSeconds: readU32(buf, at + 8),
        ntpFraction: readU32(buf, at + 12),
        rtpTimestamp: readU32(buf, at + 16),
        packetCount: readU32(buf, at + 20),
        octetCount: readU32(buf, at + 24),
        reports: readReports(buf, at + 28, format),
      };
    }
    case RTCP_RR:
      if (size < 8 + 24 * format) return null;
      return { type: "rr", ssrc: readU32(buf, at + 4), reports: readReports(buf, at + 8, format) };
    case RTCP_SDES:
      return parseSdes(buf, at + 4, end, format);
    case RTCP_BYE: {
      if (size < 4 + 4 * format) return null;
      const ssrcs: number[] = [];
      for (let i = 0; i < format; i++) ssrcs.push(readU32(buf, at + 4 + 4 * i));
      const r = at + 4 + 4 * format;
      if (r < end) {
        const n = buf[r]!;
        if (r + 1 + n > end) return null;
        return { type: "bye", ssrcs, reason: decodeText(buf, r + 1, n) };
      }
      return { type: "bye", ssrcs };
    }
    case RTCP_RTPFB:
      if (size < 12) return null;
      if (format === 1) return parseNack(buf, at, end);
      return { type: "other", packetType, format };
    case RTCP_PSFB:
      if (size < 12) return null;
      return parsePsfb(buf, at, end, format);
    default:
      return { type: "other", packetType, format };
  }
}

function readReports(buf: Uint8Array, at: number, count: number): ReportBlock[] {
  const reports: ReportBlock[] = [];
  for (let i = 0; i < count; i++, at += 24) {
    const lost = (buf[at + 5]! << 16) | (buf[at + 6]! << 8) | buf[at + 7]!;
    reports.push({
      ssrc: readU32(buf, at),
      fractionLost: buf[at + 4]!,
      packetsLost: lost & 0x800000 ? lost - 0x1000000 : lost,
      highestSeq: readU32(buf, at + 8),
      jitter: readU32(buf, at + 12),
      lastSr: readU32(buf, at + 16),
      delaySinceLastSr: readU32(buf, at + 20),
    });
  }
  return reports;
}

function parseSdes(buf: Uint8Array, at: number, end: number, count: number): RtcpPacket | null {
  const chunks: SourceDescription["chunks"] = [];
  for (let c = 0; c < count; c++) {
    if (at + 4 > end) return null;
    const chunk = { ssrc: readU32(buf, at), items: [] as SdesItem[] };
    at += 4;
    // Items until a null octet; the chunk then pads to a 32-bit boundary.
    while (at < end && buf[at] !== 0) {
      if (at + 2 > end) return null;
      const type = buf[at]!;
      const n = buf[at + 1]!;
      if (at + 2 + n > end) return null;
      chunk.items.push({ type, text: decodeText(buf, at + 2, n) });
      at += 2 + n;
    }
    at = (at + 4) & ~3;
    chunks.push(chunk);
  }
  return { type: "sdes", chunks };
}

function parseNack(buf: Uint8Array, at: number, end: number): Nack {
  const lost: number[] = [];
  for (let p = at + 12; p + 4 <= end; p += 4) {
    const pid = (buf[p]! << 8) | buf[p + 1]!;
    const blp = (buf[p + 2]! << 8) | buf[p + 3]!;
    lost.push(pid);
    for (let bit = 0; bit < 16; bit++) {
      if (blp & (1 << bit)) lost.push((pid + bit + 1) & 0xffff);
    }
  }
  return { type: "nack", senderSsrc: readU32(buf, at + 4), mediaSsrc: readU32(buf, at + 8), lost };
}

function parsePsfb(buf: Uint8Array, at: number, end: number, format: number): RtcpPacket | null {
  const senderSsrc = readU32(buf, at + 4);
  const mediaSsrc = readU32(buf, at + 8);
  if (format === 1) return { type: "pli", senderSsrc, mediaSsrc };
  if (format === 4) {
    const entries: Fir["entries"] = [];
    for (let p = at + 12; p + 8 <= end; p += 8) {
      entries.push({ ssrc: readU32(buf, p), seqNr: buf[p + 4]! });
    }
    return { type: "fir", senderSsrc, entries };
  }
  if (format === 15 && end - at >= 20 && readU32(buf, at + 12) === REMB_ID) {
    const count = buf[at + 16]!;
    if (end - at < 20 + 4 * count) return null;
    const exp = buf[at + 17]! >> 2;
    const mantissa = ((buf[at + 17]! & 0x03) << 16) | (buf[at + 18]! << 8) | buf[at + 19]!;
    const ssrcs: number[] = [];
    for (let i = 0; i < count; i++) ssrcs.push(readU32(buf, at + 20 + 4 * i));
    return { type: "remb", senderSsrc, bitrate: mantissa * 2 ** exp, ssrcs };
  }
  return { type: "other", packetType: RTCP_PSFB, format };
}

/** "REMB" in ASCII, the unique identifier of an application layer feedback REMB. */
const REMB_ID = 0x52454d42;

/**
 * The media SSRCs a packet is about: report blocks, feedback targets, FIR entries, REMB
 * SSRCs. Routing RTCP to streams uses these, not the SSRC of the sender.
 */
export function mediaSsrcs(packet: RtcpPacket): number[] {
  switch (packet.type) {
    case "sr":
    case "rr":
      return packet.reports.map((r) => r.ssrc);
    case "nack":
    case "pli":
      return [packet.mediaSsrc];
    case "fir":
      return packet.entries.map((e) => e.ssrc);
    case "remb":
      return packet.ssrcs;
    case "bye":
      return packet.ssrcs;
    default:
      return [];
  }
}

function decodeText(buf: Uint8Array, at: number, n: number): string {
  return new TextDecoder().decode(buf.subarray(at, at + n));
}

function header(buf: Uint8Array, format: number, packetType: number, bytes: number): void {
  buf[0] = 0x80 | (format & 0x1f);
  buf[1] = packetType;
  const words = bytes / 4 - 1;
  buf[2] = words >> 8;
  buf[3] = words & 0xff;
}

/** Picture Loss Indication (RFC 4585 section 6.3.1). */
export function buildPli(senderSsrc: number, mediaSsrc: number): Uint8Array {
  const buf = new Uint8Array(12);
  header(buf, 1, RTCP_PSFB, 12);
  writeU32(buf, 4, senderSsrc);
  writeU32(buf, 8, mediaSsrc);
  return buf;
}

/** Full Intra Request (RFC 5104 section 4.3.1); `seqNr` goes up by one per new request. */
export function buildFir(senderSsrc: number, mediaSsrc: number, seqNr: number): Uint8Array {
  const buf = new Uint8Array(20);
  header(buf, 4, RTCP_PSFB, 20);
  writeU32(buf, 4, senderSsrc);
  // Media source SSRC is 0 in a FIR; the target is in the FCI entry.
  writeU32(buf, 12, mediaSsrc);
  buf[16] = seqNr & 0xff;
  return buf;
}

/** Receiver Estimated Maximum Bitrate (draft-alvestrand-rmcat-remb section 2.2). */
export function buildRemb(
  senderSsrc: number,
  bitrate: number,
  ssrcs: readonly number[],
): Uint8Array {
  const bytes = 20 + 4 * ssrcs.length;
  const buf = new Uint8Array(bytes);
  header(buf, 15, RTCP_PSFB, bytes);
  writeU32(buf, 4, senderSsrc);
  writeU32(buf, 12, REMB_ID);
  let mantissa = Math.max(0, Math.floor(bitrate));
  let exp = 0;
  while (mantissa > 0x3ffff) {
    mantissa = Math.floor(mantissa / 2);
    exp++;
  }
  buf[16] = ssrcs.length;
  buf[17] = (exp << 2) | (mantissa >> 16);
  buf[18] = (mantissa >> 8) & 0xff;
  buf[19] = mantissa & 0xff;
  ssrcs.forEach((s, i) => writeU32(buf, 20 + 4 * i, s));
  return buf;
}

/** Generic NACK (RFC 4585 section 6.2.1) for the given lost sequence numbers. */
export function buildNack(
  senderSsrc: number,
  mediaSsrc: number,
  lost: readonly number[],
): Uint8Array {
  const pairs: [number, number][] = [];
  for (const seq of lost) {
    const last = pairs[pairs.length - 1];
    const d = last ? (seq - last[0]) & 0xffff : 0;
    if (last && d >= 1 && d <= 16) last[1] |= 1 << (d - 1);
    else pairs.push([seq & 0xffff, 0]);
  }
  const bytes = 12 + 4 * pairs.length;
  const buf = new Uint8Array(bytes);
  header(buf, 1, RTCP_RTPFB, bytes);
  writeU32(buf, 4, senderSsrc);
  writeU32(buf, 8, mediaSsrc);
  pairs.forEach(([pid, blp], i) => {
    const p = 12 + 4 * i;
    buf[p] = pid >> 8;
    buf[p + 1] = pid & 0xff;
    buf[p + 2] = blp >> 8;
    buf[p + 3] = blp & 0xff;
  });
  return buf;
}

function writeReports(buf: Uint8Array, at: number, reports: readonly ReportBlock[]): void {
  for (const r of reports) {
    writeU32(buf, at, r.ssrc);
    const lost = Math.max(-0x800000, Math.min(0x7fffff, r.packetsLost)) & 0xffffff;
    writeU32(buf, at + 4, ((r.fractionLost & 0xff) << 24) | lost);
    writeU32(buf, at + 8, r.highestSeq);
    writeU32(buf, at + 12, r.jitter);
    writeU32(buf, at + 16, r.lastSr);
    writeU32(buf, at + 20, r.delaySinceLastSr);
    at += 24;
  }
}

/** Receiver Report (RFC 3550 section 6.4.2), up to 31 report blocks. */
export function buildRr(ssrc: number, reports: readonly ReportBlock[] = []): Uint8Array {
  const blocks = reports.slice(0, 31);
  const bytes = 8 + 24 * blocks.length;
  const buf = new Uint8Array(bytes);
  header(buf, blocks.length, RTCP_RR, bytes);
  writeU32(buf, 4, ssrc);
  writeReports(buf, 8, blocks);
  return buf;
}

/** Sender Report (RFC 3550 section 6.4.1), up to 31 report blocks. */
export function buildSr(sr: Omit<SenderReport, "type">): Uint8Array {
  const blocks = sr.reports.slice(0, 31);
  const bytes = 28 + 24 * blocks.length;
  const buf = new Uint8Array(bytes);
  header(buf, blocks.length, RTCP_SR, bytes);
  writeU32(buf, 4, sr.ssrc);
  writeU32(buf, 8, sr.ntpSeconds);
  writeU32(buf, 12, sr.ntpFraction);
  writeU32(buf, 16, sr.rtpTimestamp);
  writeU32(buf, 20, sr.packetCount);
  writeU32(buf, 24, sr.octetCount);
  writeReports(buf, 28, blocks);
  return buf;
}

/** NTP time (seconds since 1900 and 32-bit fraction) of a Unix time in ms. */
export function ntpTime(unixMs: number): { seconds: number; fraction: number } {
  const seconds = Math.floor(unixMs / 1000);
  const fraction = Math.floor(((unixMs - seconds * 1000) / 1000) * 0x100000000);
  return { seconds: (seconds + 2208988800) >>> 0, fraction: fraction >>> 0 };
}
