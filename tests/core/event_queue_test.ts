import assert from "node:assert/strict";
import { eventBytes, EventQueue } from "../../core/event_queue.ts";
import type { JsonObject } from "../../core/protocol.ts";

const BIG = 1024 * 1024;

function never(): AbortSignal {
  return new AbortController().signal;
}

Deno.test("EventQueue.receive() returns queued events up to max", async () => {
  const q = new EventQueue({ maxBytes: BIG });
  for (let i = 0; i < 5; i++) q.push({ janus: "event", n: i });
  assert.deepEqual((await q.receive({ max: 2, signal: never() })).map((e) => e.n), [0, 1]);
  assert.deepEqual((await q.receive({ max: 10, signal: never() })).map((e) => e.n), [2, 3, 4]);
});

Deno.test("EventQueue.receive() waits for the next event and resolves [] on abort", async () => {
  const q = new EventQueue({ maxBytes: BIG });
  const abort = new AbortController();
  const waiting = q.receive({ max: 1, signal: abort.signal });
  q.push({ janus: "event" });
  assert.equal((await waiting).length, 1);
  assert.equal(q.bytes, 0, "an event handed to a waiting poll holds no bytes");
  const idle = q.receive({ max: 1, signal: abort.signal });
  abort.abort();
  assert.deepEqual(await idle, []);
  assert.equal(q.waiting, 0);
});

Deno.test("EventQueue gives an event to the earliest poller and [] to the others", async () => {
  const q = new EventQueue({ maxBytes: BIG });
  const first = q.receive({ max: 1, signal: never() });
  const second = q.receive({ max: 1, signal: never() });
  q.push({ janus: "event" });
  assert.equal((await first).length, 1);
  assert.deepEqual(await second, []);
});

Deno.test("EventQueue keeps 10,000 events in order, counting their JSON bytes", () => {
  const q = new EventQueue({ maxBytes: 16 * 1024 * 1024 });
  let expected = 0;
  for (let i = 0; i < 10_000; i++) {
    const event = { janus: "event", sender: 1, plugindata: { data: { n: i } } };
    expected += eventBytes(event);
    q.push(event);
  }
  assert.equal(q.size, 10_000);
  assert.equal(q.bytes, expected);
  assert.equal(q.overflowed, false);
  const seen: number[] = [];
  for (let batch = q.take(333); batch.length > 0; batch = q.take(333)) {
    for (const e of batch) seen.push(((e.plugindata as JsonObject).data as JsonObject).n as number);
  }
  assert.deepEqual(seen, Array.from({ length: 10_000 }, (_, i) => i));
  assert.equal(q.bytes, 0, "take() releases the bytes of what it hands out");
});

Deno.test("EventQueue past its bound drops nothing from the middle: it overflows once", async () => {
  const event = (n: number) => ({ janus: "event", n });
  const size = eventBytes(event(0));
  const overflows: { bytes: number; events: number }[] = [];
  const q = new EventQueue({ maxBytes: size * 3, onOverflow: (info) => overflows.push(info) });
  for (let i = 0; i < 3; i++) q.push(event(i));
  assert.equal(q.bytes, size * 3);
  assert.deepEqual(overflows, [], "exactly at the bound is still fine");
  q.push(event(3));
  assert.deepEqual(overflows, [{ bytes: size * 4, events: 4 }]);
  assert.equal(q.overflowed, true);
  assert.equal(q.size, 0);
  assert.equal(q.bytes, 0, "an overflowed queue holds nothing");
  q.push(event(4));
  assert.equal(overflows.length, 1, "onOverflow is called once");
  assert.equal(q.size, 0, "an overflowed queue takes nothing more");
  assert.deepEqual(await q.receive({ max: 10, signal: AbortSignal.timeout(20) }), []);
});

Deno.test("EventQueue overflows on a single event larger than its bound", () => {
  let overflowed = 0;
  const q = new EventQueue({ maxBytes: 50, onOverflow: () => overflowed++ });
  q.push({ janus: "event", data: "x".repeat(100) });
  assert.equal(overflowed, 1);
  assert.equal(q.size, 0);
});

Deno.test("EventQueue frees its bound as polls take events", () => {
  const event = { janus: "event" };
  const size = eventBytes(event);
  let overflowed = 0;
  const q = new EventQueue({ maxBytes: size * 2, onOverflow: () => overflowed++ });
  for (let i = 0; i < 100; i++) {
    q.push(event);
    q.push(event);
    assert.equal(q.take(5).length, 2);
  }
  assert.equal(overflowed, 0, "a drained queue never reaches its bound");
});

Deno.test("EventQueue.setSink() flushes queued events and then pushes directly", () => {
  const q = new EventQueue({ maxBytes: BIG });
  q.push({ n: 1 });
  const seen: unknown[] = [];
  q.setSink((e) => seen.push(e.n));
  q.push({ n: 2 });
  assert.deepEqual(seen, [1, 2]);
  assert.equal(q.size, 0);
  assert.equal(q.bytes, 0);
});

Deno.test("EventQueue with a sink (WebSocket) never counts bytes nor overflows", () => {
  let overflowed = 0;
  const q = new EventQueue({ maxBytes: 100, onOverflow: () => overflowed++ });
  let delivered = 0;
  q.setSink(() => delivered++);
  for (let i = 0; i < 1000; i++) q.push({ janus: "event", data: "x".repeat(200) });
  assert.equal(delivered, 1000);
  assert.equal(overflowed, 0);
  assert.equal(q.bytes, 0);
});

Deno.test("EventQueue.close() drops events, frees their bytes and ignores later pushes", async () => {
  const q = new EventQueue({ maxBytes: BIG });
  q.push({ n: 1 });
  assert.ok(q.bytes > 0);
  q.close();
  assert.equal(q.bytes, 0);
  q.push({ n: 2 });
  assert.equal(q.bytes, 0);
  assert.deepEqual(await q.receive({ max: 5, signal: never() }), []);
});
