/**
 * HTTP-only cases: long-poll shapes (maxev), status codes, paths, CORS,
 * methods, bad bodies, and concurrent polls.
 *
 * @module
 */
import assert from "node:assert/strict";
import { checkServerInfo } from "./cases_core.ts";
import {
  type ApiCase,
  assertShape,
  createSession,
  destroySession,
  echoEvent,
  errorShape,
  HINT,
  type JsonObject,
  jsonOf,
  keepalive,
  rawHttp,
  type RawResponse,
  sessionWithHandle,
  sleep,
  type TestGateway,
  tx,
} from "./_util.ts";

/** A GET long poll, aborted (undefined) after `timeoutMs`. */
async function poll(
  gw: TestGateway,
  path: string,
  timeoutMs = 3000,
): Promise<RawResponse | undefined> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    return await rawHttp(`${gw.httpUrl}${path}`, { signal: abort.signal });
  } catch (e) {
    if (abort.signal.aborted) return undefined;
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** A poll that must answer 200 with JSON. */
async function pollJson(gw: TestGateway, path: string): Promise<unknown> {
  const res = await poll(gw, path);
  assert.ok(res, `GET ${path} did not answer`);
  assert.equal(res.status, 200, `GET ${path}: ${res.status} ${res.text}`);
  assert.equal(res.headers.get("content-type"), "application/json");
  return jsonOf(res);
}

/** Posts a raw text body to `path` under the base. */
function post(gw: TestGateway, path: string, body?: string): Promise<RawResponse> {
  return rawHttp(
    `${gw.httpUrl}${path}`,
    body === undefined ? { method: "POST" } : {
      method: "POST",
      body,
    },
  );
}

function assertEmpty(res: RawResponse, status: number, what: string): void {
  assert.equal(res.status, status, `${what}: status ${res.status} ${res.text}`);
  assert.equal(res.text, "", `${what}: body should be empty`);
}

function assertCors(res: RawResponse, what: string): void {
  assert.equal(res.headers.get("access-control-allow-origin"), "*", what);
  assert.equal(res.headers.get("access-control-max-age"), "86400", what);
}

/** Sends echotest messages with `{audio:true}`; returns their transactions. */
async function queueEvents(
  gw: TestGateway,
  ids: { s: number; h: number },
  n: number,
): Promise<string[]> {
  const transactions: string[] = [];
  for (let i = 0; i < n; i++) {
    const transaction = tx("q");
    const res = await post(
      gw,
      `/${ids.s}/${ids.h}`,
      JSON.stringify({ janus: "message", transaction, body: { audio: true } }),
    );
    assertShape(jsonOf(res), { janus: "ack", session_id: ids.s, transaction, hint: HINT });
    transactions.push(transaction);
  }
  await sleep(100);
  return transactions;
}

const ok = (ids: { s: number; h: number }, t: string) =>
  echoEvent(ids.s, ids.h, { echotest: "event", result: "ok" }, t);

export const HTTP_CASES: ApiCase[] = [
  {
    name: "long poll: maxev missing/0/1/x gives a bare object, maxev>=2 always an array",
    only: "http",
    config: { http: { long_poll_timeout: 0.3 } },
    async run({ gw, client }) {
      const c = await client();
      const ids = await sessionWithHandle(c);
      const t = await queueEvents(gw, ids, 5);
      const queries = ["", "?maxev=1", "?maxev=0", "?maxev=x"];
      for (const [i, q] of queries.entries()) {
        assertShape(await pollJson(gw, `/${ids.s}${q}`) as JsonObject, ok(ids, t[i] ?? ""), q);
      }
      assert.deepEqual(await pollJson(gw, `/${ids.s}?maxev=5`), [ok(ids, t[4] ?? "")]);
      // Idle polls: a keepalive, wrapped in an array when maxev >= 2.
      for (const q of ["", "?maxev=1"]) {
        assert.deepEqual(await pollJson(gw, `/${ids.s}${q}`), { janus: "keepalive" }, q);
      }
      assert.deepEqual(await pollJson(gw, `/${ids.s}?maxev=2`), [{ janus: "keepalive" }]);
      assert.deepEqual(await pollJson(gw, `/${ids.s}?maxev=10&rid=123`), [{
        janus: "keepalive",
      }]);
      // maxev caps a batch.
      const b = await queueEvents(gw, ids, 3);
      assert.deepEqual(await pollJson(gw, `/${ids.s}?maxev=2`), [
        ok(ids, b[0] ?? ""),
        ok(ids, b[1] ?? ""),
      ]);
      assert.deepEqual(await pollJson(gw, `/${ids.s}?maxev=2`), [ok(ids, b[2] ?? "")]);
      await destroySession(c, ids.s);
    },
  },
  {
    name: "GET on an unknown or destroyed session, /janus and /janus/ is a bare 404",
    only: "http",
    async run({ gw, client }) {
      const c = await client();
      for (const path of ["/4242", "", "/"]) {
        const res = await poll(gw, path);
        assert.ok(res, `GET ${path} hung`);
        assertEmpty(res, 404, `GET ${path}`);
        assertCors(res, `GET ${path}`);
      }
      const s = await createSession(c);
      await destroySession(c, s);
      const res = await poll(gw, `/${s}`);
      assert.ok(res, "GET on a destroyed session hung");
      assertEmpty(res, 404, "GET destroyed");
    },
  },
  {
    name: "GET /janus/info is server_info with a random transaction; POST /janus/info is 400",
    only: "http",
    async run({ gw }) {
      const res = await rawHttp(`${gw.httpUrl}/info`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/json");
      assertCors(res, "GET /janus/info");
      const info = jsonOf(res) as JsonObject;
      checkServerInfo(info);
      assert.match(String(info.transaction), /^[A-Za-z0-9]{11}$/);
      const bad = await post(gw, "/info", JSON.stringify({ janus: "info", transaction: "i" }));
      assertEmpty(bad, 400, "POST /janus/info");
      assertCors(bad, "POST /janus/info");
    },
  },
  {
    name: "GET /janus/S/H redirects 302 to /janus/S with an empty body, even for unknown S",
    only: "http",
    async run({ gw, client }) {
      const c = await client();
      const ids = await sessionWithHandle(c);
      const res = await rawHttp(`${gw.httpUrl}/${ids.s}/${ids.h}`);
      assertEmpty(res, 302, "GET S/H");
      assert.equal(res.headers.get("location"), `/janus/${ids.s}`);
      assertCors(res, "GET S/H");
      const unknown = await rawHttp(`${gw.httpUrl}/4242/77`);
      assertEmpty(unknown, 302, "GET unknown S/H");
      assert.equal(unknown.headers.get("location"), "/janus/4242");
      await destroySession(c, ids.s);
    },
  },
  {
    name: "OPTIONS answers 200 empty and echoes the requested method and headers",
    only: "http",
    async run({ gw }) {
      for (const path of ["", "/4242", "/4242/77"]) {
        const res = await rawHttp(`${gw.httpUrl}${path}`, {
          method: "OPTIONS",
          headers: {
            Origin: "http://example.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-foo",
          },
        });
        assertEmpty(res, 200, `OPTIONS ${path}`);
        assertCors(res, `OPTIONS ${path}`);
        assert.equal(res.headers.get("access-control-allow-methods"), "POST");
        assert.equal(res.headers.get("access-control-allow-headers"), "content-type, x-foo");
      }
    },
  },
  {
    name: "replies and errors are 200 application/json with Access-Control-Allow-Origin *",
    only: "http",
    async run({ gw }) {
      const pong = await post(gw, "", JSON.stringify({ janus: "ping", transaction: "p" }));
      assert.equal(pong.status, 200);
      assert.equal(pong.headers.get("content-type"), "application/json");
      assertCors(pong, "POST ping");
      assertShape(jsonOf(pong), { janus: "pong", transaction: "p" });
      const error = await post(
        gw,
        "/4242",
        JSON.stringify({ janus: "keepalive", transaction: "k" }),
      );
      assert.equal(error.status, 200);
      assert.equal(error.headers.get("content-type"), "application/json");
      assertCors(error, "POST error");
      assertShape(
        jsonOf(error),
        errorShape(458, "No such session 4242", { session_id: 4242, transaction: "k" }),
      );
    },
  },
  {
    name: "PUT, DELETE and PATCH are 200 with error 450 'Unsupported method X'",
    only: "http",
    async run({ gw }) {
      for (const method of ["PUT", "DELETE", "PATCH"]) {
        const res = await rawHttp(gw.httpUrl, { method });
        assert.equal(res.status, 200, method);
        assert.equal(res.headers.get("content-type"), "application/json");
        assertCors(res, method);
        assertShape(jsonOf(res), errorShape(450, `Unsupported method ${method}`));
      }
    },
  },
  {
    name: "malformed JSON is 454 'JSON error: ...' without transaction",
    only: "http",
    async run({ gw }) {
      for (const body of ["not json", "{", '{"janus":"ping",'] as const) {
        const res = await post(gw, "", body);
        assert.equal(res.status, 200);
        const reply = jsonOf(res) as JsonObject;
        assert.deepEqual(Object.keys(reply), ["janus", "error"], JSON.stringify(reply));
        const error = reply.error as JsonObject;
        assert.equal(reply.janus, "error");
        assert.equal(error.code, 454, JSON.stringify(reply));
        assert.ok(String(error.reason).startsWith("JSON error: "), JSON.stringify(reply));
      }
    },
  },
  {
    name: 'top-level JSON scalars (5, null, "x") are 454 like any non-object text',
    only: "http",
    async run({ gw }) {
      for (const body of ["5", "null", '"x"']) {
        const reply = jsonOf(await post(gw, "", body)) as JsonObject;
        assert.deepEqual(Object.keys(reply), ["janus", "error"], JSON.stringify(reply));
        assert.equal((reply.error as JsonObject).code, 454, `${body}: ${JSON.stringify(reply)}`);
      }
    },
  },
  {
    name: "a JSON array body is 455 'JSON error: not an object'",
    only: "http",
    async run({ gw }) {
      for (const body of ["[]", "[1]", '[{"janus":"ping","transaction":"p"}]']) {
        const reply = jsonOf(await post(gw, "", body));
        assertShape(reply, errorShape(455, "JSON error: not an object"), body);
      }
    },
  },
  {
    name: "path and body ids that differ are 457 'Conflicting ... ID (payload and path)'",
    only: "http",
    async run({ gw, client }) {
      const c = await client();
      const ids = await sessionWithHandle(c);
      const conflictS = await post(
        gw,
        `/${ids.s}`,
        JSON.stringify({ janus: "keepalive", transaction: "k", session_id: 5 }),
      );
      assertShape(jsonOf(conflictS), errorShape(457, "Conflicting session ID (payload and path)"));
      const conflictH = await post(
        gw,
        `/${ids.s}/${ids.h}`,
        JSON.stringify({ janus: "keepalive", transaction: "k", handle_id: 5 }),
      );
      assertShape(jsonOf(conflictH), errorShape(457, "Conflicting handle ID (payload and path)"));
      await keepalive(c, ids.s, { session_id: ids.s });
      // A session segment that is not a number is the root level.
      const root = await post(gw, "/abc", JSON.stringify({ janus: "ping", transaction: "p" }));
      assertShape(jsonOf(root), { janus: "pong", transaction: "p" });
      await destroySession(c, ids.s);
    },
  },
  {
    name: "a trailing slash names the same path: POST /janus/, /janus/S/, GET /janus/info/",
    only: "http",
    async run({ gw }) {
      const created = jsonOf(
        await post(gw, "/", JSON.stringify({ janus: "create", transaction: "c" })),
      ) as JsonObject;
      assert.equal(created.janus, "success", JSON.stringify(created));
      const s = (created.data as JsonObject).id as number;
      const ack = jsonOf(
        await post(gw, `/${s}/`, JSON.stringify({ janus: "keepalive", transaction: "k" })),
      );
      assert.deepEqual(ack, { janus: "ack", session_id: s, transaction: "k" });
      const info = await rawHttp(`${gw.httpUrl}/info/`);
      assert.equal(info.status, 200);
      checkServerInfo(jsonOf(info) as JsonObject);
      const gone = jsonOf(
        await post(gw, `/${s}/`, JSON.stringify({ janus: "destroy", transaction: "d" })),
      );
      assert.deepEqual(gone, { janus: "success", session_id: s, transaction: "d" });
    },
  },
  {
    name: "POST below /janus/S/H or outside /janus is a bare 404",
    only: "http",
    async run({ gw, client }) {
      const c = await client();
      const ids = await sessionWithHandle(c);
      const deep = await post(gw, `/${ids.s}/${ids.h}/x`);
      assertEmpty(deep, 404, "POST S/H/x");
      assertCors(deep, "POST S/H/x");
      const outside = await rawHttp(gw.httpUrl.replace(/\/janus$/, "/other"), { method: "POST" });
      assertEmpty(outside, 404, "POST /other");
      await destroySession(c, ids.s);
    },
  },
  {
    name: "a 2 MB body is rejected with an error and the gateway keeps serving",
    only: "http",
    async run({ gw, client }) {
      const big = JSON.stringify({ janus: "ping", transaction: "big", pad: "x".repeat(2 << 20) });
      let res: RawResponse | undefined;
      try {
        res = await post(gw, "", big);
      } catch {
        res = undefined; // The connection was cut: also a rejection.
      }
      if (res) {
        const rejected = res.status >= 400 || (() => {
          try {
            return (JSON.parse(res.text) as JsonObject).janus === "error";
          } catch {
            return false;
          }
        })();
        assert.ok(rejected, `2 MB body accepted: ${res.status} ${res.text.slice(0, 200)}`);
      }
      const c = await client();
      assertShape(await c.send({ janus: "ping", transaction: "after" }), {
        janus: "pong",
        transaction: "after",
      });
      await destroySession(c, await createSession(c));
    },
  },
  {
    name: "two concurrent polls: the earliest gets the event, the other a keepalive at once",
    only: "http",
    async run({ gw, client }) {
      const c = await client();
      const ids = await sessionWithHandle(c);
      const started = Date.now();
      const first = poll(gw, `/${ids.s}`, 5000);
      await sleep(100);
      const second = poll(gw, `/${ids.s}`, 5000);
      await sleep(100);
      const transaction = tx("m");
      assertShape(
        await c.send({
          janus: "message",
          transaction,
          session_id: ids.s,
          handle_id: ids.h,
          body: { audio: true },
        }),
        { janus: "ack", session_id: ids.s, transaction, hint: HINT },
      );
      const [a, b] = await Promise.all([first, second]);
      assert.ok(a && b, "a poll did not answer");
      assert.ok(Date.now() - started < 3000, "the second poll waited for its own timeout");
      assertShape(jsonOf(a) as JsonObject, ok(ids, transaction), "earliest poll");
      assert.deepEqual(jsonOf(b), { janus: "keepalive" }, "other poll");
      await destroySession(c, ids.s);
    },
  },
  {
    name: "GET on a session owned by a WebSocket is 404",
    only: "http",
    async run({ gw, client }) {
      const ws = await client("ws");
      const s = await createSession(ws);
      const res = await poll(gw, `/${s}`, 2000);
      assert.ok(res, "GET on a WS-owned session hung instead of 404");
      assertEmpty(res, 404, "GET WS-owned");
      await destroySession(ws, s);
    },
  },
];
