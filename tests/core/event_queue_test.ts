import assert from "node:assert/strict";
import { EventQueue } from "../../core/event_queue.ts";

Deno.test("EventQueue.receive() returns queued events up to max", async () => {
  const q = new EventQueue({ limit: 10 });
  for (let i = 0; i < 5; i++) q.push({ janus: "event", n: i });
  const signal = new AbortController().signal;
  assert.deepEqual((await q.receive({ max: 2, signal })).map((e) => e.n), [0, 1]);
  assert.deepEqual((await q.receive({ max: 10, signal })).map((e) => e.n), [2, 3, 4]);
});

Deno.test("EventQueue.receive() waits for the next event and resolves [] on abort", async () => {
  const q = new EventQueue({ limit: 10 });
  const abort = new AbortController();
  const waiting = q.receive({ max: 1, signal: abort.signal });
  q.push({ janus: "event" });
  assert.equal((await waiting).length, 1);
  const idle = q.receive({ max: 1, signal: abort.signal });
  abort.abort();
  assert.deepEqual(await idle, []);
  assert.equal(q.waiting, 0);
});

Deno.test("EventQueue gives an event to the earliest poller and [] to the others", async () => {
  const q = new EventQueue({ limit: 10 });
  const signal = new AbortController().signal;
  const first = q.receive({ max: 1, signal });
  const second = q.receive({ max: 1, signal });
  q.push({ janus: "event" });
  assert.equal((await first).length, 1);
  assert.deepEqual(await second, []);
});

Deno.test("EventQueue drops the oldest events past its limit", async () => {
  const q = new EventQueue({ limit: 3 });
  for (let i = 0; i < 5; i++) q.push({ n: i });
  assert.equal(q.dropped, 2);
  const got = await q.receive({ max: 10, signal: new AbortController().signal });
  assert.deepEqual(got.map((e) => e.n), [2, 3, 4]);
});

Deno.test("EventQueue.setSink() flushes queued events and then pushes directly", () => {
  const q = new EventQueue({ limit: 10 });
  q.push({ n: 1 });
  const seen: unknown[] = [];
  q.setSink((e) => seen.push(e.n));
  q.push({ n: 2 });
  assert.deepEqual(seen, [1, 2]);
  assert.equal(q.size, 0);
});

Deno.test("EventQueue.close() drops events and ignores later pushes", async () => {
  const q = new EventQueue({ limit: 10 });
  q.push({ n: 1 });
  q.close();
  q.push({ n: 2 });
  assert.deepEqual(await q.receive({ max: 5, signal: new AbortController().signal }), []);
});
