import assert from "node:assert/strict";
import {
  csrc,
  csrcCount,
  hasExtension,
  hasPadding,
  headerLength,
  isRtcp,
  isRtp,
  marker,
  payloadLength,
  payloadType,
  rtpVersion,
  seqDelta,
  sequenceNumber,
  setMarker,
  setPayloadType,
  setSequenceNumber,
  setSsrc,
  setTimestamp,
  ssrc,
  timestamp,
  writeRtpHeader,
} from "../../core/media/rtp/header.ts";

// V=2, P=1, X=1, CC=1, M=1, PT=96, seq 0xabcd, ts 0xdeadbeef, SSRC 0x01020304, CSRC 0x0a0b0c0d,
// one-byte extension profile 0xbede with 1 word, 3 payload bytes, 2 padding bytes.
const PACKET = [
  0xb1,
  0xe0,
  0xab,
  0xcd,
  0xde,
  0xad,
  0xbe,
  0xef,
  0x01,
  0x02,
  0x03,
  0x04,
  0x0a,
  0x0b,
  0x0c,
  0x0d,
  0xbe,
  0xde,
  0x00,
  0x01,
  0x10,
  0xff,
  0x00,
  0x00,
  0x61,
  0x62,
  0x63,
  0x00,
  0x02,
];

Deno.test("RTP header fields are read from a packet with CSRC, extension and padding", () => {
  const buf = new Uint8Array(PACKET);
  assert.equal(rtpVersion(buf), 2);
  assert.equal(hasPadding(buf), true);
  assert.equal(hasExtension(buf), true);
  assert.equal(csrcCount(buf), 1);
  assert.equal(marker(buf), true);
  assert.equal(payloadType(buf), 96);
  assert.equal(sequenceNumber(buf), 0xabcd);
  assert.equal(timestamp(buf), 0xdeadbeef);
  assert.equal(ssrc(buf), 0x01020304);
  assert.equal(csrc(buf, 0), 0x0a0b0c0d);
  assert.equal(headerLength(buf), 24);
  assert.equal(payloadLength(buf), 3);
  assert.equal(isRtp(buf), true);
  assert.equal(isRtcp(buf), false);
});

Deno.test("RTP header fields are written in place and leave the rest untouched", () => {
  const buf = new Uint8Array(PACKET);
  setSequenceNumber(buf, 0x1234);
  setTimestamp(buf, 0xffffffff);
  setSsrc(buf, 0x80000001);
  setPayloadType(buf, 111);
  setMarker(buf, false);
  assert.equal(sequenceNumber(buf), 0x1234);
  assert.equal(timestamp(buf), 0xffffffff);
  assert.equal(ssrc(buf), 0x80000001);
  assert.equal(payloadType(buf), 111);
  assert.equal(marker(buf), false);
  assert.deepEqual([...buf.subarray(12)], PACKET.slice(12));
  assert.equal(buf[0], 0xb1);
  setMarker(buf, true);
  assert.equal(buf[1], 0x80 | 111);
});

Deno.test("RTP header length is -1 when the packet is shorter than its header says", () => {
  const buf = new Uint8Array(PACKET);
  assert.equal(headerLength(buf, 11), -1);
  assert.equal(headerLength(buf, 18), -1);
  assert.equal(headerLength(buf, 23), -1);
  assert.equal(headerLength(buf, 24), 24);
  // Padding count larger than the payload.
  const bad = new Uint8Array(PACKET);
  bad[bad.length - 1] = 9;
  assert.equal(payloadLength(bad), -1);
});

Deno.test("RTP and RTCP are told apart by the second byte (RFC 5761)", () => {
  const rtcp = new Uint8Array([0x81, 201, 0, 1, 0, 0, 0, 1]);
  assert.equal(isRtcp(rtcp), true);
  assert.equal(isRtp(rtcp), false);
  const marked = new Uint8Array(12);
  writeRtpHeader(marked, {
    payloadType: 111,
    sequenceNumber: 1,
    timestamp: 2,
    ssrc: 3,
    marker: true,
  });
  assert.equal(isRtp(marked), true);
  assert.equal(isRtcp(marked), false);
  assert.equal(isRtp(new Uint8Array([0x40, 96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), false);
});

Deno.test("writeRtpHeader round-trips through the readers", () => {
  const buf = new Uint8Array(20);
  const n = writeRtpHeader(buf, {
    payloadType: 96,
    sequenceNumber: 65535,
    timestamp: 4000000000,
    ssrc: 0xcafebabe,
    csrcs: [7, 8],
  });
  assert.equal(n, 20);
  assert.equal(headerLength(buf), 20);
  assert.equal(csrcCount(buf), 2);
  assert.equal(csrc(buf, 1), 8);
  assert.equal(sequenceNumber(buf), 65535);
  assert.equal(timestamp(buf), 4000000000);
  assert.equal(ssrc(buf), 0xcafebabe);
});

Deno.test("seqDelta is the signed distance across the 16-bit wrap", () => {
  assert.equal(seqDelta(1, 65535), 2);
  assert.equal(seqDelta(65535, 1), -2);
  assert.equal(seqDelta(100, 100), 0);
  assert.equal(seqDelta(32767, 0), 32767);
  assert.equal(seqDelta(32768, 0), -32768);
});
