/**
 * Admin requests the reference answers through its transports and plugins, over the real
 * admin HTTP listener: `query_transport` (`configure` of the JSON format and of events to
 * handlers, `connections`), `message_plugin` to EchoTest and Record&Play, and `test_stun`
 * against a STUN server on loopback. Expected answers are what Janus 1.1.2 gave for the
 * same requests.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { eventReceiver } from "../_helpers/event_receiver.ts";
import { startTestGateway } from "../_helpers/gateway.ts";
import { bindingSuccess, startStunServer } from "../_helpers/stun_server.ts";
import { freeUdpPort } from "../_helpers/udp_port.ts";

const SECRET = "janusoverlord";
const HTTP = "janus.transport.http";
const WS = "janus.transport.websockets";

/** POSTs `body` (with a transaction and the secret) to the admin API; the raw text and JSON. */
async function admin(url: string, body: JsonObject): Promise<{ text: string; json: JsonObject }> {
  const res = await fetch(url, {
    method: "POST",
    body: JSON.stringify({ transaction: "t", admin_secret: SECRET, ...body }),
  });
  const text = await res.text();
  return { text, json: JSON.parse(text) };
}

/** `query_transport` to `transport` with `request`; its `response`. */
async function query(url: string, transport: string, request?: JsonObject): Promise<unknown> {
  const body: JsonObject = { janus: "query_transport", transport };
  if (request) body.request = request;
  const { json } = await admin(url, body);
  assert.equal(json.janus, "success", JSON.stringify(json));
  return json.response;
}

/** The raw text of a ping over HTTP. */
async function pingText(httpUrl: string): Promise<string> {
  const res = await fetch(httpUrl, {
    method: "POST",
    body: JSON.stringify({ janus: "ping", transaction: "x" }),
  });
  return await res.text();
}

/** The raw text of the next message on `socket`. */
function nextText(socket: WebSocket): Promise<string> {
  return new Promise((resolve) => {
    socket.addEventListener("message", (m) => resolve(String(m.data)), { once: true });
  });
}

async function openSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(url, "janus-protocol");
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  return socket;
}

async function closeSocket(socket: WebSocket): Promise<void> {
  const closed = new Promise((resolve) => socket.addEventListener("close", resolve));
  socket.close();
  await closed;
}

Deno.test("query_transport: configure sets each transport's JSON format, errors as the reference", async () => {
  await using gw = await startTestGateway();
  const url = gw.adminUrl;
  assert.equal(await pingText(gw.httpUrl), '{\n   "janus": "pong",\n   "transaction": "x"\n}');

  assert.deepEqual(await query(url, HTTP, { request: "configure", json: "plain" }), {
    result: 200,
  });
  assert.equal(await pingText(gw.httpUrl), '{"janus": "pong", "transaction": "x"}');
  // The admin listener belongs to the same transport.
  const plain = await admin(url, { janus: "ping" });
  assert.equal(plain.text, '{"janus": "pong", "transaction": "t"}');

  assert.deepEqual(await query(url, HTTP, { request: "configure", json: "COMPACT" }), {
    result: 200,
  });
  assert.equal(await pingText(gw.httpUrl), '{"janus":"pong","transaction":"x"}');

  // The WebSocket transport has its own setting.
  const socket = await openSocket(gw.wsUrl);
  try {
    let reply = nextText(socket);
    socket.send(JSON.stringify({ janus: "ping", transaction: "w" }));
    assert.equal(await reply, '{\n   "janus": "pong",\n   "transaction": "w"\n}');
    assert.deepEqual(await query(url, WS, { request: "configure", json: "compact" }), {
      result: 200,
    });
    reply = nextText(socket);
    socket.send(JSON.stringify({ janus: "ping", transaction: "w" }));
    assert.equal(await reply, '{"janus":"pong","transaction":"w"}');
    assert.deepEqual(await query(url, WS, { request: "connections" }), {
      result: 200,
      connections: 1,
    });
  } finally {
    await closeSocket(socket);
  }

  // A bad field is reported beside result 200; the good ones still apply.
  assert.deepEqual(
    await query(url, HTTP, { request: "configure", json: "indented", events: 5 }),
    { result: 200, error_code: 413, error: "Invalid element type (events should be a boolean)" },
  );
  assert.match(await pingText(gw.httpUrl), /^\{\n {3}"janus"/);
  assert.deepEqual(await query(url, HTTP, { request: "configure", json: "yaml" }), {
    result: 200,
    notes: ["Ignored unsupported indentation format"],
  });
  assert.deepEqual(await query(url, HTTP, { request: "configure", events: true }), {
    result: 200,
    notes: ["Event handlers disabled at the core level"],
  });
  assert.deepEqual(await query(url, WS, { request: "configure", logging: 5 }), {
    result: 200,
    error_code: 413,
    error: "Invalid element type (logging should be a string)",
  });
  assert.deepEqual(await query(url, HTTP), {
    error_code: 412,
    error: "Missing mandatory element (request)",
  });
  assert.deepEqual(await query(url, HTTP, { request: 5 }), {
    error_code: 413,
    error: "Invalid element type (request should be a string)",
  });
  assert.deepEqual(await query(url, WS, { request: "x" }), {
    error_code: 411,
    error: "Unknown request 'x'",
  });
  const http = await query(url, HTTP, { request: "connections" }) as JsonObject;
  assert.equal(http.result, 200);
  // This very request is being served on the admin listener.
  assert.deepEqual(http.connections, { http: 0, admin_http: 1 });
  assert.equal(http.messages, 1);

  const missing = await admin(url, { janus: "query_transport" });
  assert.deepEqual(missing.json.error, {
    code: 456,
    reason: "Missing mandatory element (transport)",
  });
  const unknown = await admin(url, { janus: "query_transport", transport: "janus.transport.x" });
  assert.deepEqual(unknown.json.error, { code: 460, reason: "Invalid transport" });
});

Deno.test("query_transport: events false stops the transport's events to handlers, true resumes them", async () => {
  const receiver = eventReceiver();
  try {
    await using gw = await startTestGateway({
      events: {
        enabled: true,
        handlers: [{ kind: "http", backend: receiver.url, events: "transports" }],
      },
    });
    const transportEvents = () => receiver.events.filter((e) => e.type === 128).length;
    const settle = async (ms = 400) => await new Promise((r) => setTimeout(r, ms));
    const waitFor = async (test: () => boolean) => {
      const deadline = Date.now() + 5000;
      while (!test() && Date.now() < deadline) await settle(50);
      assert.ok(test(), "no transport event reached the handler");
    };
    await pingText(gw.httpUrl);
    await waitFor(() => transportEvents() > 0);

    assert.deepEqual(await query(gw.adminUrl, HTTP, { request: "configure", events: false }), {
      result: 200,
    });
    await settle();
    const before = transportEvents();
    await pingText(gw.httpUrl);
    await pingText(gw.httpUrl);
    await settle();
    assert.equal(transportEvents(), before, "an HTTP request was still told to the handler");

    await query(gw.adminUrl, HTTP, { request: "configure", events: true });
    await pingText(gw.httpUrl);
    await waitFor(() => transportEvents() > before);
  } finally {
    await receiver.stop();
  }
});

Deno.test("message_plugin: EchoTest echoes the request, Record&Play takes update only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using gw = await startTestGateway({
      plugins: { "janus.plugin.recordplay": { path: dir } },
    });
    const ask = async (plugin: string, request?: JsonObject) => {
      const body: JsonObject = { janus: "message_plugin", plugin: `janus.plugin.${plugin}` };
      if (request) body.request = request;
      const { json } = await admin(gw.adminUrl, body);
      assert.equal(json.janus, "success", JSON.stringify(json));
      return json.response;
    };
    const request = { request: "list", nested: [1, { a: null }] };
    assert.deepEqual(await ask("echotest", request), request);
    assert.deepEqual(await ask("echotest"), {});

    // A recording's .nfo written after start is listed once `update` rescans the folder.
    await Deno.writeTextFile(
      `${dir}/rec-1.nfo`,
      "[1]\nname = Admin\ndate = 2026-12-04 10:00:00\naudio = rec-1-audio.mjr\n",
    );
    assert.deepEqual(await ask("recordplay", { request: "UPDATE" }), { recordplay: "ok" });
    assert.deepEqual(await ask("recordplay", { request: "list" }), {
      recordplay: "event",
      error_code: 413,
      error: "Unknown request 'list'",
    });
    assert.deepEqual(await ask("recordplay"), {
      recordplay: "event",
      error_code: 415,
      error: "Missing mandatory element (request)",
    });
    assert.deepEqual(await ask("recordplay", { request: 5 }), {
      recordplay: "event",
      error_code: 414,
      error: "Invalid element type (request should be a string)",
    });
    const session = await fetch(gw.httpUrl, {
      method: "POST",
      body: JSON.stringify({ janus: "create", transaction: "c" }),
    }).then((r) => r.json());
    const sessionUrl = `${gw.httpUrl}/${session.data.id}`;
    const handle = await fetch(sessionUrl, {
      method: "POST",
      body: JSON.stringify({
        janus: "attach",
        plugin: "janus.plugin.recordplay",
        transaction: "a",
      }),
    }).then((r) => r.json());
    const list = await fetch(`${sessionUrl}/${handle.data.id}`, {
      method: "POST",
      body: JSON.stringify({ janus: "message", body: { request: "list" }, transaction: "l" }),
    }).then((r) => r.json());
    assert.deepEqual(
      list.plugindata.data.list.map((r: JsonObject) => r.id),
      [1],
      JSON.stringify(list),
    );
    await fetch(sessionUrl, {
      method: "POST",
      body: JSON.stringify({ janus: "destroy", transaction: "d" }),
    }).then((r) => r.body?.cancel());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("test_stun: a Binding request to a STUN server on loopback, and the reference's errors", async () => {
  await using gw = await startTestGateway();
  await using stun = await startStunServer();
  const ask = async (body: JsonObject) =>
    (await admin(gw.adminUrl, { janus: "test_stun", ...body })).json;

  const localport = await freeUdpPort();
  const ok = await ask({ address: "localhost", port: stun.port, localport });
  assert.equal(ok.janus, "success", JSON.stringify(ok));
  assert.equal(ok.public_ip, "127.0.0.1");
  assert.equal(ok.public_port, localport);
  assert.equal(typeof ok.elapsed, "number");
  assert.equal(stun.requests, 1);
  // The socket is closed after the test: the same local port works again.
  const again = await ask({ address: "127.0.0.1", port: stun.port, localport });
  assert.equal(again.public_port, localport);

  const error = async (body: JsonObject) => (await ask(body)).error;
  assert.deepEqual(await error({}), { code: 456, reason: "Missing mandatory element (address)" });
  assert.deepEqual(await error({ address: "127.0.0.1" }), {
    code: 456,
    reason: "Missing mandatory element (port)",
  });
  assert.deepEqual(await error({ address: "127.0.0.1", port: -1 }), {
    code: 467,
    reason: "Invalid element type (port should be a positive integer)",
  });
  assert.deepEqual(await error({ address: "127.0.0.1", port: 3478, localport: "x" }), {
    code: 467,
    reason: "Invalid element type (localport should be a positive integer)",
  });
  assert.deepEqual(await error({ address: "no-such-host.invalid", port: 3478 }), {
    code: 490,
    reason: "Could not resolve address",
  });
  // An answer that is not a Binding success for this request fails the test.
  await using liar = await startStunServer((request, ip, port) => {
    const answer = bindingSuccess(request, ip, port);
    answer[8] = (answer[8]! + 1) & 0xff; // another transaction
    return answer;
  });
  assert.deepEqual(await error({ address: "127.0.0.1", port: liar.port }), {
    code: 490,
    reason: "STUN request failed",
  });
});
