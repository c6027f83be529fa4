/**
 * Events are never dropped silently: a long-poll session that does not poll while
 * its handle gets 10,000 events receives all of them; one whose queue passes
 * `limits.event_queue_bytes` is ended (its next poll gets `timeout`, then 404) and
 * everything it held is released, other sessions untouched.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../core/clock.ts";
import type { Plugin, PluginHandle, PluginSession } from "../../core/plugin.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { startTestGateway, type TestGateway } from "../_helpers/gateway.ts";
import { encodeFrame } from "../../fuzz/raw_ws.ts";
import { httpClient, type JanusClient, tx, wsClient } from "../_helpers/janus_client.ts";

const BURST = "test.plugin.burst";

/** A plugin that answers `{count: N}` by pushing N numbered events at once. */
function burstPlugin(): Plugin & { live: number } {
  const plugin = {
    live: 0,
    info: {
      id: BURST,
      name: "Burst",
      description: "Pushes many events per message (tests)",
      author: "tests",
      version: 1,
      versionString: "0.0.1",
    },
    init: () => Promise.resolve(),
    destroy: () => Promise.resolve(),
    formatError: (e: { code: number; message: string }) => ({
      error_code: e.code,
      error: e.message,
    }),
    createSession(handle: PluginHandle): Promise<PluginSession> {
      plugin.live++;
      return Promise.resolve({
        handleMessage({ body }) {
          const count = typeof body.count === "number" ? body.count : 0;
          for (let n = 0; n < count; n++) handle.pushEvent({ data: { burst: "event", n } });
          return Promise.resolve({ kind: "success", data: { burst: "sent", count } });
        },
        setupMedia() {},
        hangupMedia() {},
        destroy() {
          plugin.live--;
          return Promise.resolve();
        },
        query: () => ({}),
      });
    },
  };
  return plugin;
}

async function post(c: JanusClient, body: JsonObject): Promise<JsonObject> {
  return await c.send({ transaction: tx(), ...body });
}

/** A session with one burst handle over `c`. */
async function burstSession(c: JanusClient): Promise<{ s: number; h: number }> {
  const created = await post(c, { janus: "create" });
  const s = (created.data as JsonObject).id as number;
  const attached = await post(c, { janus: "attach", session_id: s, plugin: BURST });
  return { s, h: (attached.data as JsonObject).id as number };
}

async function burst(c: JanusClient, ids: { s: number; h: number }, count: number): Promise<void> {
  const reply = await post(c, {
    janus: "message",
    session_id: ids.s,
    handle_id: ids.h,
    body: { count },
  });
  assert.equal(reply.janus, "success", JSON.stringify(reply));
}

/** One long poll: status and parsed body (an array with maxev). */
async function poll(
  gw: TestGateway,
  s: number,
  maxev = 1,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${gw.httpUrl}/${s}${maxev > 1 ? `?maxev=${maxev}` : ""}`, {
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** The numbers of burst events, polled with `maxev` until `count` came (any other event fails). */
async function pollBurst(gw: TestGateway, s: number, count: number): Promise<number[]> {
  const seen: number[] = [];
  while (seen.length < count) {
    const { status, body } = await poll(gw, s, 500);
    assert.equal(status, 200);
    assert.ok(Array.isArray(body), JSON.stringify(body));
    for (const event of body as JsonObject[]) {
      assert.equal(event.janus, "event", JSON.stringify(event));
      const data = (event.plugindata as JsonObject).data as JsonObject;
      seen.push(data.n as number);
    }
  }
  return seen;
}

const upTo = (count: number) => Array.from({ length: count }, (_, n) => n);

Deno.test("HTTP: 10,000 events pushed while nobody polls are all delivered, in order", async () => {
  const plugin = burstPlugin();
  await using gw = await startTestGateway({}, { plugins: [() => plugin] });
  const c = httpClient(gw.httpUrl);
  const ids = await burstSession(c);
  await burst(c, ids, 10_000);
  // The client looks away for a while; nothing may be lost meanwhile.
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(gw.app.gateway.sessions.get(ids.s)?.queue.size, 10_000);
  assert.deepEqual(await pollBurst(gw, ids.s, 10_000), upTo(10_000));
  assert.equal(gw.app.gateway.sessions.get(ids.s)?.queue.bytes, 0);
  assert.equal(gw.app.gateway.queueOverflows, 0);
  await post(c, { janus: "destroy", session_id: ids.s });
  assert.equal(plugin.live, 0);
});

Deno.test("HTTP: a queue past event_queue_bytes ends its session visibly, others untouched", async () => {
  const plugin = burstPlugin();
  await using gw = await startTestGateway(
    { limits: { event_queue_bytes: 20_000 } },
    { plugins: [() => plugin] },
  );
  const gateway = gw.app.gateway;
  const c = httpClient(gw.httpUrl);
  await using ws = await wsClient(gw.wsUrl);
  const full = await burstSession(c);
  const calm = await burstSession(c);
  const pushed = await burstSession(ws);
  assert.equal(gateway.counts().handles, 3);

  // About 150 events fit in 20,000 bytes: 1,000 pass it.
  await burst(c, full, 1000);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(gateway.queueOverflows, 1);
  assert.equal(gateway.sessions.has(full.s), false);
  assert.deepEqual(await poll(gw, full.s), {
    status: 200,
    body: { janus: "timeout", session_id: full.s },
  });
  assert.deepEqual(await poll(gw, full.s), { status: 404, body: undefined });
  const late = await post(c, { janus: "keepalive", session_id: full.s, transaction: "late" });
  assert.deepEqual(late, {
    janus: "error",
    session_id: full.s,
    transaction: "late",
    error: { code: 458, reason: `No such session ${full.s}` },
  });
  assert.equal(gateway.farewells, 0);
  assert.equal(gateway.counts().handles, 2, "the ended session's handle is released");
  assert.equal(plugin.live, 2, "the ended session's plugin state is released");

  // Under the bound, a long poll session keeps everything.
  await burst(c, calm, 100);
  assert.deepEqual(await pollBurst(gw, calm.s, 100), upTo(100));
  // A WebSocket gets events as they come: no bound applies.
  await burst(ws, pushed, 1000);
  const got: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const event = await ws.event(pushed.s);
    got.push(((event?.plugindata as JsonObject).data as JsonObject).n as number);
  }
  assert.deepEqual(got, upTo(1000));
  assert.equal(gateway.queueOverflows, 1);

  await post(c, { janus: "destroy", session_id: calm.s });
  await post(ws, { janus: "destroy", session_id: pushed.s });
  assert.deepEqual(gateway.counts(), {
    sessions: 0,
    handles: 0,
    peers: 0,
    sources: 0,
    mixers: 0,
    timers: 1,
  });
  assert.equal(plugin.live, 0);
});

Deno.test("HTTP: the timeout of an overflowed session is an array with maxev", async () => {
  const plugin = burstPlugin();
  await using gw = await startTestGateway(
    { limits: { event_queue_bytes: 5_000 } },
    { plugins: [() => plugin] },
  );
  const c = httpClient(gw.httpUrl);
  const ids = await burstSession(c);
  await burst(c, ids, 200);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(await poll(gw, ids.s, 10), {
    status: 200,
    body: [{ janus: "timeout", session_id: ids.s }],
  });
  assert.equal((await poll(gw, ids.s, 10)).status, 404);
  assert.equal(plugin.live, 0);
});

Deno.test("HTTP: an overflowed session's timeout not polled is forgotten after session_timeout", async () => {
  const plugin = burstPlugin();
  const clock = new ManualClock();
  await using gw = await startTestGateway(
    { general: { session_timeout: 10 }, limits: { event_queue_bytes: 5_000 } },
    { plugins: [() => plugin], clock, watchdog: false },
  );
  const gateway = gw.app.gateway;
  const c = httpClient(gw.httpUrl);
  const ids = await burstSession(c);
  await burst(c, ids, 200);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(gateway.farewells, 1);
  clock.advance(9_999);
  await gateway.sweep();
  assert.equal(gateway.farewells, 1);
  clock.advance(1);
  await gateway.sweep();
  assert.equal(gateway.farewells, 0);
  assert.equal((await poll(gw, ids.s)).status, 404);
  assert.equal(plugin.live, 0);
});

Deno.test("WebSocket: a client that stops reading is closed past ws_unsent_bytes, its sessions ended", async () => {
  const plugin = burstPlugin();
  await using gw = await startTestGateway(
    { limits: { ws_unsent_bytes: 200_000 } },
    { plugins: [() => plugin] },
  );
  const gateway = gw.app.gateway;
  await using ws = await wsClient(gw.wsUrl);
  const ids = await burstSession(ws);
  const other = await burstSession(ws);
  // A raw socket claims the session, then never reads what the gateway sends it.
  const port = Number(new URL(gw.wsUrl).port);
  const stalled = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const key = btoa("stalled-client!!");
    await stalled.write(new TextEncoder().encode(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
        `Sec-WebSocket-Protocol: janus-protocol\r\n\r\n`,
    ));
    const claim = JSON.stringify({ janus: "claim", transaction: tx(), session_id: ids.s });
    await stalled.write(encodeFrame({ opcode: 1, payload: new TextEncoder().encode(claim) }));
    const deadline = Date.now() + 5000;
    while (gateway.sessions.get(ids.s)?.owner === gateway.sessions.get(other.s)?.owner) {
      assert.ok(Date.now() < deadline, "claimed");
      await new Promise((r) => setTimeout(r, 20));
    }
    // Bursts go to the stalled socket until its unsent bytes pass the bound: the socket is
    // closed and its session ended as on a close; the other session goes on.
    for (let round = 0; round < 40 && gateway.sessions.has(ids.s); round++) {
      await burst(ws, ids, 2000);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(gateway.sessions.has(ids.s), false, "the stalled socket's session is gone");
    assert.equal(plugin.live, 1, "only the other session's handle is left");
    await burst(ws, other, 3);
    for (let n = 0; n < 3; n++) await ws.event(other.s);
    await post(ws, { janus: "destroy", session_id: other.s });
    assert.equal(plugin.live, 0);
  } finally {
    stalled.close();
  }
});
