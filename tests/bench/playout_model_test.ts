/**
 * The AudioBridge bench's receive model (bench/audiobridge/playout_model.ts): frames in time
 * play, a late or missing frame is concealed once its slot has come, duplicates count once.
 *
 * Run: `deno test -A tests/bench/playout_model_test.ts`
 */
import assert from "node:assert/strict";
import { PlayoutModel } from "../../bench/audiobridge/playout_model.ts";

const model = () => new PlayoutModel({ delayMs: 60, periodMs: 20, frameTicks: 960 });
const TS0 = 0xffff_f000; // wraps past 2^32 within the stream

Deno.test("playout model: a steady stream plays whole; a late and a missing frame are concealed", () => {
  const m = model();
  // Frames 0..9 each on time, 20 ms apart, from t=1000.
  for (let k = 0; k < 10; k++) assert.equal(m.arrived((TS0 + 960 * k) >>> 0, 1000 + 20 * k), true);
  // Slot of frame k: 1000 + 60 + 20k. At 1240 frames 0..9 have played.
  assert.deepEqual(m.counts(1240), { played: 10, concealed: 0, lost: 0 });
  // Frame 10 never comes; frame 11 arrives 70 ms late (slot 1280, arrival 1350); 12 on time.
  assert.equal(m.arrived((TS0 + 960 * 11) >>> 0, 1350), false);
  assert.equal(m.arrived((TS0 + 960 * 12) >>> 0, 1300), true);
  assert.deepEqual(m.counts(1300), { played: 13, concealed: 2, lost: 1 });
  // A duplicate of an in-time frame is not counted twice.
  assert.equal(m.arrived((TS0 + 960 * 12) >>> 0, 1301), false);
  assert.deepEqual(m.counts(1300), { played: 13, concealed: 2, lost: 1 });
});

Deno.test("playout model: nothing after the start is concealed as time passes", () => {
  const m = model();
  assert.deepEqual(m.counts(5000), { played: 0, concealed: 0, lost: 0 });
  m.arrived(TS0, 1000);
  assert.deepEqual(m.counts(1060), { played: 1, concealed: 0, lost: 0 });
  assert.deepEqual(m.counts(2060), { played: 51, concealed: 50, lost: 0 });
});
