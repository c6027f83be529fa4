/**
 * WebSocket-only cases: event routing to the owner, claim, socket close and
 * reclaim, bad frames, the subprotocol, huge frames and bursts.
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
  echoEvent,
  errorShape,
  HINT,
  type JsonObject,
  keepalive,
  nextEvent,
  noEvent,
  openRawSocket,
  sleep,
  tx,
} from "./_util.ts";

const ok = (s: number, h: number, t: string) =>
  echoEvent(s, h, { echotest: "event", result: "ok" }, t);

/** Sends an echotest message from `c`; asserts the ack there. */
async function message(
  c: { send(body: JsonObject): Promise<JsonObject> },
  s: number,
  h: number,
): Promise<string> {
  const transaction = tx("m");
  const reply = await c.send({
    janus: "message",
    transaction,
    session_id: s,
    handle_id: h,
    body: { audio: true },
  });
  assertShape(reply, { janus: "ack", session_id: s, transaction, hint: HINT });
  return transaction;
}

export const WS_CASES: ApiCase[] = [
  {
    name: "events go to the owner socket: ack to the sender, event to the creator",
    only: "ws",
    async run({ client }) {
      const a = await client();
      const b = await client();
      const s = await createSession(a);
      const h = await attachEcho(b, s);
      const transaction = await message(b, s, h);
      assertShape(await nextEvent(a, s), ok(s, h, transaction));
      await noEvent(b, s);
      await destroySession(b, s);
    },
  },
  {
    name: "claim moves ownership: later events reach the claimer only",
    only: "ws",
    async run({ client }) {
      const a = await client();
      const b = await client();
      const s = await createSession(a);
      const h = await attachEcho(a, s);
      const transaction = tx("claim");
      assertShape(await b.send({ janus: "claim", transaction, session_id: s }), {
        janus: "success",
        session_id: s,
        transaction,
      });
      const t = await message(a, s, h);
      assertShape(await nextEvent(b, s), ok(s, h, t));
      await noEvent(a, s);
      // The old owner closing no longer affects the session.
      await a.close();
      await sleep(100);
      await keepalive(b, s);
      await destroySession(b, s);
    },
  },
  {
    name: "closing the owner socket destroys its sessions silently",
    only: "ws",
    async run({ client }) {
      const a = await client();
      const b = await client();
      const s = await createSession(a);
      await attachEcho(a, s);
      await keepalive(b, s);
      await a.close();
      await sleep(200);
      const transaction = tx("k");
      assertShape(
        await b.send({ janus: "keepalive", transaction, session_id: s }),
        errorShape(458, `No such session ${s}`, { session_id: s, transaction }),
      );
      await noEvent(b, s);
    },
  },
  {
    name: "closing a socket that does not own the session has no effect",
    only: "ws",
    async run({ client }) {
      const a = await client();
      const b = await client();
      const s = await createSession(a);
      const h = await attachEcho(b, s);
      await b.close();
      await sleep(200);
      const t = await message(a, s, h);
      assertShape(await nextEvent(a, s), ok(s, h, t));
      await destroySession(a, s);
    },
  },
  {
    name: "reclaim window: the session survives its socket until claimed, else 458",
    only: "ws",
    config: { general: { reclaim_session_timeout: 0.5, watchdog_interval: 0.1 } },
    async run({ client }) {
      const a = await client();
      const s = await createSession(a);
      const h = await attachEcho(a, s);
      await a.close();
      await sleep(100);
      const b = await client();
      await keepalive(b, s);
      const transaction = tx("claim");
      assertShape(await b.send({ janus: "claim", transaction, session_id: s }), {
        janus: "success",
        session_id: s,
        transaction,
      });
      await sleep(800);
      const t = await message(b, s, h);
      assertShape(await nextEvent(b, s), ok(s, h, t));

      const c = await client();
      const s2 = await createSession(c);
      await c.close();
      await sleep(1000);
      const d = await client();
      const late = tx("claim");
      assertShape(
        await d.send({ janus: "claim", transaction: late, session_id: s2 }),
        errorShape(458, `No such session ${s2}`, { session_id: s2, transaction: late }),
      );
      await destroySession(b, s);
    },
  },
  {
    name: "malformed JSON is 454 'Invalid Janus API request - ...' without transaction",
    only: "ws",
    async run({ client }) {
      const c = await client();
      for (const text of ["garbage", "{", '{"janus":"ping",']) {
        const reply = await c.sendRaw(text);
        assert.ok(reply, `no reply to ${text}`);
        assert.deepEqual(Object.keys(reply), ["janus", "error"], JSON.stringify(reply));
        const error = reply.error as JsonObject;
        assert.equal(reply.janus, "error");
        assert.equal(error.code, 454, JSON.stringify(reply));
        assert.ok(
          String(error.reason).startsWith("Invalid Janus API request - "),
          JSON.stringify(reply),
        );
      }
      assertShape(await c.send({ janus: "ping", transaction: "p" }), {
        janus: "pong",
        transaction: "p",
      });
    },
  },
  {
    name: 'top-level JSON scalars (5, null, "x") are 454 like any non-object text',
    only: "ws",
    async run({ client }) {
      const c = await client();
      for (const text of ["5", "null", '"x"']) {
        const reply = await c.sendRaw(text);
        assert.ok(reply, `no reply to ${text}`);
        assert.equal((reply.error as JsonObject | undefined)?.code, 454, JSON.stringify(reply));
      }
    },
  },
  {
    name: "a JSON array frame is 456 'Missing mandatory element (transaction)'",
    only: "ws",
    async run({ client }) {
      const c = await client();
      for (const text of ["[]", "[1]", '[{"janus":"ping","transaction":"p"}]']) {
        const reply = await c.sendRaw(text);
        assertShape(reply, errorShape(456, "Missing mandatory element (transaction)"), text);
      }
    },
  },
  {
    name: "the handshake needs janus-protocol; a plain GET gets 403",
    only: "ws",
    async run({ gw }) {
      for (const protocol of [undefined, "janus-admin-protocol", "nope"]) {
        let opened = false;
        try {
          const raw = await openRawSocket(gw.wsUrl, protocol);
          opened = true;
          await raw.close();
        } catch {
          // Refused, as expected.
        }
        assert.equal(opened, false, `handshake with protocol ${protocol} was accepted`);
      }
      const raw = await openRawSocket(gw.wsUrl, "janus-protocol");
      assert.equal(raw.ws.protocol, "janus-protocol");
      await raw.close();
      const res = await fetch(gw.wsUrl.replace(/^ws:/, "http:"));
      await res.body?.cancel();
      assert.equal(res.status, 403);
    },
  },
  {
    name: "a 2 MB frame closes the socket or errors, and others are still served",
    only: "ws",
    async run({ gw, client }) {
      const other = await client();
      const s = await createSession(other);
      const raw = await openRawSocket(gw.wsUrl, "janus-protocol");
      try {
        raw.ws.send(
          JSON.stringify({ janus: "ping", transaction: "big", pad: "x".repeat(2 << 20) }),
        );
        await raw.waitFor(1, 3000);
        const reply = raw.messages[0];
        if (reply) assert.equal(reply.janus, "error", JSON.stringify(reply).slice(0, 200));
        else assert.notEqual(raw.ws.readyState, WebSocket.OPEN, "no reply and still open");
      } finally {
        await raw.close();
      }
      await keepalive(other, s);
      assertShape(await other.send({ janus: "ping", transaction: "p" }), {
        janus: "pong",
        transaction: "p",
      });
      await destroySession(other, s);
    },
  },
  {
    name: "a burst of 200 keepalives is acked in full",
    only: "ws",
    async run({ gw, client }) {
      const c = await client();
      const s = await createSession(c);
      const raw = await openRawSocket(gw.wsUrl, "janus-protocol");
      try {
        const sent = Array.from({ length: 200 }, (_, i) => `burst-${i}`);
        for (const transaction of sent) {
          raw.ws.send(JSON.stringify({ janus: "keepalive", transaction, session_id: s }));
        }
        await raw.waitFor(200, 5000);
        assert.equal(raw.messages.length, 200, `only ${raw.messages.length} replies`);
        for (const reply of raw.messages) {
          assertShape(reply, { janus: "ack", session_id: s, transaction: reply.transaction });
        }
        assert.deepEqual(new Set(raw.messages.map((m) => m.transaction)), new Set(sent));
      } finally {
        await raw.close();
      }
      await destroySession(c, s);
    },
  },
];
