/**
 * Handle requests over any transport: attach, message and JSEP checks, echotest
 * signalling, trickle, hangup, detach, destroy, keepalive and claim.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type ApiCase,
  assertShape,
  createSession,
  destroySession,
  echoEvent,
  echoMessage,
  ECHOTEST,
  expectError,
  type JsonObject,
  keepalive,
  nextEvent,
  noEvent,
  sessionWithHandle,
  tx,
  VALID_SDP,
} from "./_util.ts";

const CANDIDATE = {
  candidate: "candidate:1510613869 1 udp 2122063615 127.0.0.1 45324 typ host generation 0",
  sdpMid: "0",
  sdpMLineIndex: 0,
};

export const HANDLE_CASES: ApiCase[] = [
  {
    name: "attach: success with data.id; 456 plugin; 467 plugin/opaque_id/loop_index types; 460",
    async run({ client }) {
      const c = await client();
      const s = await createSession(c);
      const base = { janus: "attach", session_id: s };
      let transaction = tx("a");
      await expectError(
        c,
        { ...base, transaction },
        456,
        "Missing mandatory element (plugin)",
        { session_id: s, transaction },
      );
      transaction = tx("a");
      await expectError(
        c,
        { ...base, transaction, plugin: 5 },
        467,
        "Invalid element type (plugin should be a string)",
        { session_id: s, transaction },
      );
      transaction = tx("a");
      await expectError(
        c,
        { ...base, transaction, plugin: ECHOTEST, opaque_id: 5 },
        467,
        "Invalid element type (opaque_id should be a string)",
        { session_id: s, transaction },
      );
      for (const loop of ["x", -1]) {
        transaction = tx("a");
        await expectError(
          c,
          { ...base, transaction, plugin: "janus.plugin.nope", loop_index: loop },
          467,
          "Invalid element type (loop_index should be a positive integer)",
          { session_id: s, transaction },
        );
      }
      transaction = tx("a");
      await expectError(
        c,
        { ...base, transaction, plugin: "janus.plugin.nope" },
        460,
        "No such plugin 'janus.plugin.nope'",
        { session_id: s, transaction },
      );
      transaction = tx("a");
      const reply = await c.send({
        ...base,
        transaction,
        plugin: ECHOTEST,
        opaque_id: "op-1",
        loop_index: 3,
      });
      const h = (reply.data as JsonObject | undefined)?.id;
      assert.ok(typeof h === "number" && h > 0 && h < 2 ** 53, JSON.stringify(reply));
      assertShape(reply, { janus: "success", session_id: s, transaction, data: { id: h } });
      await destroySession(c, s);
    },
  },
  {
    name: "message: 456 without body, 467 for a non-object body",
    async run({ client }) {
      const c = await client();
      const { s, h } = await sessionWithHandle(c);
      const base = { janus: "message", session_id: s, handle_id: h };
      let transaction = tx("m");
      await expectError(c, { ...base, transaction }, 456, "Missing mandatory element (body)", {
        session_id: s,
        transaction,
      });
      for (const body of [5, "x", [], null]) {
        transaction = tx("m");
        await expectError(
          c,
          { ...base, transaction, body },
          467,
          "Invalid element type (body should be an object)",
          { session_id: s, transaction },
        );
      }
      await destroySession(c, s);
    },
  },
  {
    name: "message: jsep errors 455/456/467/464/465 with the reference texts",
    async run({ client }) {
      const c = await client();
      const { s, h } = await sessionWithHandle(c);
      const cases: [unknown, number, string][] = [
        [5, 455, "Invalid jsep object"],
        [[], 455, "Invalid jsep object"],
        [null, 455, "Invalid jsep object"],
        [{}, 456, "JSEP error: missing mandatory element (type)"],
        [{ type: "offer" }, 456, "JSEP error: missing mandatory element (sdp)"],
        [{ sdp: "v=0" }, 456, "JSEP error: missing mandatory element (type)"],
        [
          { type: 5, sdp: "v=0" },
          467,
          "JSEP error: invalid element type (type should be a string)",
        ],
        [
          { type: "offer", sdp: 5 },
          467,
          "JSEP error: invalid element type (sdp should be a string)",
        ],
        [{ type: "pranswer", sdp: "v=0" }, 464, "JSEP error: unknown message type 'pranswer'"],
        [{ type: "offer", sdp: "hello" }, 465, "Invalid SDP (doesn't start with v=)"],
        [{ type: "answer", sdp: "v=0" }, 465, "Missing mandatory lines (o=, s= or m=)"],
      ];
      for (const [jsep, code, reason] of cases) {
        const transaction = tx("j");
        await expectError(
          c,
          {
            janus: "message",
            transaction,
            session_id: s,
            handle_id: h,
            body: {},
            jsep,
          } as JsonObject,
          code,
          reason,
          { session_id: s, transaction },
        );
      }
      await destroySession(c, s);
    },
  },
  {
    name: "message: an answer on a handle that never offered is 469",
    async run({ client }) {
      const c = await client();
      const { s, h } = await sessionWithHandle(c);
      const transaction = tx("ans");
      await expectError(
        c,
        {
          janus: "message",
          transaction,
          session_id: s,
          handle_id: h,
          body: { audio: true },
          jsep: { type: "answer", sdp: VALID_SDP },
        },
        469,
        "Unexpected ANSWER (did we offer?)",
        { session_id: s, transaction },
      );
      await destroySession(c, s);
    },
  },
  {
    name: "echotest: ack with hint, then result ok with the same transaction",
    async run({ client }) {
      const c = await client();
      const ids = await sessionWithHandle(c);
      const bodies = [
        { audio: false },
        { video: true, bitrate: 128000 },
        { fallback: 5 },
        { min_delay: 5 },
        { max_delay: -5 },
      ];
      for (const body of bodies) {
        const { transaction, event } = await echoMessage(c, ids, body);
        assertShape(
          event,
          echoEvent(ids.s, ids.h, { echotest: "event", result: "ok" }, transaction),
          `event of ${JSON.stringify(body)}`,
        );
      }
      await destroySession(c, ids.s);
    },
  },
  {
    name: "echotest: {} and unknown-only bodies give event 413 'no supported attributes'",
    async run({ client }) {
      const c = await client();
      const ids = await sessionWithHandle(c);
      for (const body of [{}, { request: "foo" }, { spatial_layer: 1 }]) {
        const { transaction, event } = await echoMessage(c, ids, body);
        assertShape(
          event,
          echoEvent(ids.s, ids.h, {
            echotest: "event",
            error_code: 413,
            error: "Message error: no supported attributes found",
          }, transaction),
        );
      }
      await destroySession(c, ids.s);
    },
  },
  {
    name: "echotest: wrong attribute types give event 413 with the reference texts",
    async run({ client }) {
      const c = await client();
      const ids = await sessionWithHandle(c);
      const cases: [JsonObject, string][] = [
        [{ bitrate: "abc" }, "Invalid element type (bitrate should be a positive integer)"],
        [{ bitrate: -5 }, "Invalid element type (bitrate should be a positive integer)"],
        [{ audio: "yes" }, "Invalid element type (audio should be a boolean)"],
        [{ video: 1 }, "Invalid element type (video should be a boolean)"],
        [
          { fallback: "x", audiocodec: 5 },
          "Invalid element type (fallback should be a positive integer)",
        ],
        [
          { fallback: "x", temporal: "x" },
          "Invalid element type (temporal should be a positive integer)",
        ],
        [{ min_delay: "x", opusred: "x" }, "Invalid element type (opusred should be a boolean)"],
        [
          { min_delay: "x", max_delay: "x" },
          "Invalid element type (min_delay should be an integer)",
        ],
      ];
      for (const [body, error] of cases) {
        const { transaction, event } = await echoMessage(c, ids, body);
        assertShape(
          event,
          echoEvent(ids.s, ids.h, { echotest: "event", error_code: 413, error }, transaction),
        );
      }
      await destroySession(c, ids.s);
    },
  },
  {
    name: "trickle: both candidate and candidates is 454, neither is 456",
    async run({ client }) {
      const c = await client();
      const { s, h } = await sessionWithHandle(c);
      let transaction = tx("t");
      await expectError(
        c,
        {
          janus: "trickle",
          transaction,
          session_id: s,
          handle_id: h,
          candidate: CANDIDATE,
          candidates: [CANDIDATE],
        },
        454,
        "Can't have both candidate and candidates",
        { session_id: s, transaction },
      );
      transaction = tx("t");
      await expectError(
        c,
        { janus: "trickle", transaction, session_id: s, handle_id: h },
        456,
        "Missing mandatory element (candidate|candidates)",
        { session_id: s, transaction },
      );
      await destroySession(c, s);
    },
  },
  {
    name: "trickle before a PeerConnection: everything is queued and acked, even junk",
    async run({ client }) {
      const c = await client();
      const { s, h } = await sessionWithHandle(c);
      const bodies: JsonObject[] = [
        { candidate: CANDIDATE },
        { candidate: 5 },
        { candidate: null },
        { candidate: {} },
        { candidate: { sdpMid: 5 } },
        { candidate: { ...CANDIDATE, sdpMLineIndex: 1, sdpMid: "1" } },
        { candidates: [CANDIDATE, { ...CANDIDATE, candidate: "garbage" }] },
        { candidates: [] },
        { candidates: 5 },
        { candidate: { completed: true } },
      ];
      for (const extra of bodies) {
        const transaction = tx("t");
        const reply = await c.send({
          janus: "trickle",
          transaction,
          session_id: s,
          handle_id: h,
          ...extra,
        });
        assertShape(reply, { janus: "ack", session_id: s, transaction }, JSON.stringify(extra));
      }
      await noEvent(c, s);
      await destroySession(c, s);
    },
  },
  {
    name: "hangup without a PeerConnection: success, result done (no transaction), no hangup",
    async run({ client }) {
      const c = await client();
      const { s, h } = await sessionWithHandle(c);
      const transaction = tx("h");
      const reply = await c.send({ janus: "hangup", transaction, session_id: s, handle_id: h });
      assertShape(reply, { janus: "success", session_id: s, transaction });
      assertShape(
        await nextEvent(c, s),
        echoEvent(s, h, { echotest: "event", result: "done" }),
      );
      await noEvent(c, s);
      await destroySession(c, s);
    },
  },
  {
    name: "hangup twice without a PeerConnection: only the first gives result done",
    async run({ client }) {
      const c = await client();
      const { s, h } = await sessionWithHandle(c);
      for (const n of [1, 2]) {
        const transaction = tx(`h${n}`);
        const reply = await c.send({ janus: "hangup", transaction, session_id: s, handle_id: h });
        assertShape(reply, { janus: "success", session_id: s, transaction });
        if (n === 1) {
          assertShape(
            await nextEvent(c, s),
            echoEvent(s, h, { echotest: "event", result: "done" }),
          );
        }
      }
      await noEvent(c, s, 500);
      await destroySession(c, s);
    },
  },
  {
    name: "detach: success, then detached; later requests on the handle are 459",
    async run({ client }) {
      const c = await client();
      const { s, h } = await sessionWithHandle(c);
      const transaction = tx("d");
      const reply = await c.send({ janus: "detach", transaction, session_id: s, handle_id: h });
      assertShape(reply, { janus: "success", session_id: s, transaction });
      let event = await nextEvent(c, s);
      // The reference races echotest's own teardown event against the detach; allow it.
      if (event.janus === "event") {
        assertShape(event, echoEvent(s, h, { echotest: "event", result: "done" }));
        event = await nextEvent(c, s);
      }
      assertShape(event, { janus: "detached", session_id: s, sender: h });
      await noEvent(c, s);
      for (const verb of ["keepalive", "detach", "hangup"]) {
        const t = tx(verb);
        await expectError(
          c,
          { janus: verb, transaction: t, session_id: s, handle_id: h },
          459,
          `No such handle ${h} in session ${s}`,
          { session_id: s, transaction: t },
        );
      }
      const t = tx("m");
      await expectError(
        c,
        { janus: "message", transaction: t, session_id: s, handle_id: h, body: { audio: true } },
        459,
        `No such handle ${h} in session ${s}`,
        { session_id: s, transaction: t },
      );
      await destroySession(c, s);
    },
  },
  {
    name: "destroy: success, no events, later requests are 458",
    async run({ client, kind }) {
      const c = await client();
      const { s, h } = await sessionWithHandle(c);
      await destroySession(c, s);
      if (kind === "ws") await noEvent(c, s);
      else assert.deepEqual(await c.event(s, { timeoutMs: 1000 }), { janus: "http-404" });
      for (
        const body of [
          { janus: "keepalive", session_id: s },
          { janus: "destroy", session_id: s },
          { janus: "attach", session_id: s, plugin: ECHOTEST },
          { janus: "message", session_id: s, handle_id: h, body: {} },
        ]
      ) {
        const transaction = tx("after");
        await expectError(c, { ...body, transaction }, 458, `No such session ${s}`, {
          session_id: s,
          transaction,
        });
      }
    },
  },
  {
    name: "keepalive: ack at session and handle level, no events",
    async run({ client }) {
      const c = await client();
      const { s, h } = await sessionWithHandle(c);
      await keepalive(c, s);
      await keepalive(c, s, { handle_id: h });
      await noEvent(c, s);
      await destroySession(c, s);
    },
  },
  {
    name: "claim: success at session and handle level for the owner itself",
    async run({ client }) {
      const c = await client();
      const { s, h } = await sessionWithHandle(c);
      for (const extra of [{}, { handle_id: h }]) {
        const transaction = tx("claim");
        assertShape(await c.send({ janus: "claim", transaction, session_id: s, ...extra }), {
          janus: "success",
          session_id: s,
          transaction,
        });
      }
      // Events still reach the owner after a claim.
      const { transaction, event } = await echoMessage(c, { s, h }, { audio: true });
      assertShape(event, echoEvent(s, h, { echotest: "event", result: "ok" }, transaction));
      await destroySession(c, s);
    },
  },
];
