import assert from "node:assert/strict";
import { writeRtpHeader } from "../../core/media/rtp/header.ts";
import { payloadTypesOf, RtpCounter } from "../../bench/media/rtp_counter.ts";

const OFFER = [
  "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  "a=rtpmap:111 opus/48000/2",
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97",
  "a=rtpmap:96 VP8/90000",
  "a=rtpmap:97 rtx/90000",
  "a=fmtp:97 apt=96",
].join("\r\n");

// VP8 keyframe payload (descriptor S=1, then frame tag P=0, start code, 640x480).
const KEY = [0x10, 0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01];
// Continuation of a frame (S=0).
const MORE = [0x00, 1, 2, 3];

function packet(pt: number, payload: number[], marker = false, seq = 1): Uint8Array {
  const buf = new Uint8Array(12 + payload.length);
  writeRtpHeader(buf, { payloadType: pt, sequenceNumber: seq, timestamp: 0, ssrc: 7, marker });
  buf.set(payload, 12);
  return buf;
}

Deno.test("bench RtpCounter: payload types come from the offer's rtpmap lines", () => {
  assert.deepEqual([...payloadTypesOf(OFFER, "VP8")], [96]);
  assert.deepEqual([...payloadTypesOf(OFFER, "opus")], [111]);
  assert.deepEqual([...payloadTypesOf(OFFER, "H264")], []);
});

Deno.test("bench RtpCounter: frames end on a marker bit, size from the keyframe header", () => {
  const c = new RtpCounter(OFFER);
  c.onPacket(packet(96, KEY));
  c.onPacket(packet(96, MORE, true));
  c.onPacket(packet(96, MORE));
  c.onPacket(packet(96, MORE, true));
  c.onPacket(packet(111, [1, 2, 3], true));
  c.onPacket(packet(97, [0, 1, ...MORE], true)); // RTX resend: not counted
  const rtcp = new Uint8Array([0x80, 201, 0, 1, 0, 0, 0, 7]);
  c.onPacket(rtcp);
  assert.equal(c.counts.videoPackets, 4);
  assert.equal(c.counts.frames, 2);
  assert.equal(c.counts.keyframes, 1);
  assert.deepEqual([c.counts.width, c.counts.height], [640, 480]);
  assert.equal(c.counts.audioPackets, 1);
  assert.equal(c.counts.videoBytes, 4 * 12 + KEY.length + 3 * MORE.length);
});

Deno.test("bench RtpCounter: a keyframe is asked for once a second until one comes", () => {
  const c = new RtpCounter(OFFER);
  assert.equal(c.wantsKeyframe(0), false, "no video yet");
  c.onPacket(packet(96, MORE, true));
  assert.equal(c.wantsKeyframe(0), true);
  assert.equal(c.wantsKeyframe(500), false);
  assert.equal(c.wantsKeyframe(1000), true);
  c.onPacket(packet(96, KEY, true));
  assert.equal(c.wantsKeyframe(5000), false);
});
