import assert from "node:assert/strict";
import {
  type Handlers,
  RpcClient,
  type RpcClientOptions,
  RpcClosedError,
  RpcServer,
  RpcTimeoutError,
} from "../../core/media/rpc.ts";
import { fromWire, toWire } from "../../core/media/protocol.ts";

interface Methods {
  add: { params: { a: number; b: number }; result: number };
  fail: { params: null; result: null };
}
interface Events {
  tick: { n: number };
}

function pair(handlers: Handlers<Methods>, options: RpcClientOptions = {}) {
  const up = new TransformStream<Uint8Array, Uint8Array>();
  const down = new TransformStream<Uint8Array, Uint8Array>();
  const server = new RpcServer<Methods, Events>(down.writable, handlers);
  const serving = server.serve(up.readable);
  const events: Events["tick"][] = [];
  const client = new RpcClient<Methods, Events>(
    { readable: down.readable, writable: up.writable },
    (m) => void events.push(m.params),
    options,
  );
  return { server, serving, client, events };
}

Deno.test("RpcClient gets results, remote errors and events in order", async () => {
  const { server, serving, client, events } = pair({
    add: ({ a, b }) => Promise.resolve(a + b),
    fail: () => Promise.reject(new Error("nope")),
  });
  server.notify("tick", { n: 1 });
  assert.equal(await client.request("add", { a: 2, b: 3 }), 5);
  await assert.rejects(client.request("fail", null), /nope/);
  assert.deepEqual(events, [{ n: 1 }]);
  await client.close();
  await serving;
  await server.close();
  await client.done;
  await assert.rejects(client.request("add", { a: 1, b: 1 }), RpcClosedError);
});

Deno.test("pending requests reject when the other side ends", async () => {
  const never = Promise.withResolvers<number>();
  const { server, serving, client } = pair({
    add: () => never.promise,
    fail: () => Promise.resolve(null),
  });
  const pending = client.request("add", { a: 1, b: 2 });
  await server.close();
  await assert.rejects(pending, RpcClosedError);
  await client.close();
  await serving;
  never.resolve(0);
});

Deno.test("a request past its deadline rejects with RpcTimeoutError; answered ones do not", async () => {
  const never = Promise.withResolvers<number>();
  const timedOut: string[] = [];
  const { server, serving, client } = pair({
    add: ({ a, b }) => a === 0 ? never.promise : Promise.resolve(a + b),
    fail: () => Promise.resolve(null),
  }, { timeoutMs: 200, onTimeout: (method) => void timedOut.push(method) });
  // Answered requests clear their deadline (the test's timer sanitizer would see a leak).
  for (let i = 1; i <= 20; i++) assert.equal(await client.request("add", { a: i, b: 1 }), i + 1);
  assert.equal(client.pending, 0);
  const started = performance.now();
  await assert.rejects(client.request("add", { a: 0, b: 0 }), RpcTimeoutError);
  const waited = performance.now() - started;
  assert.ok(waited >= 190 && waited < 1000, `rejected after ${waited.toFixed(0)} ms`);
  assert.deepEqual(timedOut, ["add"]);
  assert.equal(client.pending, 0);
  // A call allowed more time (an offer that gathers candidates) waits that much longer.
  const longer = performance.now();
  await assert.rejects(client.request("add", { a: 0, b: 0 }, { extraMs: 300 }), /in 500 ms/);
  const waitedLonger = performance.now() - longer;
  assert.ok(waitedLonger >= 490, `rejected after ${waitedLonger.toFixed(0)} ms`);
  assert.deepEqual(timedOut, ["add", "add"]);
  await client.close();
  await serving;
  await server.close();
  await client.done;
  never.resolve(0);
});

Deno.test("abort rejects every pending request at once and clears their deadlines", async () => {
  const never = Promise.withResolvers<number>();
  const { server, serving, client } = pair({
    add: () => never.promise,
    fail: () => Promise.resolve(null),
  }, { timeoutMs: 60_000 });
  const calls = [1, 2, 3].map((a) => client.request("add", { a, b: 0 }));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(client.pending, 3);
  client.abort(new RpcClosedError("Worker gone"));
  for (const call of calls) await assert.rejects(call, /Worker gone/);
  assert.equal(client.pending, 0);
  await assert.rejects(client.request("add", { a: 1, b: 1 }), /Worker gone/);
  await serving;
  await server.close();
  await client.done;
  never.resolve(0);
});

Deno.test("a handler that throws at once fails its call and serving goes on", async () => {
  const { server, serving, client } = pair({
    add: ({ a, b }) => Promise.resolve(a + b),
    fail: () => {
      throw new Error("sync");
    },
  });
  await assert.rejects(client.request("fail", null), /sync/);
  assert.equal(await client.request("add", { a: 1, b: 2 }), 3);
  await client.close();
  await serving;
  await server.close();
  await client.done;
});

/** A writable that counts the writes it is given and hands them on to `inner`. */
function counted(inner: WritableStream<Uint8Array>) {
  const writer = inner.getWriter();
  const count = { writes: 0 };
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => {
      count.writes++;
      return writer.write(chunk);
    },
    close: () => writer.close(),
  });
  return { writable, count };
}

Deno.test("calls made in one turn leave in one write and their replies come back in one", async () => {
  const up = new TransformStream<Uint8Array, Uint8Array>();
  const down = new TransformStream<Uint8Array, Uint8Array>();
  const requests = counted(up.writable);
  const replies = counted(down.writable);
  const server = new RpcServer<Methods, Events>(replies.writable, {
    add: ({ a, b }) => Promise.resolve(a + b),
    fail: () => Promise.reject(new Error("nope")),
  });
  const serving = server.serve(up.readable);
  const client = new RpcClient<Methods, Events>(
    { readable: down.readable, writable: requests.writable },
    () => {},
    { timeoutMs: 60_000 },
  );
  const calls = Array.from({ length: 100 }, (_, a) => client.request("add", { a, b: 1 }));
  const failed = client.request("fail", null);
  assert.deepEqual(await Promise.all(calls), Array.from({ length: 100 }, (_, a) => a + 1));
  await assert.rejects(failed, /nope/); // an error still reaches its caller
  assert.equal(requests.count.writes, 1);
  assert.equal(replies.count.writes, 1);
  // The next turn's calls go in a write of their own.
  assert.equal(await client.request("add", { a: 2, b: 2 }), 4);
  assert.equal(requests.count.writes, 2);
  await client.close();
  await serving;
  await server.close();
  await client.done;
});

Deno.test("a shorter deadline made after a longer one still expires first", async () => {
  const never = Promise.withResolvers<number>();
  const { server, serving, client } = pair({
    add: () => never.promise,
    fail: () => Promise.resolve(null),
  }, { timeoutMs: 200 });
  const started = performance.now();
  const rejectedAt = (call: Promise<number>) =>
    call.then(() => Infinity, () => performance.now() - started);
  const long = rejectedAt(client.request("add", { a: 1, b: 0 }, { extraMs: 600 }));
  const short = rejectedAt(client.request("add", { a: 2, b: 0 }));
  const shortMs = await short;
  assert.ok(shortMs >= 190 && shortMs < 700, `short rejected after ${shortMs.toFixed(0)} ms`);
  assert.equal(client.pending, 1);
  const longMs = await long;
  assert.ok(longMs >= 790, `long rejected after ${longMs.toFixed(0)} ms`);
  assert.equal(client.pending, 0);
  await client.close();
  await serving;
  await server.close();
  await client.done;
  never.resolve(0);
});

Deno.test("wire data keeps text and bytes", () => {
  assert.equal(fromWire(toWire("hi")), "hi");
  assert.deepEqual(fromWire(toWire(new Uint8Array([0, 255]))), new Uint8Array([0, 255]));
});
