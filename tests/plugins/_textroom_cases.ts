/**
 * TextRoom signalling cases over the Janus API, run once over HTTP and once over WebSocket
 * (`textroom_signalling_test.ts`): PeerConnection setup (`setup`, `ack`, `restart`), the
 * management requests and their reply shapes, and the errors, as measured on Janus 1.1.2
 * (docs/plugins/textroom.md). Cases with `media` get a media worker (no client peer: the
 * answer is a hand-made SDP, so no connection is made).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import type { TestGateway } from "../_helpers/gateway.ts";
import { type JanusClient, tx } from "../_helpers/janus_client.ts";
import { TEXTROOM } from "./_textroom_peers.ts";

/** What a case gets. */
export interface CaseContext {
  gw: TestGateway;
  c: JanusClient;
}

/** One signalling case. */
export interface TextRoomCase {
  name: string;
  /** Needs a media worker (`setup` makes a PeerConnection). */
  media?: boolean;
  run(ctx: CaseContext): Promise<void>;
}

/** A session with one TextRoom handle. */
interface Handle {
  c: JanusClient;
  session: number;
  handle: number;
}

async function open(c: JanusClient): Promise<Handle> {
  const created = await c.send({ janus: "create", transaction: tx("c") });
  const session = (created.data as JsonObject).id as number;
  const attached = await c.send({
    janus: "attach",
    session_id: session,
    plugin: TEXTROOM,
    transaction: tx("a"),
  });
  assert.equal(attached.janus, "success", JSON.stringify(attached));
  return { c, session, handle: (attached.data as JsonObject).id as number };
}

async function close(h: Handle): Promise<void> {
  const reply = await h.c.send({ janus: "destroy", session_id: h.session, transaction: tx("d") });
  assert.equal(reply.janus, "success");
}

function message(h: Handle, body: JsonObject, jsep?: JsonObject): Promise<JsonObject> {
  return h.c.send({
    janus: "message",
    session_id: h.session,
    handle_id: h.handle,
    transaction: tx("m"),
    body,
    ...(jsep ? { jsep } : {}),
  });
}

/** A request answered at once: asserts `success` from the plugin, resolves its data. */
async function sync(h: Handle, body: JsonObject): Promise<JsonObject> {
  const reply = await message(h, body);
  assert.equal(reply.janus, "success", JSON.stringify(reply));
  assert.equal(reply.sender, h.handle);
  const pd = reply.plugindata as JsonObject;
  assert.equal(pd.plugin, TEXTROOM);
  return pd.data as JsonObject;
}

/** An asynchronous request: asserts a bare `ack`, resolves its event. */
async function ask(h: Handle, body: JsonObject, jsep?: JsonObject): Promise<JsonObject> {
  const reply = await message(h, body, jsep);
  assert.deepEqual(reply, { janus: "ack", session_id: h.session, transaction: reply.transaction });
  const event = await h.c.event(h.session, { timeoutMs: 8000 });
  assert.ok(event, `an event for ${JSON.stringify(body)}`);
  assert.equal(event.janus, "event", JSON.stringify(event));
  assert.equal(event.transaction, reply.transaction);
  assert.equal((event.plugindata as JsonObject).plugin, TEXTROOM);
  return event;
}

const dataOf = (e: JsonObject) => (e.plugindata as JsonObject).data as JsonObject;
const err = (code: number, error: string): JsonObject => ({
  textroom: "error",
  error_code: code,
  error,
});
const apiErr = (code: number, error: string): JsonObject => ({
  textroom: "event",
  error_code: code,
  error,
});

/** Asserts deep equality and the key order of `expected`. */
function same(actual: JsonObject, expected: JsonObject): void {
  assert.deepEqual(actual, expected);
  assert.deepEqual(Object.keys(actual), Object.keys(expected), JSON.stringify(actual));
}

/** A client's answer to our data-channel offer (same mid; no connection ever comes of it). */
export function answerTo(offer: string): string {
  const mid = /^a=mid:(\S+)/m.exec(offer)?.[1] ?? "0";
  const fingerprint = Array.from(
    { length: 32 },
    (_, i) => (i * 7 % 256).toString(16).padStart(2, "0"),
  )
    .join(":").toUpperCase();
  return [
    "v=0",
    "o=- 1 1 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    `a=group:BUNDLE ${mid}`,
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "c=IN IP4 0.0.0.0",
    `a=mid:${mid}`,
    "a=sctp-port:5000",
    "a=ice-ufrag:abcd",
    "a=ice-pwd:abcdefghijklmnopqrstuvwx",
    `a=fingerprint:sha-256 ${fingerprint}`,
    "a=setup:active",
    "",
  ].join("\r\n");
}

/** The stock room as `list` shows it. */
export const ROOM_1234 = {
  room: 1234,
  description: "Demo Room",
  pin_required: false,
  num_participants: 0,
  history: 0,
};

export const TEXTROOM_CASES: TextRoomCase[] = [
  {
    name: "list shows the stock room 1234 with the reference's keys; exists",
    async run({ c }) {
      const h = await open(c);
      const list = await sync(h, { request: "list" });
      same(list, { textroom: "success", list: [ROOM_1234] });
      same((list.list as JsonObject[])[0] as JsonObject, ROOM_1234);
      same(await sync(h, { request: "exists", room: 1234 }), {
        textroom: "success",
        room: 1234,
        exists: true,
      });
      same(await sync(h, { request: "exists", room: 4321 }), {
        textroom: "success",
        room: 4321,
        exists: false,
      });
      same(await sync(h, { request: "listparticipants", room: 1234 }), {
        room: 1234,
        participants: [],
      });
      await close(h);
    },
  },
  {
    name: "create/edit/destroy answer created/edited/destroyed; secrets and pins as the reference",
    async run({ c }) {
      const h = await open(c);
      const R = 970301;
      same(
        await sync(h, {
          request: "create",
          room: R,
          description: "Mine",
          secret: "s",
          pin: "p",
          history: 5,
          is_private: true,
        }),
        { textroom: "created", room: R, permanent: false },
      );
      same(await sync(h, { request: "create", room: R }), err(418, `Room ${R} already exists`));
      // A private room is not listed.
      const listed = (await sync(h, { request: "list" })).list as JsonObject[];
      assert.deepEqual(listed.map((r) => r.room), [1234]);
      same(
        await sync(h, { request: "edit", room: R }),
        err(413, "Missing mandatory element (secret)"),
      );
      same(
        await sync(h, { request: "edit", room: R, secret: 1 }),
        err(414, "Invalid element type (secret should be a string)"),
      );
      same(
        await sync(h, { request: "edit", room: R, secret: "x" }),
        err(419, "Unauthorized (wrong secret)"),
      );
      same(
        await sync(h, { request: "edit", room: 999, secret: "x" }),
        err(417, "No such room (999)"),
      );
      same(
        await sync(h, {
          request: "edit",
          room: R,
          secret: "s",
          new_description: "Renamed",
          new_is_private: false,
          new_pin: "",
        }),
        { textroom: "edited", room: R, permanent: false },
      );
      const entry = ((await sync(h, { request: "list" })).list as JsonObject[]).find((r) =>
        r.room === R
      );
      // An empty new pin keeps the old one (the reference).
      same(entry ?? {}, {
        room: R,
        description: "Renamed",
        pin_required: true,
        num_participants: 0,
        history: 5,
      });
      same(
        await sync(h, { request: "destroy", room: R, secret: "x" }),
        err(419, "Unauthorized (wrong secret)"),
      );
      same(await sync(h, { request: "destroy", room: R, secret: "s" }), {
        textroom: "destroyed",
        room: R,
        permanent: false,
      });
      same(
        await sync(h, { request: "destroy", room: R, secret: "s" }),
        err(417, `No such room (${R})`),
      );
      // Without a room id the plugin picks one; without a description it is "Room N".
      const random = await sync(h, { request: "create" });
      assert.equal(random.textroom, "created");
      assert.ok(
        typeof random.room === "number" && Number.isSafeInteger(random.room) && random.room > 0,
      );
      const made = ((await sync(h, { request: "list" })).list as JsonObject[]).find((r) =>
        r.room === random.room
      );
      assert.equal(made?.description, `Room ${random.room}`);
      same(await sync(h, { request: "destroy", room: random.room }), {
        textroom: "destroyed",
        room: random.room,
        permanent: false,
      });
      await close(h);
    },
  },
  {
    name: "bad types and missing fields are 413/414 textroom errors; no config file is 499",
    async run({ c }) {
      const h = await open(c);
      const cases: [JsonObject, JsonObject][] = [
        [{ request: "exists" }, err(413, "Missing mandatory element (room)")],
        [
          { request: "exists", room: "1234" },
          err(414, "Invalid element type (room should be a positive integer)"),
        ],
        [
          { request: "exists", room: -5 },
          err(414, "Invalid element type (room should be a positive integer)"),
        ],
        [
          { request: "exists", room: 1.5 },
          err(414, "Invalid element type (room should be a positive integer)"),
        ],
        [
          { request: "create", history: -1 },
          err(414, "Invalid element type (history should be a positive integer)"),
        ],
        [
          { request: "create", is_private: "yes" },
          err(414, "Invalid element type (is_private should be a boolean)"),
        ],
        [
          { request: "create", allowed: "tok" },
          err(414, "Invalid element type (allowed should be an array)"),
        ],
        [
          { request: "create", allowed: [1] },
          err(414, "Invalid element in the allowed array (not a string)"),
        ],
        [
          { request: "create", history: 100000 },
          err(414, "Invalid element (history should be at most 1000)"),
        ],
        [
          { request: "create", permanent: true },
          err(499, "No configuration file, can't create permanent room"),
        ],
        [
          { request: "destroy", room: 1234, permanent: "x" },
          err(414, "Invalid element type (permanent should be a boolean)"),
        ],
        [{ request: "destroy", room: 1234 }, err(413, "Missing mandatory element (secret)")],
        [
          { request: "announcement", room: 1234, secret: "adminpwd" },
          err(413, "Missing mandatory element (text)"),
        ],
        [
          { request: "kick", room: 1234, secret: "adminpwd" },
          err(413, "Missing mandatory element (username)"),
        ],
        [{ request: "allowed", room: 1234 }, err(413, "Missing mandatory element (action)")],
        [{ request: "listparticipants", room: 4321 }, err(417, "No such room (4321)")],
      ];
      for (const [body, expected] of cases) {
        same(await sync(h, body), expected);
      }
      assert.deepEqual((await sync(h, { request: "list" })).list, [ROOM_1234]);
      await close(h);
    },
  },
  {
    name: "a missing, mistyped or unknown request is a textroom event error (415 for join/message)",
    async run({ c }) {
      const h = await open(c);
      same(await sync(h, {}), apiErr(413, "Missing mandatory element (request)"));
      same(await sync(h, { textroom: "list" }), apiErr(413, "Missing mandatory element (request)"));
      same(
        await sync(h, { request: 5 }),
        apiErr(414, "Invalid element type (request should be a string)"),
      );
      for (const name of ["join", "message", "leave", "foo"]) {
        same(
          await sync(h, { request: name, room: 1234 }),
          apiErr(415, `Unknown request '${name}'`),
        );
      }
      // Request names are case-insensitive, as in the reference.
      same(await sync(h, { request: "EXISTS", room: 1234 }), {
        textroom: "success",
        room: 1234,
        exists: true,
      });
      await close(h);
    },
  },
  {
    name: "allowed, kick and announcement over the Janus API: reply shapes and errors",
    async run({ c }) {
      const h = await open(c);
      const R = 970302;
      await sync(h, { request: "create", room: R, secret: "s", allowed: ["a"] });
      same(
        await sync(h, { request: "allowed", room: R, secret: "s", action: "add", allowed: ["b"] }),
        {
          textroom: "success",
          room: R,
          allowed: ["a", "b"],
        },
      );
      same(
        await sync(h, {
          request: "allowed",
          room: R,
          secret: "s",
          action: "remove",
          allowed: ["a"],
        }),
        {
          textroom: "success",
          room: R,
          allowed: ["b"],
        },
      );
      same(await sync(h, { request: "allowed", room: R, secret: "s", action: "disable" }), {
        textroom: "success",
        room: R,
      });
      same(await sync(h, { request: "allowed", room: R, secret: "s", action: "enable" }), {
        textroom: "success",
        room: R,
        allowed: ["b"],
      });
      same(
        await sync(h, { request: "allowed", room: R, secret: "s", action: "zz" }),
        err(414, "Unsupported action 'zz' (allowed)"),
      );
      same(
        await sync(h, { request: "allowed", room: R, secret: "s", action: "add", allowed: [2] }),
        err(414, "Invalid element in the allowed array (not a string)"),
      );
      same(
        await sync(h, { request: "allowed", room: R, secret: "x", action: "enable" }),
        err(419, "Unauthorized (wrong secret)"),
      );
      same(
        await sync(h, { request: "kick", room: R, secret: "s", username: "nobody" }),
        err(423, `No such user nobody in room ${R}`),
      );
      same(await sync(h, { request: "announcement", room: R, secret: "s", text: "hi" }), {
        textroom: "success",
      });
      same(
        await sync(h, { request: "announcement", room: R, secret: "x", text: "hi" }),
        err(419, "Unauthorized (wrong secret)"),
      );
      await sync(h, { request: "destroy", room: R, secret: "s" });
      await close(h);
    },
  },
  {
    name: "setup: ack then the offer (one m=application line); ack applies the answer; 416 twice",
    media: true,
    async run({ c }) {
      const h = await open(c);
      same(
        dataOf(await ask(h, { request: "restart" })),
        err(416, "PeerConnection not setup"),
      );
      const setup = await ask(h, { request: "setup" });
      same(dataOf(setup), { textroom: "event", result: "ok" });
      const jsep = setup.jsep as { type: string; sdp: string };
      assert.equal(jsep.type, "offer");
      const mLines = jsep.sdp.split("\r\n").filter((l) => l.startsWith("m="));
      assert.equal(mLines.length, 1, jsep.sdp);
      assert.match(mLines[0] ?? "", /^m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel$/);
      assert.match(jsep.sdp, /\r\na=sctp-port:5000\r\n/);
      same(
        dataOf(await ask(h, { request: "setup" })),
        err(416, "PeerConnection already setup"),
      );
      // An answer with `ack` goes to the PeerConnection before the plugin answers ok.
      same(
        dataOf(await ask(h, { request: "ack" }, { type: "answer", sdp: answerTo(jsep.sdp) })),
        { textroom: "event", result: "ok" },
      );
      // A second answer is not expected any more (the core's 469).
      const again = await message(h, { request: "ack" }, {
        type: "answer",
        sdp: answerTo(jsep.sdp),
      });
      assert.equal(again.janus, "error");
      assert.equal((again.error as JsonObject).code, 469);
      same(dataOf(await ask(h, { request: "ack" })), { textroom: "event", result: "ok" });
      // restart offers again on the same PeerConnection.
      const restart = await ask(h, { request: "restart" });
      same(dataOf(restart), { textroom: "event", result: "ok" });
      const offer = restart.jsep as { type: string; sdp: string };
      assert.equal(offer.type, "offer");
      assert.match(offer.sdp, /m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel/);
      same(
        dataOf(await ask(h, { request: "ack" }, { type: "answer", sdp: answerTo(offer.sdp) })),
        { textroom: "event", result: "ok" },
      );
      await close(h);
    },
  },
  {
    name: "setup without a media engine is a 499 event and can be asked again",
    async run({ c }) {
      const h = await open(c);
      const first = dataOf(await ask(h, { request: "setup" }));
      assert.equal(first.textroom, "error");
      assert.equal(first.error_code, 499);
      assert.equal(typeof first.error, "string");
      assert.equal(dataOf(await ask(h, { request: "setup" })).error_code, 499);
      await close(h);
    },
  },
];

/** Sends an admin `message_plugin` to the TextRoom plugin; resolves the reply's `response`. */
export async function adminMessage(gw: TestGateway, request: JsonObject): Promise<JsonObject> {
  const res = await fetch(gw.adminUrl, {
    method: "POST",
    body: JSON.stringify({
      janus: "message_plugin",
      plugin: TEXTROOM,
      transaction: tx("adm"),
      admin_secret: "janusoverlord",
      request,
    }),
  });
  const reply = await res.json() as JsonObject;
  assert.equal(reply.janus, "success", JSON.stringify(reply));
  return reply.response as JsonObject;
}

export { same };
