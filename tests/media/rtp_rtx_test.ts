import assert from "node:assert/strict";
import { unwrapRtx, wrapRtx } from "../../core/media/rtp/rtx.ts";
import {
  payloadType,
  sequenceNumber,
  ssrc,
  timestamp,
  writeRtpHeader,
} from "../../core/media/rtp/header.ts";

Deno.test("RTX unwrap restores sequence number, payload type, SSRC and payload (RFC 4588)", () => {
  // RTX PT 97 on SSRC 0xbbbb, its own seq 7; OSN 0x1234; original payload 0xaa 0xbb 0xcc.
  const buf = new Uint8Array(32);
  writeRtpHeader(buf, {
    payloadType: 97,
    sequenceNumber: 7,
    timestamp: 90000,
    ssrc: 0xbbbb,
    marker: true,
  });
  buf.set([0x12, 0x34, 0xaa, 0xbb, 0xcc], 12);
  const n = unwrapRtx(buf, 17, 96, 0xaaaa);
  assert.equal(n, 15);
  assert.equal(sequenceNumber(buf), 0x1234);
  assert.equal(payloadType(buf), 96);
  assert.equal(ssrc(buf), 0xaaaa);
  assert.equal(timestamp(buf), 90000);
  assert.equal(buf[1]! & 0x80, 0x80, "marker kept");
  assert.deepEqual([...buf.subarray(12, 15)], [0xaa, 0xbb, 0xcc]);
});

Deno.test("RTX wrap and unwrap are inverses", () => {
  const original = new Uint8Array(40);
  writeRtpHeader(original, { payloadType: 96, sequenceNumber: 65535, timestamp: 1, ssrc: 5 });
  for (let i = 12; i < 30; i++) original[i] = i;
  const buf = new Uint8Array(original);
  const wrapped = wrapRtx(buf, 30, 97, 6, 100);
  assert.equal(wrapped, 32);
  assert.equal(sequenceNumber(buf), 100);
  assert.equal(payloadType(buf), 97);
  assert.deepEqual([buf[12], buf[13]], [0xff, 0xff]);
  assert.equal(unwrapRtx(buf, wrapped, 96, 5), 30);
  assert.deepEqual([...buf.subarray(0, 30)], [...original.subarray(0, 30)]);
});

Deno.test("RTX padding-only probes and broken packets are refused", () => {
  // Padding probe: P bit, no OSN, 4 padding bytes.
  const probe = new Uint8Array(16);
  writeRtpHeader(probe, {
    payloadType: 97,
    sequenceNumber: 1,
    timestamp: 0,
    ssrc: 1,
    padding: true,
  });
  probe[15] = 4;
  assert.equal(unwrapRtx(probe, 16, 96, 2), -1);
  assert.equal(unwrapRtx(new Uint8Array(13), 13, 96, 2), -1);
});
