/**
 * Core requests over any transport: info, ping, create, the envelope checks,
 * request levels, and the 458/459 texts.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type ApiCase,
  assertShape,
  attachEcho,
  createSession,
  destroySession,
  ECHOTEST,
  errorShape,
  expectError,
  type JsonObject,
  sessionWithHandle,
  tx,
} from "./_util.ts";

/** `server_info` keys, in the reference's order. */
const INFO_KEYS = [
  "janus",
  "transaction",
  "name",
  "version",
  "version_string",
  "author",
  "commit-hash",
  "compile-time",
  "log-to-stdout",
  "log-to-file",
  "data_channels",
  "accepting-new-sessions",
  "session-timeout",
  "reclaim-session-timeout",
  "candidates-timeout",
  "server-name",
  "local-ip",
  "ipv6",
  "ice-lite",
  "ice-tcp",
  "ice-nomination",
  "ice-keepalive-conncheck",
  "full-trickle",
  "mdns-enabled",
  "min-nack-queue",
  "nack-optimizations",
  "twcc-period",
  "dtls-mtu",
  "static-event-loops",
  "api_secret",
  "auth_token",
  "event_handlers",
  "opaqueid_in_api",
  "dependencies",
  "transports",
  "events",
  "loggers",
  "plugins",
];

const BOOLEAN_INFO_KEYS = [
  "log-to-stdout",
  "log-to-file",
  "data_channels",
  "accepting-new-sessions",
  "ipv6",
  "ice-lite",
  "ice-tcp",
  "ice-keepalive-conncheck",
  "full-trickle",
  "mdns-enabled",
  "nack-optimizations",
  "api_secret",
  "auth_token",
  "event_handlers",
  "opaqueid_in_api",
];

const MODULE_KEYS = ["name", "author", "description", "version_string", "version"];

/** Checks a `server_info` reply (shared with the HTTP `GET /janus/info` case). */
export function checkServerInfo(info: JsonObject, transaction?: string): void {
  assert.equal(info.janus, "server_info");
  if (transaction !== undefined) assert.equal(info.transaction, transaction);
  assert.deepEqual(Object.keys(info), INFO_KEYS);
  assert.equal(info.version, 1102);
  assert.equal(info.version_string, "1.1.2");
  assert.equal(info.name, "Janus WebRTC Server");
  for (const key of BOOLEAN_INFO_KEYS) {
    assert.equal(typeof info[key], "boolean", `${key} should be a JSON boolean`);
  }
  for (const key of ["session-timeout", "reclaim-session-timeout", "candidates-timeout"]) {
    assert.equal(typeof info[key], "number", `${key} should be a number`);
  }
  assert.equal(info["session-timeout"], 60);
  assert.equal(info["reclaim-session-timeout"], 0);
  assert.equal(info.api_secret, false);
  assert.equal(info.auth_token, false);
  assert.equal(info.opaqueid_in_api, false);
  const plugins = info.plugins as JsonObject;
  const echo = plugins[ECHOTEST] as JsonObject | undefined;
  assert.ok(echo, `plugins should list ${ECHOTEST}: ${JSON.stringify(plugins)}`);
  assert.deepEqual(Object.keys(echo), MODULE_KEYS);
  assert.equal(typeof echo.version, "number");
  assert.equal(typeof echo.version_string, "string");
  const transports = info.transports as JsonObject;
  for (const t of ["janus.transport.http", "janus.transport.websockets"]) {
    assert.deepEqual(Object.keys(transports[t] as JsonObject), MODULE_KEYS, t);
  }
}

const BAD_ID = "Invalid element type (id should be a positive integer)";

export const CORE_CASES: ApiCase[] = [
  {
    name: "info returns server_info with the reference keys and echotest in plugins",
    async run({ client }) {
      const c = await client();
      const transaction = tx("info");
      checkServerInfo(await c.send({ janus: "info", transaction }), transaction);
    },
  },
  {
    name: "ping answers pong with only the transaction",
    async run({ client }) {
      const c = await client();
      const transaction = tx("ping");
      assertShape(await c.send({ janus: "ping", transaction }), { janus: "pong", transaction });
      assertShape(await c.send({ janus: "ping", transaction: "" }), {
        janus: "pong",
        transaction: "",
      });
    },
  },
  {
    name: "create makes random ids below 2^53, without session_id in the reply",
    async run({ client }) {
      const c = await client();
      const a = await createSession(c);
      const b = await createSession(c);
      for (const id of [a, b]) {
        assert.ok(Number.isSafeInteger(id) && id > 0 && id < 2 ** 53, `bad id ${id}`);
      }
      assert.notEqual(a, b);
      await destroySession(c, a);
      await destroySession(c, b);
    },
  },
  {
    name: "create with a client id uses it; a duplicate is 468 with session_id",
    async run({ client }) {
      const c = await client();
      assert.equal(await createSession(c, { id: 123456 }), 123456);
      const transaction = tx("dup");
      await expectError(
        c,
        { janus: "create", transaction, id: 123456 },
        468,
        "Session ID already in use",
        { session_id: 123456, transaction },
      );
      await destroySession(c, 123456);
    },
  },
  {
    name: "create with id 0 picks a random id",
    async run({ client }) {
      const c = await client();
      const id = await createSession(c, { id: 0 });
      assert.ok(id > 0 && id < 2 ** 53);
      await destroySession(c, id);
    },
  },
  {
    name: "create with a bad id type is 467 without transaction",
    async run({ client }) {
      const c = await client();
      for (const id of ["x", -5, 1.5, true, {}]) {
        await expectError(c, { janus: "create", transaction: tx("bad"), id }, 467, BAD_ID);
      }
    },
  },
  {
    name: "id is validated on every request: attach with id 'x' is 467 with session_id only",
    async run({ client }) {
      const c = await client();
      const s = await createSession(c);
      await expectError(
        c,
        { janus: "attach", transaction: tx("a"), session_id: s, plugin: ECHOTEST, id: "x" },
        467,
        BAD_ID,
        { session_id: s },
      );
      await destroySession(c, s);
    },
  },
  {
    name: "envelope: {} is 456 transaction and {transaction} is 456 janus, never echoed",
    async run({ client }) {
      const c = await client();
      await expectError(c, {}, 456, "Missing mandatory element (transaction)");
      await expectError(c, { janus: "ping" }, 456, "Missing mandatory element (transaction)");
      await expectError(c, { transaction: "a" }, 456, "Missing mandatory element (janus)");
    },
  },
  {
    name: "envelope: wrong types are 467 in the order transaction, janus, id",
    async run({ client }) {
      const c = await client();
      const tr = "Invalid element type (transaction should be a string)";
      const jn = "Invalid element type (janus should be a string)";
      await expectError(c, { janus: "ping", transaction: 5 }, 467, tr);
      await expectError(c, { janus: 5, transaction: 5 }, 467, tr);
      await expectError(c, { transaction: "a", janus: 5 }, 467, jn);
      await expectError(c, { transaction: "a", janus: ["ping"] }, 467, jn);
      await expectError(c, { transaction: "a", janus: 5, id: "x" }, 467, jn);
      await expectError(c, { transaction: "a", janus: "ping", id: "x" }, 467, BAD_ID);
    },
  },
  {
    name: "envelope errors carry the request's session_id (even an unknown one)",
    async run({ client }) {
      const c = await client();
      const s = await createSession(c);
      const jn = "Invalid element type (janus should be a string)";
      await expectError(c, { transaction: "a", janus: 5, session_id: s }, 467, jn, {
        session_id: s,
      });
      await expectError(c, { transaction: "a", janus: 5, session_id: 4242 }, 467, jn, {
        session_id: 4242,
      });
      await destroySession(c, s);
    },
  },
  {
    name: "request names are case-insensitive (PING, Create, KeepAlive, Destroy)",
    async run({ client }) {
      const c = await client();
      assertShape(await c.send({ janus: "PING", transaction: "p" }), {
        janus: "pong",
        transaction: "p",
      });
      const reply = await c.send({ janus: "Create", transaction: "c" });
      const s = (reply.data as JsonObject).id as number;
      assertShape(reply, { janus: "success", transaction: "c", data: { id: s } });
      assertShape(await c.send({ janus: "KeepAlive", transaction: "k", session_id: s }), {
        janus: "ack",
        session_id: s,
        transaction: "k",
      });
      assertShape(await c.send({ janus: "Destroy", transaction: "d", session_id: s }), {
        janus: "success",
        session_id: s,
        transaction: "d",
      });
    },
  },
  {
    name: "root level: anything but info/ping/create is 457, unknown names too",
    async run({ client }) {
      const c = await client();
      const verbs = [
        "attach",
        "keepalive",
        "claim",
        "destroy",
        "message",
        "trickle",
        "hangup",
        "detach",
        "foo",
      ];
      for (const verb of verbs) {
        const transaction = tx(verb);
        await expectError(
          c,
          { janus: verb, transaction },
          457,
          `Unhandled request '${verb}' at this path`,
          { transaction },
        );
      }
      const transaction = tx("zero");
      await expectError(
        c,
        { janus: "keepalive", transaction, session_id: 0 },
        457,
        "Unhandled request 'keepalive' at this path",
        { transaction },
      );
    },
  },
  {
    name: "session level: info/ping/create and unknown names are 453",
    async run({ client }) {
      const c = await client();
      const s = await createSession(c);
      for (const verb of ["info", "ping", "create", "foo"]) {
        const transaction = tx(verb);
        await expectError(
          c,
          { janus: verb, transaction, session_id: s },
          453,
          `Unknown request '${verb}'`,
          { session_id: s, transaction },
        );
      }
      await destroySession(c, s);
    },
  },
  {
    name: "session level: handle-only requests are 457",
    async run({ client }) {
      const c = await client();
      const s = await createSession(c);
      for (const verb of ["message", "trickle", "hangup", "detach"]) {
        const transaction = tx(verb);
        await expectError(
          c,
          { janus: verb, transaction, session_id: s },
          457,
          `Unhandled request '${verb}' at this path`,
          { session_id: s, transaction },
        );
      }
      await destroySession(c, s);
    },
  },
  {
    name: "handle level: attach/destroy are 457, info/ping/create/unknown are 453",
    async run({ client }) {
      const c = await client();
      const { s, h } = await sessionWithHandle(c);
      for (const verb of ["attach", "destroy"]) {
        const transaction = tx(verb);
        await expectError(
          c,
          { janus: verb, transaction, session_id: s, handle_id: h, plugin: ECHOTEST },
          457,
          `Unhandled request '${verb}' at this path`,
          { session_id: s, transaction },
        );
      }
      for (const verb of ["info", "ping", "create", "foo"]) {
        const transaction = tx(verb);
        await expectError(
          c,
          { janus: verb, transaction, session_id: s, handle_id: h },
          453,
          `Unknown request '${verb}'`,
          { session_id: s, transaction },
        );
      }
      await destroySession(c, s);
    },
  },
  {
    name: "458 'No such session N' and 459 'No such handle H in session S'",
    async run({ client }) {
      const c = await client();
      const t1 = tx("k");
      await expectError(
        c,
        { janus: "keepalive", transaction: t1, session_id: 4242 },
        458,
        "No such session 4242",
        { session_id: 4242, transaction: t1 },
      );
      const t2 = tx("a");
      await expectError(
        c,
        { janus: "attach", transaction: t2, session_id: 4242, plugin: ECHOTEST },
        458,
        "No such session 4242",
        { session_id: 4242, transaction: t2 },
      );
      const s = await createSession(c);
      await attachEcho(c, s);
      const t3 = tx("k");
      await expectError(
        c,
        { janus: "keepalive", transaction: t3, session_id: s, handle_id: 5 },
        459,
        `No such handle 5 in session ${s}`,
        { session_id: s, transaction: t3 },
      );
      const t4 = tx("m");
      await expectError(
        c,
        { janus: "message", transaction: t4, session_id: s, handle_id: 5, body: {} },
        459,
        `No such handle 5 in session ${s}`,
        { session_id: s, transaction: t4 },
      );
      await destroySession(c, s);
    },
  },
  {
    name: "non-integer ids: 457 at root, 458 'Session not found', 459 'Handle not found'",
    async run({ client }) {
      const c = await client();
      const s = await createSession(c);
      const unhandled = "Unhandled request 'keepalive' at this path";
      // sendRaw posts to the root path over HTTP: the ids travel only in the body.
      for (const session_id of ["x", 1.5]) {
        const transaction = tx("k");
        const reply = await c.sendRaw(
          JSON.stringify({ janus: "keepalive", transaction, session_id }),
        );
        assertShape(reply, errorShape(457, unhandled, { transaction }), `session_id ${session_id}`);
      }
      const t1 = tx("k");
      await expectError(
        c,
        { janus: "keepalive", transaction: t1, session_id: "x", handle_id: 5 },
        458,
        "Session not found",
        { transaction: t1 },
      );
      const t2 = tx("k");
      await expectError(
        c,
        { janus: "keepalive", transaction: t2, handle_id: 5 },
        458,
        "Session not found",
        { transaction: t2 },
      );
      const t3 = tx("k");
      await expectError(
        c,
        { janus: "keepalive", transaction: t3, session_id: s, handle_id: "x" },
        459,
        "Handle not found",
        { session_id: s, transaction: t3 },
      );
      await destroySession(c, s);
    },
  },
];
