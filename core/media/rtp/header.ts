/**
 * RTP fixed header (RFC 3550 section 5.1) read and written in place on the received buffer,
 * so forwarding a packet allocates nothing.
 *
 * @module
 */

/** Smallest RTP header: no CSRCs, no extension. */
export const RTP_HEADER_MIN = 12;

/**
 * True when `buf` looks like RTP rather than RTCP (RFC 5761 section 4: RTCP packet types
 * 192-223 share the second byte's range with RTP payload types 64-95 plus marker).
 */
export function isRtp(buf: Uint8Array, length = buf.length): boolean {
  if (length < RTP_HEADER_MIN || (buf[0]! >> 6) !== 2) return false;
  const pt = buf[1]!;
  return pt < 192 || pt > 223;
}

/** True when `buf` looks like RTCP (version 2, packet type 192-223). */
export function isRtcp(buf: Uint8Array, length = buf.length): boolean {
  if (length < 4 || (buf[0]! >> 6) !== 2) return false;
  const pt = buf[1]!;
  return pt >= 192 && pt <= 223;
}

export function rtpVersion(buf: Uint8Array): number {
  return buf[0]! >> 6;
}

export function hasPadding(buf: Uint8Array): boolean {
  return (buf[0]! & 0x20) !== 0;
}

export function hasExtension(buf: Uint8Array): boolean {
  return (buf[0]! & 0x10) !== 0;
}

export function csrcCount(buf: Uint8Array): number {
  return buf[0]! & 0x0f;
}

export function marker(buf: Uint8Array): boolean {
  return (buf[1]! & 0x80) !== 0;
}

export function setMarker(buf: Uint8Array, on: boolean): void {
  buf[1] = on ? buf[1]! | 0x80 : buf[1]! & 0x7f;
}

export function payloadType(buf: Uint8Array): number {
  return buf[1]! & 0x7f;
}

export function setPayloadType(buf: Uint8Array, pt: number): void {
  buf[1] = (buf[1]! & 0x80) | (pt & 0x7f);
}

export function sequenceNumber(buf: Uint8Array): number {
  return (buf[2]! << 8) | buf[3]!;
}

export function setSequenceNumber(buf: Uint8Array, seq: number): void {
  buf[2] = (seq >>> 8) & 0xff;
  buf[3] = seq & 0xff;
}

export function timestamp(buf: Uint8Array): number {
  return readU32(buf, 4);
}

export function setTimestamp(buf: Uint8Array, ts: number): void {
  writeU32(buf, 4, ts);
}

export function ssrc(buf: Uint8Array): number {
  return readU32(buf, 8);
}

export function setSsrc(buf: Uint8Array, value: number): void {
  writeU32(buf, 8, value);
}

/** The CSRC at `index` (0-based, below csrcCount). */
export function csrc(buf: Uint8Array, index: number): number {
  return readU32(buf, 12 + 4 * index);
}

/**
 * Header length in bytes, CSRCs and the header extension included; -1 when the packet is
 * shorter than the header it announces.
 */
export function headerLength(buf: Uint8Array, length = buf.length): number {
  if (length < RTP_HEADER_MIN) return -1;
  let n = RTP_HEADER_MIN + 4 * csrcCount(buf);
  if (hasExtension(buf)) {
    if (length < n + 4) return -1;
    n += 4 + 4 * ((buf[n + 2]! << 8) | buf[n + 3]!);
  }
  return n <= length ? n : -1;
}

/** Count of padding bytes at the end (RFC 3550: the last byte), 0 without the P bit. */
export function paddingLength(buf: Uint8Array, length = buf.length): number {
  return hasPadding(buf) && length > 0 ? buf[length - 1]! : 0;
}

/** Payload length (header and padding excluded); -1 for a malformed packet. */
export function payloadLength(buf: Uint8Array, length = buf.length): number {
  const header = headerLength(buf, length);
  if (header < 0) return -1;
  const n = length - header - paddingLength(buf, length);
  return n >= 0 ? n : -1;
}

/** Fields of a header to write with {@link writeRtpHeader}. */
export interface RtpHeaderFields {
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  marker?: boolean;
  padding?: boolean;
  csrcs?: readonly number[];
}

/** Writes a header without extension at the start of `buf`; returns its length. */
export function writeRtpHeader(buf: Uint8Array, fields: RtpHeaderFields): number {
  const csrcs = fields.csrcs ?? [];
  buf[0] = 0x80 | (fields.padding ? 0x20 : 0) | (csrcs.length & 0x0f);
  buf[1] = (fields.marker ? 0x80 : 0) | (fields.payloadType & 0x7f);
  setSequenceNumber(buf, fields.sequenceNumber);
  setTimestamp(buf, fields.timestamp);
  setSsrc(buf, fields.ssrc);
  csrcs.forEach((c, i) => writeU32(buf, 12 + 4 * i, c));
  return RTP_HEADER_MIN + 4 * csrcs.length;
}

/** Big-endian unsigned 32-bit read; `>>> 0` keeps it unsigned. */
export function readU32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

export function writeU32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = (value >>> 24) & 0xff;
  buf[at + 1] = (value >>> 16) & 0xff;
  buf[at + 2] = (value >>> 8) & 0xff;
  buf[at + 3] = value & 0xff;
}

/** Signed distance a - b between 16-bit sequence numbers, in [-32768, 32767]. */
export function seqDelta(a: number, b: number): number {
  return ((a - b + 0x8000) & 0xffff) - 0x8000;
}
