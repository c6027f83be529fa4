/**
 * VP8 keyframe detection from the RTP payload (RFC 7741): the first packet of a frame (S=1,
 * partition 0) whose VP8 payload header has P=0 starts a keyframe. A subscriber starts on one.
 *
 * @module
 */

/** True when the VP8 RTP payload in `buf[offset, end)` starts a keyframe. */
export function isVp8Keyframe(buf: Uint8Array, offset: number, end: number): boolean {
  if (end - offset < 1) return false;
  const first = buf[offset]!;
  // S bit and partition index 0: the start of the frame.
  if ((first & 0x10) === 0 || (first & 0x0f) !== 0) return false;
  let at = offset + 1;
  if (first & 0x80) {
    // X: extension byte with I (PictureID), L (TL0PICIDX), T/K (TID/KEYIDX).
    if (at >= end) return false;
    const x = buf[at++]!;
    if (x & 0x80) {
      if (at >= end) return false;
      at += buf[at]! & 0x80 ? 2 : 1;
    }
    if (x & 0x40) at++;
    if (x & 0x30) at++;
  }
  if (at >= end) return false;
  // VP8 payload header (RFC 6386 section 9.1): P bit is 0 for a keyframe.
  return (buf[at]! & 0x01) === 0;
}

/** Width and height from a VP8 keyframe's payload, or null when it is not one. */
export function vp8KeyframeSize(
  buf: Uint8Array,
  offset: number,
  end: number,
): { width: number; height: number } | null {
  if (!isVp8Keyframe(buf, offset, end)) return null;
  let at = offset + 1;
  if (buf[offset]! & 0x80) {
    const x = buf[at++]!;
    if (x & 0x80) at += buf[at]! & 0x80 ? 2 : 1;
    if (x & 0x40) at++;
    if (x & 0x30) at++;
  }
  // 3-byte frame tag, 3-byte start code 9d 01 2a, then 14-bit width and height.
  if (end - at < 10 || buf[at + 3] !== 0x9d || buf[at + 4] !== 0x01 || buf[at + 5] !== 0x2a) {
    return null;
  }
  return {
    width: (buf[at + 6]! | (buf[at + 7]! << 8)) & 0x3fff,
    height: (buf[at + 8]! | (buf[at + 9]! << 8)) & 0x3fff,
  };
}
