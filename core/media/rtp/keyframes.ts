/**
 * Keyframe detection from an RTP payload, per video codec the RTP engine forwards, with the
 * reference's rules (janus `utils.c`): a subscriber, an echo and a recording start on one.
 * - VP8 (RFC 7741): the frame's first packet with P=0 in its payload header.
 * - VP9: a packet whose scalability structure (V=1) gives a layer's resolution, which
 *   libwebrtc sends with every keyframe, or the first packet of a frame (B=1) whose
 *   uncompressed header says KEY_FRAME (ffmpeg's packetizer sends no scalability structure).
 * - H.264 (RFC 6184): an SPS, alone, starting an FU-A/FU-B or inside a STAP-A: the decoder
 *   needs it before the IDR it comes with.
 * - AV1: an aggregation header with Z=0 and N=1 (a new coded video sequence starts).
 *
 * @module
 */
import { headerLength, paddingLength } from "./header.ts";
import { isVp8Keyframe } from "./vp8.ts";

/** True when the payload in `buf[offset, end)` starts a keyframe. */
export type KeyframeTest = (buf: Uint8Array, offset: number, end: number) => boolean;

/** Whether the RTP packet `buf[0, length)` starts a keyframe by `test` (its payload only). */
export function startsKeyframe(test: KeyframeTest, buf: Uint8Array, length: number): boolean {
  const header = headerLength(buf, length);
  return header >= 0 && test(buf, header, length - paddingLength(buf, length));
}

/**
 * VP9: the payload descriptor carries a scalability structure with a non-zero resolution, or
 * (without one) it starts a frame whose uncompressed header says KEY_FRAME.
 */
export function isVp9Keyframe(buf: Uint8Array, offset: number, end: number): boolean {
  if (end - offset < 2) return false;
  const first = buf[offset]!;
  const has = (bit: number) => (first & bit) !== 0;
  const [i, p, l, f, b, v] = [has(0x80), has(0x40), has(0x20), has(0x10), has(0x08), has(0x02)];
  let at = offset + 1;
  if (i) at += at < end && buf[at]! & 0x80 ? 2 : 1;
  // Layer indices, and TL0PICIDX in non-flexible mode.
  if (l) at += f ? 1 : 2;
  if (f && p) {
    // Reference indices: up to three, each with N=1 when another follows.
    for (let n = 0; n < 3; n++) {
      if (at >= end) return false;
      if ((buf[at++]! & 0x01) === 0) break;
    }
  }
  if (at >= end) return false;
  if (!v) return b && vp9HeaderSaysKeyframe(buf[at]!);
  const ss = buf[at++]!;
  // Y: resolutions follow, one width and height per spatial layer.
  if ((ss & 0x10) === 0) return false;
  const layers = (ss >> 5) + 1;
  for (let n = 0; n < layers && at + 4 <= end; n++, at += 4) {
    if ((buf[at]! | buf[at + 1]! | buf[at + 2]! | buf[at + 3]!) !== 0) return true;
  }
  return false;
}

/**
 * The first byte of a VP9 frame's uncompressed header: frame_marker (2), profile (2, and a
 * reserved bit for profile 3), show_existing_frame, frame_type (0: KEY_FRAME).
 */
function vp9HeaderSaysKeyframe(byte: number): boolean {
  if (byte >> 6 !== 2) return false;
  const profile = ((byte >> 5) & 1) | (((byte >> 4) & 1) << 1);
  // Bits after the profile, most significant first; profile 3 has a reserved zero bit.
  let bit = profile === 3 ? 2 : 3;
  if ((byte >> bit) & 1) return false; // show_existing_frame: a frame shown again, no data.
  bit--;
  return ((byte >> bit) & 1) === 0;
}

const SPS = 7;
const STAP_A = 24;
const FU_A = 28;
const FU_B = 29;

/** H.264: an SPS NAL unit, alone, as the first fragment's type, or aggregated in a STAP-A. */
export function isH264Keyframe(buf: Uint8Array, offset: number, end: number): boolean {
  if (end - offset < 2) return false;
  const type = buf[offset]! & 0x1f;
  if (type === SPS) return true;
  if (type === FU_A || type === FU_B) {
    // The FU header's S bit: only a fragment that starts the NAL unit names its type.
    const fu = buf[offset + 1]!;
    return (fu & 0x80) !== 0 && (fu & 0x1f) === SPS;
  }
  if (type !== STAP_A) return false;
  for (let at = offset + 1; at + 2 < end;) {
    const size = (buf[at]! << 8) | buf[at + 1]!;
    if ((buf[at + 2]! & 0x1f) === SPS) return true;
    at += 2 + size;
  }
  return false;
}

/** AV1: the aggregation header starts a new coded video sequence (N=1) with a whole OBU (Z=0). */
export function isAv1Keyframe(buf: Uint8Array, offset: number, end: number): boolean {
  if (end - offset < 1) return false;
  const aggregation = buf[offset]!;
  return (aggregation & 0x80) === 0 && (aggregation & 0x08) !== 0;
}

const TESTS: Readonly<Record<string, KeyframeTest>> = {
  vp8: isVp8Keyframe,
  vp9: isVp9Keyframe,
  h264: isH264Keyframe,
  av1: isAv1Keyframe,
};

/** The video codecs whose keyframes are recognised (lower case), which the engine forwards. */
export const KEYFRAME_CODECS: ReadonlySet<string> = new Set(Object.keys(TESTS));

/** The keyframe test of `codec` (any case), undefined for one not recognised (or audio). */
export function keyframeTest(codec: string): KeyframeTest | undefined {
  return TESTS[codec.toLowerCase()];
}
