import assert from "node:assert/strict";
import { ReceiveStats } from "../../core/media/rtp/receive_stats.ts";

Deno.test("receive stats: loss, interval fraction and extended sequence across the wrap", () => {
  const s = new ReceiveStats(42, 90000);
  assert.equal(s.report(0), undefined, "nothing received yet");
  // 65530..65535, 0..13 with 3 and 7 missing: 20 expected, 18 received.
  const seqs = [...Array(20).keys()].map((i) => (65530 + i) & 0xffff).filter((q) =>
    q !== 3 && q !== 7
  );
  for (const [i, seq] of seqs.entries()) s.packet(seq, i * 3000, i * 33.3333);
  const first = s.report(700);
  assert.ok(first);
  assert.equal(first.ssrc, 42);
  assert.equal(first.highestSeq, 0x10000 + 13);
  assert.equal(first.packetsLost, 2);
  assert.equal(first.fractionLost, Math.floor((2 * 256) / 20));
  // Next interval without loss: cumulative stays, fraction goes to 0.
  for (let seq = 14; seq < 24; seq++) s.packet(seq, seq * 3000, 700 + seq);
  const second = s.report(1200);
  assert.equal(second?.packetsLost, 2);
  assert.equal(second?.fractionLost, 0);
  assert.equal(second?.lastSr, 0);
  assert.equal(second?.delaySinceLastSr, 0);
});

Deno.test("receive stats: LSR is the middle of the SR's NTP time, DLSR in 1/65536 s", () => {
  const s = new ReceiveStats(1, 48000);
  s.packet(100, 0, 0);
  s.senderReport(0x11121418, 0x22242628, 1000);
  const r = s.report(1500);
  assert.equal(r?.lastSr, 0x14182224);
  assert.equal(r?.delaySinceLastSr, 32768);
});

Deno.test("receive stats: steady arrival keeps jitter near 0, uneven arrival raises it", () => {
  const steady = new ReceiveStats(1, 90000);
  const uneven = new ReceiveStats(2, 90000);
  for (let i = 0; i < 200; i++) {
    steady.packet(i, i * 3000, i * (1000 / 30));
    uneven.packet(i, i * 3000, i * (1000 / 30) + (i % 2 === 0 ? 0 : 15));
  }
  assert.ok((steady.report(10000)?.jitter ?? -1) < 2);
  assert.ok((uneven.report(10000)?.jitter ?? 0) > 1000);
});
