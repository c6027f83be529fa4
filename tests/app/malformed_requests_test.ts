/**
 * Malformed requests never crash a transport: broken or cut-off bodies get a Janus JSON
 * error (never Deno's text/plain 500), on the API and the admin HTTP ports, and the
 * WebSocket listeners answer the same payloads.
 *
 * @module
 */
import assert from "node:assert/strict";
import { chunked, concat, exchange, type RawReply } from "../../fuzz/raw_http.ts";
import { startTestGateway, type TestGateway } from "../_helpers/gateway.ts";
import { openRawSocket } from "../api/_util.ts";

const encoder = new TextEncoder();

/** About 1 MB of a JSON object that never closes (the fuzzer's admin case). */
function malformedObject(): Uint8Array {
  const text = '{"janus":"handle_info","transaction":"fz","admin_secret":"janusoverlord","x":"';
  return encoder.encode(text + "a".repeat(1_000_000 - text.length) + "}");
}

/** A session with an echotest handle, made over HTTP. */
async function sessionWithHandle(gw: TestGateway): Promise<{ s: number; h: number }> {
  const post = async (url: string, body: unknown) =>
    await (await fetch(url, { method: "POST", body: JSON.stringify(body) })).json();
  const s = (await post(gw.httpUrl, { janus: "create", transaction: "c" })).data.id;
  const h = (await post(`${gw.httpUrl}/${s}`, {
    janus: "attach",
    transaction: "a",
    plugin: "janus.plugin.echotest",
  })).data.id;
  return { s, h };
}

function assertJanusError(reply: RawReply | undefined, status: number, code: number): void {
  assert.ok(reply, "no reply");
  assert.equal(reply.status, status, `${reply.status} ${reply.body}`);
  assert.equal(reply.headers.get("content-type"), "application/json", reply.body);
  const json = JSON.parse(reply.body);
  assert.equal(json.janus, "error", reply.body);
  assert.equal(json.error.code, code, reply.body);
}

/** POSTs `body` chunked to `path` on `port`, with `tail` after the chunks. */
function postChunked(
  port: number,
  path: string,
  body: Uint8Array,
  options: { tail?: string; closeWrite?: boolean; chunkSize?: number } = {},
) {
  const head = encoder.encode(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n`,
  );
  const chunks = chunked(body, options.chunkSize ?? 65536, options.tail);
  return exchange(port, concat([head, chunks]), {
    expect: 1,
    closeWrite: options.closeWrite ?? false,
    timeoutMs: 5000,
  });
}

Deno.test("admin /admin/S/H: a chunked 1 MB malformed object whose framing breaks is a Janus 454, not a 500", async () => {
  await using gw = await startTestGateway();
  const { s, h } = await sessionWithHandle(gw);
  const port = gw.app.ports.adminHttp!;
  // A broken chunk header after the data: the body read throws inside the handler.
  const broken = await postChunked(port, `/admin/${s}/${h}`, malformedObject(), {
    tail: "zz\r\n",
  });
  assertJanusError(broken.replies[0], 400, 454);
  // The body cut off and the write side closed: same failure, same answer.
  const cut = await postChunked(port, `/admin/${s}/${h}`, malformedObject(), {
    tail: "",
    closeWrite: true,
  });
  assertJanusError(cut.replies[0], 400, 454);
  // Whole framing: the JSON parser's 454 with status 200, as the reference.
  const whole = await postChunked(port, `/admin/${s}/${h}`, malformedObject());
  assertJanusError(whole.replies[0], 200, 454);
  // The gateway still serves its session.
  const info = await (await fetch(`${gw.adminUrl}/${s}/${h}`, {
    method: "POST",
    body: JSON.stringify({ janus: "handle_info", transaction: "i", admin_secret: "janusoverlord" }),
  })).json();
  assert.equal(info.janus, "success", JSON.stringify(info));
  await fetch(`${gw.httpUrl}/${s}`, {
    method: "POST",
    body: JSON.stringify({ janus: "destroy", transaction: "d" }),
  }).then((r) => r.body?.cancel());
});

Deno.test("API and admin: a content-length longer than the body sent is a Janus 454", async () => {
  await using gw = await startTestGateway();
  for (
    const [port, path] of [[gw.app.ports.http!, "/janus"], [gw.app.ports.adminHttp!, "/admin"]]
  ) {
    const request =
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n{"a":1`;
    const res = await exchange(port as number, encoder.encode(request), {
      expect: 1,
      closeWrite: true,
      timeoutMs: 5000,
    });
    assertJanusError(res.replies[0], 400, 454);
  }
});

Deno.test("API HTTP: a chunked body with broken framing is a Janus 454", async () => {
  await using gw = await startTestGateway();
  const res = await postChunked(gw.app.ports.http!, "/janus", malformedObject(), {
    tail: "zz\r\n",
  });
  assertJanusError(res.replies[0], 400, 454);
});

Deno.test("WebSocket API and admin: a 1 MB malformed object is a Janus 454, the socket stays", async () => {
  await using gw = await startTestGateway();
  const targets = [[gw.wsUrl, "janus-protocol"], [gw.adminWsUrl, "janus-admin-protocol"]];
  for (const [url, protocol] of targets) {
    const socket = await openRawSocket(url!, protocol);
    socket.ws.send(malformedObject());
    socket.ws.send(new TextDecoder().decode(malformedObject()));
    socket.ws.send(JSON.stringify({ janus: "ping", transaction: "p" }));
    await socket.waitFor(3);
    assert.equal(socket.messages.length, 3, JSON.stringify(socket.messages));
    for (const reply of socket.messages.slice(0, 2)) {
      assert.equal((reply.error as { code: number }).code, 454, JSON.stringify(reply));
    }
    assert.deepEqual(socket.messages[2], { janus: "pong", transaction: "p" });
    await socket.close();
  }
});

Deno.test("parse errors word long tokens and open strings as the reference (no 1 MB token quoted back)", async () => {
  await using gw = await startTestGateway();
  // Answers recorded from the reference Janus 1.1.2 (jansson quotes tokens up to 20 chars).
  const http: [string, string][] = [
    ["x".repeat(20), `'[' or '{' expected near '${"x".repeat(20)}'`],
    ["x".repeat(1_000_000), "'[' or '{' expected"],
    ['"abc', `premature end of input near '"abc'`],
    [`"${"a".repeat(30)}`, "premature end of input"],
    ['"abc"', `'[' or '{' expected near '"abc"'`],
  ];
  for (const [body, reason] of http) {
    const reply = await (await fetch(gw.httpUrl, { method: "POST", body })).json();
    assert.deepEqual(reply, {
      janus: "error",
      error: { code: 454, reason: `JSON error: on line 1: ${reason}` },
    });
  }
  const socket = await openRawSocket(gw.wsUrl, "janus-protocol");
  const ws: [string, string][] = [
    ["   ", "<string>(1,3): '[' or '{' expected near end of file"],
    ["x".repeat(21), "<string>(1,21): '[' or '{' expected"],
    ["\n\n  xyz", "<string>(3,5): '[' or '{' expected near 'xyz'"],
  ];
  for (const [text] of ws) socket.ws.send(text);
  await socket.waitFor(ws.length);
  assert.deepEqual(
    socket.messages.map((m) => (m.error as { reason: string }).reason),
    ws.map(([, reason]) => `Invalid Janus API request - ${reason}`),
  );
  await socket.close();
});

Deno.test("nesting deeper than jansson's 2048 levels is a 454 naming the token, as on the reference; 2047 levels are served (EchoTest's admin echo too)", async () => {
  await using gw = await startTestGateway();
  const nest = (n: number, leaf: string) => "[".repeat(n) + leaf + "]".repeat(n);
  const ping = (x: string, sep = "") => `{"janus":"ping",${sep}"transaction":"t","x":${x}}`;
  // Answers recorded from the reference Janus 1.1.2 over WebSocket (HTTP says "on line N").
  const cases: [string, string | undefined][] = [
    [ping(nest(2046, "1")), undefined],
    [ping(nest(2047, "1")), "(1,2086): maximum parsing depth reached near '1'"],
    [ping(nest(2048, "1")), "(1,2086): maximum parsing depth reached near '['"],
    [ping(nest(2047, '"abc"')), `(1,2090): maximum parsing depth reached near '"abc"'`],
    [ping(nest(2046, '{"k":"v"}')), `(1,2092): maximum parsing depth reached near '"v"'`],
    [ping(nest(2047, '{"k":"v"}')), "(1,2086): maximum parsing depth reached near '{'"],
    [ping(nest(2047, "true"), "\n"), "(2,2073): maximum parsing depth reached near 'true'"],
  ];
  for (const [body, ws] of cases) {
    const reply = await (await fetch(gw.httpUrl, { method: "POST", body })).json();
    const line = ws?.slice(1, ws.indexOf(","));
    assert.deepEqual(
      reply,
      ws === undefined ? { janus: "pong", transaction: "t" } : {
        janus: "error",
        error: {
          code: 454,
          reason: `JSON error: on line ${line}: ${ws.slice(ws.indexOf(" ") + 1)}`,
        },
      },
    );
  }
  const socket = await openRawSocket(gw.wsUrl, "janus-protocol");
  for (const [body] of cases) socket.ws.send(body);
  await socket.waitFor(cases.length);
  // The pong may come after the errors, which are sent as soon as the text is parsed.
  assert.deepEqual(
    socket.messages.map((m) => (m.error as { reason: string } | undefined)?.reason ?? m.janus)
      .sort(),
    cases.map(([, ws]) => ws === undefined ? "pong" : `Invalid Janus API request - <string>${ws}`)
      .sort(),
  );
  await socket.close();
  // The admin echo of a 2045-level object (the reference echoes it); 2100 levels are refused.
  const deep = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
  const admin = (n: number) =>
    `{"janus":"message_plugin","transaction":"m","admin_secret":"janusoverlord",` +
    `"plugin":"janus.plugin.echotest","request":{"request":"destroy","room":${deep(n)}}}`;
  const echoed = await (await fetch(gw.adminUrl, { method: "POST", body: admin(2045) })).json();
  assert.equal(echoed.janus, "success");
  assert.equal(JSON.stringify(echoed.response.room), deep(2045));
  const refused = await (await fetch(gw.adminUrl, { method: "POST", body: admin(2100) })).json();
  assert.equal(refused.error.code, 454);
});

Deno.test("API and admin HTTP: a body in more than max_body_chunks chunks is 413 + 454; in fewer chunks it is served", async () => {
  await using gw = await startTestGateway({ limits: { max_body_chunks: 1000 } });
  const ping = encoder.encode(JSON.stringify({ janus: "ping", transaction: "p" }));
  const padded = concat([ping, encoder.encode(" ".repeat(3000))]);
  for (
    const [port, path] of [[gw.app.ports.http!, "/janus"], [gw.app.ports.adminHttp!, "/admin"]]
  ) {
    const res = await postChunked(port as number, path as string, padded, { chunkSize: 1 });
    assertJanusError(res.replies[0], 413, 454);
    // Under the limit the same body, in fewer chunks, is served.
    const ok = await postChunked(port as number, path as string, padded, { chunkSize: 64 });
    assert.equal(ok.replies[0]?.status, 200, ok.replies[0]?.body);
  }
});
