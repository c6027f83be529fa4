import assert from "node:assert/strict";
import { NackCache } from "../../core/media/rtp/nack_cache.ts";
import { sequenceNumber, writeRtpHeader } from "../../core/media/rtp/header.ts";

function packet(seq: number, size = 100): Uint8Array {
  const buf = new Uint8Array(size);
  writeRtpHeader(buf, { payloadType: 96, sequenceNumber: seq, timestamp: seq * 3000, ssrc: 7 });
  buf.fill(seq & 0xff, 12);
  return buf;
}

Deno.test("NACK cache returns the packet sent under a sequence number", () => {
  const c = new NackCache(8);
  for (let seq = 65530; seq < 65530 + 8; seq++) c.put(seq & 0xffff, packet(seq & 0xffff), 100, 0);
  for (let seq = 65530; seq < 65530 + 8; seq++) {
    const got = c.get(seq & 0xffff, 10);
    assert.ok(got, `seq ${seq}`);
    assert.equal(got.length, 100);
    assert.equal(sequenceNumber(got), seq & 0xffff);
    assert.equal(got[50], seq & 0xff);
  }
});

Deno.test("NACK cache forgets overwritten, stale, oversized and never-sent packets", () => {
  const c = new NackCache(5, 1000);
  assert.equal(c.capacity, 8);
  for (let seq = 0; seq < 9; seq++) c.put(seq, packet(seq), 100, seq);
  assert.equal(c.get(0, 10), undefined, "overwritten by 8");
  assert.ok(c.get(1, 10));
  assert.equal(c.get(1, 1002), undefined, "older than a second");
  assert.equal(c.get(500, 10), undefined);
  c.put(9, packet(9, 1600), 1600, 10);
  assert.notEqual(c.get(9, 10)?.length, 1600);
  c.clear();
  assert.equal(c.get(8, 10), undefined);
});

Deno.test("NACK cache keeps a copy: later changes to the sent buffer do not leak in", () => {
  const c = new NackCache(4);
  const buf = packet(3);
  c.put(3, buf, 100, 0);
  buf.fill(0);
  assert.equal(c.get(3, 0)?.[60], 3);
});
