/**
 * Keyframe tests of the video codecs the RTP engine forwards, on payloads built by hand after
 * each RTP payload format (and the reference's rules in janus `utils.c`).
 */
import assert from "node:assert/strict";
import {
  isAv1Keyframe,
  isH264Keyframe,
  isVp9Keyframe,
  KEYFRAME_CODECS,
  keyframeTest,
} from "../../core/media/rtp/keyframes.ts";
import { isVp8Keyframe } from "../../core/media/rtp/vp8.ts";

/** Runs `test` on `bytes` placed after a 12-byte stand-in RTP header. */
function on(test: (b: Uint8Array, o: number, e: number) => boolean, bytes: number[]): boolean {
  const buf = new Uint8Array([...new Array(12).fill(0), ...bytes]);
  return test(buf, 12, buf.length);
}

Deno.test("keyframes: VP9 keyframes carry a scalability structure with a resolution", () => {
  // I=1 (15-bit picture id), B=1, V=1; SS: one layer, Y=1, 640x480.
  const key = [0x8a, 0x80, 0x01, 0x10, 0x02, 0x80, 0x01, 0xe0, 0xaa];
  assert.equal(on(isVp9Keyframe, key), true);
  // The same with a 7-bit picture id, and in non-flexible mode with layer indices.
  assert.equal(on(isVp9Keyframe, [0x8a, 0x01, 0x10, 0x02, 0x80, 0x01, 0xe0]), true);
  assert.equal(on(isVp9Keyframe, [0xaa, 0x01, 0x00, 0x05, 0x10, 0x02, 0x80, 0x01, 0xe0]), true);
  // Three spatial layers, the first sized 0x0: another layer's size counts.
  assert.equal(
    on(isVp9Keyframe, [0x0a, 0x50, 0, 0, 0, 0, 0x01, 0x40, 0x00, 0xf0, 0x02, 0x80, 0x01, 0xe0]),
    true,
  );
  // No SS (V=0): an inter frame; SS without resolutions (Y=0); cut short.
  assert.equal(on(isVp9Keyframe, [0xc8, 0x80, 0x02, 0xaa, 0xbb]), false);
  assert.equal(on(isVp9Keyframe, [0x8a, 0x80, 0x01, 0x00, 0xaa]), false);
  assert.equal(on(isVp9Keyframe, [0x8a, 0x80, 0x01, 0x10, 0x02, 0x80]), false);
  // No SS (ffmpeg's packetizer): the start of a frame (B=1) whose uncompressed header says
  // KEY_FRAME (marker 2, profile 0, shown, frame_type 0); an inter frame; profile 3 (its
  // reserved bit shifts frame_type); a packet inside a frame (B=0).
  assert.equal(on(isVp9Keyframe, [0x08, 0x82, 0x49, 0x83]), true);
  assert.equal(on(isVp9Keyframe, [0x08, 0x86, 0x00, 0x00]), false);
  assert.equal(on(isVp9Keyframe, [0x08, 0xb0, 0x00]), true);
  assert.equal(on(isVp9Keyframe, [0x08, 0xb2, 0x00]), false);
  assert.equal(on(isVp9Keyframe, [0x00, 0x82, 0x49, 0x83]), false);
  // Flexible mode, P=1: reference indices come before the SS.
  assert.equal(on(isVp9Keyframe, [0xda, 0x01, 0x03, 0x02, 0x10, 0x02, 0x80, 0x01, 0xe0]), true);
});

Deno.test("keyframes: H.264 starts on an SPS, alone, in a STAP-A or as a first fragment", () => {
  assert.equal(on(isH264Keyframe, [0x67, 0x42, 0xc0, 0x1f]), true);
  // STAP-A: SPS (4 bytes) then PPS; and PPS first, SPS second.
  assert.equal(on(isH264Keyframe, [0x78, 0, 4, 0x67, 0x42, 0xc0, 0x1f, 0, 2, 0x68, 0xce]), true);
  assert.equal(on(isH264Keyframe, [0x78, 0, 2, 0x68, 0xce, 0, 2, 0x67, 0x42]), true);
  assert.equal(on(isH264Keyframe, [0x78, 0, 2, 0x68, 0xce, 0, 2, 0x41, 0x9a]), false);
  // FU-A: the fragment starting an SPS, not a middle one; an IDR alone is not enough (the
  // decoder needs the SPS it comes after).
  assert.equal(on(isH264Keyframe, [0x7c, 0x87, 0x42, 0xc0]), true);
  assert.equal(on(isH264Keyframe, [0x7c, 0x07, 0x42, 0xc0]), false);
  assert.equal(on(isH264Keyframe, [0x7c, 0x85, 0x88, 0x84]), false);
  assert.equal(on(isH264Keyframe, [0x65, 0x88, 0x84]), false);
  assert.equal(on(isH264Keyframe, [0x41, 0x9a, 0x00]), false);
  assert.equal(on(isH264Keyframe, [0x67]), false);
});

Deno.test("keyframes: AV1 starts where the aggregation header opens a coded video sequence", () => {
  assert.equal(on(isAv1Keyframe, [0x18, 0x0a, 0x0b]), true);
  assert.equal(on(isAv1Keyframe, [0x98, 0x0a]), false);
  assert.equal(on(isAv1Keyframe, [0x10, 0x32]), false);
  assert.equal(on(isAv1Keyframe, []), false);
});

Deno.test("keyframes: one test per forwarded codec, by name in any case", () => {
  assert.deepEqual([...KEYFRAME_CODECS].sort(), ["av1", "h264", "vp8", "vp9"]);
  assert.equal(keyframeTest("VP8"), isVp8Keyframe);
  assert.equal(keyframeTest("h264"), isH264Keyframe);
  assert.equal(keyframeTest("opus"), undefined);
  assert.equal(keyframeTest("h265"), undefined);
});
