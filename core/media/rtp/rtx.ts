/**
 * RTX (RFC 4588): a retransmission carries the original sequence number (OSN) in the first two
 * payload bytes, on its own SSRC and payload type. Unwrapping restores the original packet in
 * place so it is forwarded like any other.
 *
 * @module
 */
import {
  headerLength,
  paddingLength,
  setPayloadType,
  setSequenceNumber,
  setSsrc,
} from "./header.ts";

/**
 * Turns the RTX packet in `buf[0, length)` back into the original packet: sequence number from
 * the OSN, `payloadType` and `ssrc` of the original stream, payload moved up two bytes. Returns
 * the new length, or -1 when there is no OSN (a padding-only bandwidth probe: drop it).
 */
export function unwrapRtx(
  buf: Uint8Array,
  length: number,
  payloadType: number,
  ssrc: number,
): number {
  const header = headerLength(buf, length);
  if (header < 0 || length - header - paddingLength(buf, length) < 2) return -1;
  const osn = (buf[header]! << 8) | buf[header + 1]!;
  buf.copyWithin(header, header + 2, length);
  setSequenceNumber(buf, osn);
  setPayloadType(buf, payloadType);
  setSsrc(buf, ssrc);
  return length - 2;
}

/**
 * Wraps the original packet in `buf[0, length)` as RTX in place (buf needs two spare bytes):
 * the OSN goes in front of the payload. Returns the new length.
 */
export function wrapRtx(
  buf: Uint8Array,
  length: number,
  rtxPayloadType: number,
  rtxSsrc: number,
  rtxSeq: number,
): number {
  const header = headerLength(buf, length);
  if (header < 0 || buf.length < length + 2) return -1;
  const osn = (buf[2]! << 8) | buf[3]!;
  buf.copyWithin(header + 2, header, length);
  buf[header] = osn >> 8;
  buf[header + 1] = osn & 0xff;
  setSequenceNumber(buf, rtxSeq);
  setPayloadType(buf, rtxPayloadType);
  setSsrc(buf, rtxSsrc);
  return length + 2;
}
