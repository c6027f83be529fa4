import assert from "node:assert/strict";
import { NackGenerator } from "../../core/media/rtp/nack_generator.ts";

Deno.test("NACK generator: gaps are asked for, retried, and forgotten on arrival", () => {
  const g = new NackGenerator({ maxTries: 3, retryMs: 40 });
  for (const seq of [65533, 65534, 1, 2, 4]) assert.equal(g.packet(seq), true);
  assert.deepEqual(g.due(0), [65535, 0, 3]);
  assert.deepEqual(g.due(20), [], "not before retryMs");
  // 0 comes back (over RTX) and is no longer asked for.
  g.packet(0);
  assert.deepEqual(g.due(40), [65535, 3]);
  assert.deepEqual(g.due(80), [65535, 3]);
  assert.deepEqual(g.due(120), [], "three tries each, then given up");
  assert.equal(g.pending, 0);
});

Deno.test("NACK generator: a gap wider than maxPending asks for a keyframe instead", () => {
  const g = new NackGenerator({ maxPending: 10 });
  g.packet(100);
  assert.equal(g.packet(105), true);
  assert.equal(g.pending, 4);
  assert.equal(g.packet(200), false);
  assert.equal(g.pending, 0);
  // The bound also holds for many small gaps: the oldest go first.
  for (let seq = 202; seq < 240; seq += 2) g.packet(seq);
  assert.equal(g.pending, 10);
  assert.equal(g.due(0)[0], 219);
});
