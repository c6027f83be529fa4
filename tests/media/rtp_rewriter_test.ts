import assert from "node:assert/strict";
import { MAX_BEHIND, StreamRewriter } from "../../core/media/rtp/rewriter.ts";
import {
  seqDelta,
  sequenceNumber,
  ssrc,
  timestamp,
  writeRtpHeader,
} from "../../core/media/rtp/header.ts";

const OUT_SSRC = 0x11223344;

function packet(inSsrc: number, seq: number, ts: number): Uint8Array {
  const buf = new Uint8Array(16);
  writeRtpHeader(buf, {
    payloadType: 96,
    sequenceNumber: seq & 0xffff,
    timestamp: ts >>> 0,
    ssrc: inSsrc,
  });
  buf.set([1, 2, 3, 4], 12);
  return buf;
}

/** Rewrites one packet; returns [seq, ts] or null when dropped. */
function send(
  r: StreamRewriter,
  inSsrc: number,
  seq: number,
  ts: number,
  nowMs: number,
): [number, number] | null {
  const buf = packet(inSsrc, seq, ts);
  if (!r.rewrite(buf, nowMs)) return null;
  assert.equal(ssrc(buf), OUT_SSRC);
  assert.deepEqual([...buf.subarray(12)], [1, 2, 3, 4]);
  return [sequenceNumber(buf), timestamp(buf)];
}

function video(initialSeq = 1000, initialTimestamp = 50000): StreamRewriter {
  return new StreamRewriter({ ssrc: OUT_SSRC, clockRate: 90000, initialSeq, initialTimestamp });
}

Deno.test("rewriter: one source keeps its spacing under our SSRC and bases", () => {
  const r = video();
  assert.deepEqual(send(r, 0xaaaa, 40000, 7000000, 0), [1000, 50000]);
  assert.deepEqual(send(r, 0xaaaa, 40001, 7003000, 33), [1001, 53000]);
  // A gap in the input stays a gap (the receiver should NACK it).
  assert.deepEqual(send(r, 0xaaaa, 40004, 7006000, 66), [1004, 56000]);
  // The reordered packets then arrive and keep their place.
  assert.deepEqual(send(r, 0xaaaa, 40002, 7003000, 67), [1002, 53000]);
  assert.equal(r.highestSeq, 1004);
});

Deno.test("rewriter: sequence and timestamp wrap around", () => {
  const r = video(65534, 0xfffffff0);
  assert.deepEqual(send(r, 1, 10, 100, 0), [65534, 0xfffffff0]);
  assert.deepEqual(send(r, 1, 11, 200, 1), [65535, (0xfffffff0 + 100) >>> 0]);
  assert.deepEqual(send(r, 1, 12, 300, 2), [0, (0xfffffff0 + 200) >>> 0]);
  assert.deepEqual(send(r, 1, 13, 400, 3), [1, (0xfffffff0 + 300) >>> 0]);
});

Deno.test("rewriter: the publisher's renegotiation (new SSRC, new bases) continues the stream", () => {
  const r = video();
  send(r, 0xaaaa, 500, 90000, 0);
  send(r, 0xaaaa, 501, 93000, 33);
  // New SSRC with random seq/ts bases, 100 ms after the last packet.
  const first = send(r, 0xbbbb, 61000, 123456789, 133);
  assert.deepEqual(first, [1002, 53000 + 9000]);
  assert.deepEqual(send(r, 0xbbbb, 61001, 123459789, 166), [1003, 53000 + 9000 + 3000]);
  // A late packet of the old SSRC is dropped, not taken as a switch back.
  assert.equal(send(r, 0xaaaa, 502, 96000, 170), null);
  assert.equal(r.dropped, 1);
  assert.deepEqual(send(r, 0xbbbb, 61002, 123462789, 200), [1004, 53000 + 15000]);
});

Deno.test("rewriter: a switch between sources and back stays continuous", () => {
  const r = video();
  send(r, 0xaaaa, 10, 1000, 0);
  send(r, 0xaaaa, 11, 4000, 33);
  r.resync();
  assert.deepEqual(send(r, 0xbbbb, 30000, 555, 1033), [1002, 53000 + 90000]);
  r.resync();
  // Back to the first source, whose sequence numbers moved on meanwhile.
  assert.deepEqual(send(r, 0xaaaa, 40, 91000, 2033), [1003, 53000 + 180000]);
  assert.deepEqual(send(r, 0xaaaa, 41, 94000, 2066), [1004, 53000 + 183000]);
});

Deno.test("rewriter: pause/resume collapses the gap and drops packets from before the resume", () => {
  const r = video();
  send(r, 0xaaaa, 100, 0, 0);
  send(r, 0xaaaa, 101, 3000, 33);
  // Paused: packets 102..199 are not forwarded. Resume at 200, two seconds later.
  r.resync();
  assert.deepEqual(send(r, 0xaaaa, 200, 300000, 2033), [1002, 53000 + 180000]);
  assert.deepEqual(send(r, 0xaaaa, 202, 306000, 2100), [1004, 53000 + 186000]);
  // 199 arrives late: it would take 1001, already sent before the pause.
  assert.equal(send(r, 0xaaaa, 199, 297000, 2101), null);
  // 201 belongs to this epoch and fills its hole.
  assert.deepEqual(send(r, 0xaaaa, 201, 303000, 2102), [1003, 53000 + 183000]);
});

Deno.test("rewriter: outgoing sequence numbers never go back across many switches", () => {
  const r = video(65000, 0);
  let highest = -1;
  let now = 0;
  for (let source = 0; source < 50; source++) {
    r.resync();
    const base = (source * 7919) & 0xffff;
    for (let i = 0; i < 40; i++) {
      now += 10;
      const out = send(r, 0x1000 + source, base + i, source * 1000 + i * 90, now);
      assert.ok(out);
      if (highest >= 0) assert.equal(seqDelta(out[0], highest), 1);
      highest = out[0];
    }
    // A straggler of this source from before its first packet is refused.
    assert.equal(send(r, 0x1000 + source, base - 1, 0, now), null);
  }
});

Deno.test("rewriter: packets too far behind the highest one are dropped (SRTP window)", () => {
  const r = video(0, 0);
  for (let i = 0; i <= 2000; i++) send(r, 1, i, i * 3000, i);
  assert.ok(send(r, 1, 2000 - MAX_BEHIND, 0, 2001));
  assert.equal(send(r, 1, 2000 - MAX_BEHIND - 1, 0, 2001), null);
  // A long run moves the floor along: no drop after 40000 packets (past a signed wrap).
  for (let i = 2001; i < 42000; i++) assert.ok(send(r, 1, i, i * 3000, i));
});
