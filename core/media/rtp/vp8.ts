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

/** The identifiers of a VP8 payload descriptor (RFC 7741 section 4.2), with where they are. */
export interface Vp8Descriptor {
  /** PictureID (7 or 15 bits), -1 when absent. */
  pictureId: number;
  /** Whether the PictureID is 15 bits (M bit). */
  longPictureId: boolean;
  /** Offset of the PictureID's first byte in the buffer. */
  pictureIdAt: number;
  /** TL0PICIDX, -1 when absent. */
  tl0PicIdx: number;
  tl0PicIdxAt: number;
  /** Temporal layer index (0 when the descriptor has no T bit). */
  tid: number;
}

/** A descriptor with nothing read yet, for `vp8Descriptor` to fill. */
export function emptyVp8Descriptor(): Vp8Descriptor {
  return {
    pictureId: -1,
    longPictureId: false,
    pictureIdAt: -1,
    tl0PicIdx: -1,
    tl0PicIdxAt: -1,
    tid: 0,
  };
}

/**
 * Reads the VP8 payload descriptor in `buf[offset, end)` into `out` (a new object by default;
 * a per-packet caller passes its own, reused); null when it is cut short.
 */
export function vp8Descriptor(
  buf: Uint8Array,
  offset: number,
  end: number,
  out: Vp8Descriptor = emptyVp8Descriptor(),
): Vp8Descriptor | null {
  if (end - offset < 1) return null;
  out.pictureId = -1;
  out.longPictureId = false;
  out.pictureIdAt = -1;
  out.tl0PicIdx = -1;
  out.tl0PicIdxAt = -1;
  out.tid = 0;
  if ((buf[offset]! & 0x80) === 0) return out;
  let at = offset + 1;
  if (at >= end) return null;
  const x = buf[at++]!;
  if (x & 0x80) {
    if (at >= end) return null;
    out.pictureIdAt = at;
    if (buf[at]! & 0x80) {
      if (at + 1 >= end) return null;
      out.longPictureId = true;
      out.pictureId = ((buf[at]! & 0x7f) << 8) | buf[at + 1]!;
      at += 2;
    } else {
      out.pictureId = buf[at]!;
      at += 1;
    }
  }
  if (x & 0x40) {
    if (at >= end) return null;
    out.tl0PicIdxAt = at;
    out.tl0PicIdx = buf[at++]!;
  }
  if (x & 0x30) {
    if (at >= end) return null;
    if (x & 0x20) out.tid = (buf[at]! & 0xc0) >> 6;
  }
  return out;
}

/**
 * Keeps a VP8 stream's PictureID and TL0PICIDX continuous when the layer it comes from
 * changes (Janus's `janus_vp8_simulcast_descriptor_update`): after a switch they go on from
 * the last ones sent, so the receiver sees one stream.
 */
export class Vp8PictureContext {
  #lastPicId = 0;
  #basePicId = 0;
  #basePicIdPrev = 0;
  #lastTl0 = 0;
  #baseTl0 = 0;
  #baseTl0Prev = 0;

  /** Rewrites the descriptor `d` of `buf` in place; `switched`: its layer just changed. */
  update(buf: Uint8Array, d: Vp8Descriptor, switched: boolean): void {
    const picId = Math.max(0, d.pictureId);
    const tl0 = Math.max(0, d.tl0PicIdx);
    if (switched) {
      this.#basePicIdPrev = this.#lastPicId;
      this.#basePicId = picId;
      this.#baseTl0Prev = this.#lastTl0;
      this.#baseTl0 = tl0;
    }
    const mask = d.longPictureId ? 0x7fff : 0x7f;
    this.#lastPicId = (picId - this.#basePicId + this.#basePicIdPrev + 1) & mask;
    this.#lastTl0 = (tl0 - this.#baseTl0 + this.#baseTl0Prev + 1) & 0xff;
    if (d.pictureIdAt >= 0) {
      if (d.longPictureId) {
        buf[d.pictureIdAt] = 0x80 | (this.#lastPicId >> 8);
        buf[d.pictureIdAt + 1] = this.#lastPicId & 0xff;
      } else {
        buf[d.pictureIdAt] = this.#lastPicId;
      }
    }
    if (d.tl0PicIdxAt >= 0) buf[d.tl0PicIdxAt] = this.#lastTl0;
  }
}
