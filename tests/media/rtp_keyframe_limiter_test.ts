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

Deno.test("keyframe limiter: once a keyframe answered the last request, the next waits 400 ms, not 1 s", () => {
  const k = new KeyframeLimiter(1000);
  assert.equal(k.request(0), true);
  assert.equal(k.request(50), false, "coalesced while unanswered");
  k.keyframeReceived();
  assert.equal(k.pending, false);
  assert.equal(k.request(300), false, "inside the minimum gap");
  assert.equal(k.pending, true);
  assert.equal(k.due(399), false);
  assert.equal(k.due(400), true, "answered and 400 ms on: the held-back request goes");
  assert.equal(k.pending, false);
  k.keyframeReceived();
  assert.equal(k.request(799), false);
  assert.equal(k.request(800), true);
  assert.equal(k.request(900), false, "unanswered again: the full interval");
  assert.equal(k.due(1799), false);
  assert.equal(k.due(1800), true);
});

Deno.test("keyframe limiter: a flood answered by every keyframe costs one request per 400 ms", () => {
  const k = new KeyframeLimiter();
  let sent = 0;
  for (let t = 0; t < 2000; t += 10) {
    if (k.request(t)) sent++;
    k.keyframeReceived();
  }
  assert.equal(sent, 5);
});
