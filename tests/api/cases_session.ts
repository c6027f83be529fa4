/**
 * Session lifetime and security over any transport: session timeouts, keepalives,
 * `api_secret` and stored-token auth (tokens added over the admin HTTP API).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  addToken,
  type ApiCase,
  assertShape,
  attachEcho,
  createSession,
  destroySession,
  ECHOTEST,
  expectError,
  HINT,
  type JsonObject,
  jsonOf,
  keepalive,
  nextEvent,
  noEvent,
  rawHttp,
  SECRET,
  sleep,
  tx,
} from "./_util.ts";

const UNAUTHORIZED = "Unauthorized request (wrong or missing secret/token)";
const FAST_TIMEOUT = { general: { session_timeout: 0.5, watchdog_interval: 0.1 } };

export const SESSION_CASES: ApiCase[] = [
  {
    name: "session timeout: the owner gets {janus:timeout}, then the session is 458",
    config: FAST_TIMEOUT,
    async run({ client, kind }) {
      const c = await client();
      const s = await createSession(c);
      await attachEcho(c, s);
      // Over HTTP this is a long poll pending when the session expires.
      const started = Date.now();
      assertShape(await nextEvent(c, s, 3000), { janus: "timeout", session_id: s });
      assert.ok(Date.now() - started >= 300, "timed out too early");
      if (kind === "ws") await noEvent(c, s);
      else assert.deepEqual(await c.event(s, { timeoutMs: 1000 }), { janus: "http-404" });
      await expectError(
        c,
        { janus: "keepalive", transaction: "late", session_id: s },
        458,
        `No such session ${s}`,
        { session_id: s, transaction: "late" },
      );
    },
  },
  {
    name: "session timeout: keepalives every 0.2 s keep the session alive past 1 s",
    config: FAST_TIMEOUT,
    async run({ client, kind }) {
      const c = await client();
      const s = await createSession(c);
      for (let i = 0; i < 7; i++) {
        await sleep(200);
        await keepalive(c, s);
      }
      if (kind === "ws") await noEvent(c, s, 100);
      await destroySession(c, s);
    },
  },
  {
    name: "api_secret: create needs it (missing, wrong, non-string are 403); info/ping exempt",
    config: { general: { api_secret: SECRET } },
    async run({ client }) {
      const c = await client();
      for (const extra of [{}, { apisecret: "wrong" }, { apisecret: 5 }]) {
        const transaction = tx("c");
        await expectError(c, { janus: "create", transaction, ...extra }, 403, UNAUTHORIZED, {
          transaction,
        });
      }
      const info = await c.send({ janus: "info", transaction: "i" });
      assert.equal(info.janus, "server_info");
      assert.equal(info.api_secret, true);
      assertShape(await c.send({ janus: "ping", transaction: "p" }), {
        janus: "pong",
        transaction: "p",
      });
      const s = await createSession(c, { apisecret: SECRET });
      await destroySession(c, s, { apisecret: SECRET });
    },
  },
  {
    name: "api_secret: checked before the session lookup and on every session request",
    config: { general: { api_secret: SECRET } },
    async run({ client }) {
      const c = await client();
      const t1 = tx("k");
      await expectError(
        c,
        { janus: "keepalive", transaction: t1, session_id: 4242 },
        403,
        UNAUTHORIZED,
        { session_id: 4242, transaction: t1 },
      );
      const t2 = tx("k");
      await expectError(
        c,
        { janus: "keepalive", transaction: t2, session_id: 4242, apisecret: SECRET },
        458,
        "No such session 4242",
        { session_id: 4242, transaction: t2 },
      );
      const s = await createSession(c, { apisecret: SECRET });
      const h = await attachEcho(c, s, { apisecret: SECRET });
      const requests: JsonObject[] = [
        { janus: "attach", session_id: s, plugin: ECHOTEST },
        { janus: "keepalive", session_id: s },
        { janus: "claim", session_id: s },
        { janus: "foo", session_id: s },
        { janus: "message", session_id: s, handle_id: h, body: { audio: true } },
        { janus: "keepalive", session_id: s, handle_id: h, apisecret: "wrong" },
      ];
      for (const body of requests) {
        const transaction = tx("x");
        await expectError(c, { ...body, transaction }, 403, UNAUTHORIZED, {
          session_id: s,
          transaction,
        });
      }
      await keepalive(c, s, { apisecret: SECRET });
      const transaction = tx("m");
      assertShape(
        await c.send({
          janus: "message",
          transaction,
          session_id: s,
          handle_id: h,
          apisecret: SECRET,
          body: { audio: true },
        }),
        { janus: "ack", session_id: s, transaction, hint: HINT },
      );
      await destroySession(c, s, { apisecret: SECRET });
    },
  },
  {
    name: "api_secret: an unknown request at the root is 457 before the secret check",
    config: { general: { api_secret: SECRET } },
    async run({ client }) {
      const c = await client();
      const transaction = tx("foo");
      await expectError(
        c,
        { janus: "foo", transaction },
        457,
        "Unhandled request 'foo' at this path",
        { transaction },
      );
    },
  },
  {
    name: "api_secret: GET needs ?apisecret (bare 403, even for unknown S); /janus/info does not",
    only: "http",
    config: { general: { api_secret: SECRET }, http: { long_poll_timeout: 0.3 } },
    async run({ gw, client }) {
      const c = await client();
      const s = await createSession(c, { apisecret: SECRET });
      for (const q of ["", "?apisecret=wrong", "?token=s3cret"]) {
        const res = await rawHttp(`${gw.httpUrl}/${s}${q}`);
        assert.equal(res.status, 403, `GET ${q}`);
        assert.equal(res.text, "", `GET ${q}`);
      }
      const unknown = await rawHttp(`${gw.httpUrl}/4242`);
      assert.equal(unknown.status, 403);
      assert.equal(unknown.text, "");
      const okPoll = await rawHttp(`${gw.httpUrl}/${s}?apisecret=${SECRET}`);
      assert.equal(okPoll.status, 200);
      assert.deepEqual(jsonOf(okPoll), { janus: "keepalive" });
      const info = await rawHttp(`${gw.httpUrl}/info`);
      assert.equal(info.status, 200);
      assert.equal((jsonOf(info) as JsonObject).janus, "server_info");
      await destroySession(c, s, { apisecret: SECRET });
    },
  },
  {
    name: "token_auth: no/unknown token 403, valid token works, no plugin right is 405",
    config: { general: { token_auth: true } },
    async run({ gw, client }) {
      // Without a list, the token may use every loaded plugin.
      const all = await addToken(gw, "tokA");
      assert.ok(Array.isArray(all) && all.includes(ECHOTEST), JSON.stringify(all));
      assert.deepEqual(await addToken(gw, "tokV", ["janus.plugin.nope"]), []);
      const c = await client();
      const info = await c.send({ janus: "info", transaction: "i" });
      assert.equal(info.auth_token, true);
      for (const extra of [{}, { token: "nope" }, { token: 5 }]) {
        const transaction = tx("c");
        await expectError(c, { janus: "create", transaction, ...extra }, 403, UNAUTHORIZED, {
          transaction,
        });
      }
      const s = await createSession(c, { token: "tokA" });
      const h = await attachEcho(c, s, { token: "tokA" });
      const transaction = tx("a");
      await expectError(
        c,
        { janus: "attach", transaction, session_id: s, plugin: ECHOTEST, token: "tokV" },
        405,
        `Provided token can't access plugin '${ECHOTEST}'`,
        { session_id: s, transaction },
      );
      // Plugin rights are checked at attach only; any valid token passes elsewhere.
      await keepalive(c, s, { token: "tokV" });
      const t2 = tx("k");
      await expectError(
        c,
        { janus: "keepalive", transaction: t2, session_id: s },
        403,
        UNAUTHORIZED,
        {
          session_id: s,
          transaction: t2,
        },
      );
      const t3 = tx("m");
      assertShape(
        await c.send({
          janus: "message",
          transaction: t3,
          session_id: s,
          handle_id: h,
          token: "tokV",
          body: { audio: true },
        }),
        { janus: "ack", session_id: s, transaction: t3, hint: HINT },
      );
      await destroySession(c, s, { token: "tokA" });
    },
  },
  {
    name: "token_auth: GET needs a valid ?token",
    only: "http",
    config: { general: { token_auth: true }, http: { long_poll_timeout: 0.3 } },
    async run({ gw, client }) {
      await addToken(gw, "tokA");
      const c = await client();
      const s = await createSession(c, { token: "tokA" });
      for (const q of ["", "?token=nope"]) {
        const res = await rawHttp(`${gw.httpUrl}/${s}${q}`);
        assert.equal(res.status, 403, `GET ${q}`);
        assert.equal(res.text, "");
      }
      const res = await rawHttp(`${gw.httpUrl}/${s}?token=tokA`);
      assert.equal(res.status, 200);
      assert.deepEqual(jsonOf(res), { janus: "keepalive" });
      await destroySession(c, s, { token: "tokA" });
    },
  },
];
