import assert from "node:assert/strict";
import { KeyframeLimiter } from "../../core/media/rtp/keyframe_limiter.ts";

Deno.test("keyframe limiter: one request per second, held-back ones come due", () => {
  const k = new KeyframeLimiter(1000);
  assert.equal(k.request(5000), true);
  assert.equal(k.request(5100), false);
  assert.equal(k.request(5900), false);
  assert.equal(k.pending, true);
  assert.equal(k.due(5999), false);
  assert.equal(k.due(6000), true);
  assert.equal(k.due(7500), false, "sent once");
  assert.equal(k.request(6500), false);
  assert.equal(k.request(7000), true);
  assert.equal(k.pending, false);
});

Deno.test("keyframe limiter: a keyframe answers a held-back request", () => {
  const k = new KeyframeLimiter(1000);
  assert.equal(k.request(0), true);
  assert.equal(k.request(10), false);
  k.keyframeReceived();
  assert.equal(k.due(2000), false);
});

Deno.test("keyframe limiter: 30 subscribers in a second cost one PLI and one follow-up", () => {
  const k = new KeyframeLimiter();
  let sent = 0;
  for (let t = 0; t < 1000; t += 33) if (k.request(t)) sent++;
  for (let t = 1000; t < 3000; t += 100) if (k.due(t)) sent++;
  assert.equal(sent, 2);
});
