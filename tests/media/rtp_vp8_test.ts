import assert from "node:assert/strict";
import { isVp8Keyframe, vp8KeyframeSize } from "../../core/media/rtp/vp8.ts";

// VP8 keyframe header (RFC 6386 9.1): frame tag with P=0, start code, 640x480.
const KEY = [0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01];
// Interframe: frame tag with P=1.
const INTER = [0x31, 0x10, 0x00];

function check(payload: number[]): boolean {
  const buf = new Uint8Array([0, 0, 0, ...payload]);
  return isVp8Keyframe(buf, 3, buf.length);
}

Deno.test("VP8: keyframe found behind every payload descriptor layout (RFC 7741)", () => {
  assert.equal(check([0x10, ...KEY]), true, "S=1, no extensions");
  // X, I with 15-bit PictureID (M=1), L, T/K: descriptor of 6 bytes.
  assert.equal(check([0x90, 0xf0, 0x80 | 0x12, 0x34, 0x05, 0x40, ...KEY]), true);
  // X, I with 7-bit PictureID only.
  assert.equal(check([0x90, 0x80, 0x12, ...KEY]), true);
  // X with K only (key index).
  assert.equal(check([0x90, 0x10, 0x03, ...KEY]), true);
});

Deno.test("VP8: interframes, continuations and other partitions are not keyframes", () => {
  assert.equal(check([0x10, ...INTER]), false);
  assert.equal(check([0x90, 0x80, 0x12, ...INTER]), false);
  assert.equal(check([0x00, ...KEY]), false, "S=0: not the frame's first packet");
  assert.equal(check([0x11, ...KEY]), false, "partition 1");
  assert.equal(check([]), false);
  assert.equal(check([0x90, 0xf0]), false, "truncated descriptor");
});

Deno.test("VP8: keyframe size read from the frame header", () => {
  const buf = new Uint8Array([0x90, 0x80, 0x7f, ...KEY]);
  assert.deepEqual(vp8KeyframeSize(buf, 0, buf.length), { width: 640, height: 480 });
  const inter = new Uint8Array([0x10, ...INTER]);
  assert.equal(vp8KeyframeSize(inter, 0, inter.length), null);
});
