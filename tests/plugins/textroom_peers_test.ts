/**
 * TextRoom with real data-channel clients (node-datachannel, in `_textroom_peer_host.ts`)
 * through the gateway's RTP media worker: joins, public and private messages, announcements,
 * kicks, destroys, history replay, leaves and hangups, in the order and shapes the reference
 * sends them (measured on Janus 1.1.2, docs/plugins/textroom.md). Every test ends with the
 * plugin's participants and sessions back at zero. Run inside the test network namespace:
 * `deno task test tests/plugins/textroom_peers_test.ts`.
 */
import assert from "node:assert/strict";
import type { ConfigInput } from "../../core/config.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { openSignal, type Signal } from "./_signal.ts";
import {
  DcHost,
  openSession,
  startTextRoomGateway,
  type TextRoomGateway,
  type TextRoomUser,
} from "./_textroom_peers.ts";

/** `2026-11-24T00:42:00+0000`. */
const DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$/;

interface World {
  gw: TextRoomGateway;
  sig: Signal;
  host: DcHost;
  session: number;
  /** Connected users, named. */
  users(...names: string[]): Promise<TextRoomUser[]>;
}

/** A test with a gateway, one WebSocket, a client host and one Janus session. */
function roomTest(
  name: string,
  fn: (w: World) => Promise<void>,
  config: ConfigInput = {},
  kind: "ws" | "http" = "http",
): void {
  Deno.test(name, async () => {
    assertInsideNetns();
    const gw = await startTextRoomGateway(config);
    let sig: Signal | undefined;
    let host: DcHost | undefined;
    try {
      sig = await openSignal(kind, gw);
      host = await DcHost.start();
      const session = await openSession(sig);
      const users = async (...names: string[]) => {
        const list = names.map((n) => host!.user(sig!, session, n));
        for (const u of list) await u.connect();
        return list;
      };
      await fn({ gw, sig, host, session, users });
      await sig.request({ janus: "destroy", session_id: session, transaction: "end" });
      const counts = gw.textroom();
      assert.equal(counts.participants, 0, JSON.stringify(counts));
      assert.equal(counts.sessions, 0, JSON.stringify(counts));
    } finally {
      await host?.stop();
      await sig?.close();
      await gw.stop();
    }
  });
}

async function create(u: TextRoomUser, body: JsonObject): Promise<number> {
  const reply = await u.request({ textroom: "create", ...body });
  assert.equal(reply.textroom, "success", JSON.stringify(reply));
  assert.equal(reply.permanent, false);
  return reply.room as number;
}

roomTest(
  "textroom join, public message, leave: events, echoes and order as the reference",
  async (w) => {
    const [alice, bob] = await w.users("alice", "bob");
    assert.ok(alice && bob);
    const R = await create(alice, { room: 970401 });
    // The joiner hears its own join before the success, which lists the others.
    await alice.send({ textroom: "join", room: R, username: "alice", display: "Alice" });
    const [joined, ok] = await alice.take(2);
    assert.deepEqual(joined, { textroom: "join", room: R, username: "alice", display: "Alice" });
    assert.deepEqual(Object.keys(ok ?? {}), ["textroom", "participants", "transaction"]);
    assert.deepEqual(ok?.participants, []);
    const bobJoin = await bob.request({ textroom: "join", room: R, username: "bob" });
    assert.deepEqual(bobJoin.participants, [{ username: "alice", display: "Alice" }]);
    assert.deepEqual(bob.inbox.splice(0), [{ textroom: "join", room: R, username: "bob" }]);
    assert.deepEqual(await alice.next(() => true), { textroom: "join", room: R, username: "bob" });
    // A public message reaches everyone, its sender first (before its success).
    const tx = await bob.send({ textroom: "message", room: R, text: "hello all" });
    const [echo, success] = await bob.take(2);
    assert.deepEqual(Object.keys(echo ?? {}), ["textroom", "room", "from", "date", "text"]);
    assert.equal(echo?.from, "bob");
    assert.equal(echo?.text, "hello all");
    assert.match(String(echo?.date), DATE);
    assert.deepEqual(success, { textroom: "success", transaction: tx });
    const heard = await alice.next(() => true);
    assert.deepEqual(heard, echo);
    // Listing: num_participants, and listparticipants without a textroom key.
    const listed = await alice.request({ textroom: "listparticipants", room: R });
    assert.deepEqual(Object.keys(listed), ["room", "participants", "transaction"]);
    assert.deepEqual(listed.participants, [{ username: "alice", display: "Alice" }, {
      username: "bob",
    }]);
    assert.equal(w.gw.textroom().participants, 2);
    // Leave: the leaver and the others hear it; then the leaver is out (422).
    const left = await bob.request({ textroom: "leave", room: R });
    assert.deepEqual(left, { textroom: "success", transaction: left.transaction });
    assert.deepEqual(bob.inbox.splice(0), [{ textroom: "leave", room: R, username: "bob" }]);
    assert.deepEqual(await alice.next(() => true), { textroom: "leave", room: R, username: "bob" });
    const out = await bob.request({ textroom: "message", room: R, text: "x" });
    assert.deepEqual(out, {
      textroom: "error",
      error_code: 422,
      error: `Not in room ${R}`,
      transaction: out.transaction,
    });
    // Detaching leaves the rooms: the others hear `leave`.
    await alice.detach();
    await bob.quiet(200);
    assert.equal(w.gw.textroom().participants, 0);
    await alice.quiet(0);
  },
);

roomTest(
  "textroom whispers (to, tos), ack:false and announcements reach only whom they should",
  async (w) => {
    const [alice, bob, carol] = await w.users("alice", "bob", "carol");
    assert.ok(alice && bob && carol);
    const R = await create(alice, { room: 970402, secret: "s" });
    for (const u of [alice, bob, carol]) {
      await u.request({ textroom: "join", room: R, username: u.name });
    }
    for (const u of [alice, bob, carol]) u.inbox.splice(0);
    await new Promise((r) => setTimeout(r, 200));
    for (const u of [alice, bob, carol]) u.inbox.splice(0);
    // `to`: only the target, with whisper; the sender gets `sent` and no copy.
    const to = await alice.request({ textroom: "message", room: R, text: "psst", to: "bob" });
    assert.deepEqual(to, { textroom: "success", sent: { bob: true }, transaction: to.transaction });
    const whisper = await bob.next(() => true);
    assert.deepEqual(Object.keys(whisper), ["textroom", "room", "from", "date", "text", "whisper"]);
    assert.deepEqual({ ...whisper, date: "" }, {
      textroom: "message",
      room: R,
      from: "alice",
      date: "",
      text: "psst",
      whisper: true,
    });
    // `tos`: each target once; unknown names are false in `sent`.
    const tos = await bob.request({
      textroom: "message",
      room: R,
      text: "to some",
      tos: ["alice", "carol", "zed"],
    });
    assert.deepEqual(tos.sent, { alice: true, carol: true, zed: false });
    assert.equal((await alice.next(() => true)).text, "to some");
    assert.equal((await carol.next(() => true)).text, "to some");
    // ack:false: the message goes out, no reply comes back.
    await carol.send({ textroom: "message", room: R, text: "quiet", ack: false });
    assert.equal((await carol.next(() => true)).text, "quiet");
    assert.equal((await alice.next(() => true)).text, "quiet");
    assert.equal((await bob.next(() => true)).text, "quiet");
    // An announcement (needs the room secret) reaches everyone.
    const ann = await bob.request({ textroom: "announcement", room: R, secret: "s", text: "hear" });
    assert.deepEqual(ann, { textroom: "success", transaction: ann.transaction });
    for (const u of [alice, bob, carol]) {
      const a = await u.next(() => true);
      assert.deepEqual(Object.keys(a), ["textroom", "room", "date", "text"]);
      assert.equal(a.textroom, "announcement");
      assert.equal(a.text, "hear");
    }
    const both = await alice.request({ textroom: "message", room: R, text: "x", to: "a", tos: [] });
    assert.deepEqual(both, {
      textroom: "error",
      error_code: 414,
      error: "Both to and tos array provided",
      transaction: both.transaction,
    });
    const bad = await alice.request({ textroom: "message", room: R, text: "x", tos: [1] });
    assert.equal(bad.error_code, 414);
    for (const u of [alice, bob, carol]) await u.quiet(0);
  },
);

roomTest(
  "textroom kick, rejoin and destroy: kicked and destroyed go to whom the reference sends them",
  async (w) => {
    const [alice, bob] = await w.users("alice", "bob");
    assert.ok(alice && bob);
    const R = await create(alice, { room: 970403, secret: "s", pin: "p" });
    const noPin = await bob.request({ textroom: "join", room: R, username: "bob" });
    assert.deepEqual(noPin, {
      textroom: "error",
      error_code: 413,
      error: "Missing mandatory element (pin)",
      transaction: noPin.transaction,
    });
    const wrongPin = await bob.request({ textroom: "join", room: R, username: "bob", pin: "x" });
    assert.equal(wrongPin.error, "Unauthorized (wrong pin)");
    assert.equal(wrongPin.error_code, 419);
    await alice.request({ textroom: "join", room: R, username: "alice", pin: "p" });
    await bob.request({ textroom: "join", room: R, username: "bob", pin: "p" });
    const taken = await bob.request({ textroom: "join", room: R, username: "bob", pin: "p" });
    assert.deepEqual([taken.error_code, taken.error], [421, `Already in room ${R}`]);
    await new Promise((r) => setTimeout(r, 200));
    alice.inbox.splice(0);
    bob.inbox.splice(0);
    // Kick: everyone hears `kicked`, the kicked user too; the reply is the reference's typo.
    const kick = await alice.request({ textroom: "kick", room: R, secret: "s", username: "bob" });
    assert.deepEqual(kick, { textbridge: "success", transaction: kick.transaction });
    assert.deepEqual(alice.inbox.splice(0), [{ textroom: "kicked", room: R, username: "bob" }]);
    assert.deepEqual(await bob.next(() => true), { textroom: "kicked", room: R, username: "bob" });
    const after = await bob.request({ textroom: "leave", room: R });
    assert.deepEqual([after.error_code, after.error], [422, `Not in room ${R}`]);
    // The kicked user's PeerConnection stays: it may join again.
    const back = await bob.request({ textroom: "join", room: R, username: "bob", pin: "p" });
    assert.equal(back.textroom, "success");
    await new Promise((r) => setTimeout(r, 200));
    alice.inbox.splice(0);
    bob.inbox.splice(0);
    // Destroy by a participant: the destroyer hears `destroyed` twice (as requester and as one
    // of the participants), the others once; the room is gone.
    const gone = await alice.request({ textroom: "destroy", room: R, secret: "s" });
    assert.deepEqual(gone, {
      textroom: "success",
      room: R,
      permanent: false,
      transaction: gone.transaction,
    });
    assert.deepEqual(alice.inbox.splice(0), [
      { textroom: "destroyed", room: R },
      { textroom: "destroyed", room: R },
    ]);
    assert.deepEqual(await bob.next(() => true), { textroom: "destroyed", room: R });
    const none = await bob.request({ textroom: "message", room: R, text: "x" });
    assert.deepEqual([none.error_code, none.error], [417, `No such room (${R})`]);
    assert.equal(w.gw.textroom().participants, 0);
    await bob.quiet(100);
  },
);

roomTest(
  "textroom history: the last N public messages and announcements, then join, replayed to a joiner",
  async (w) => {
    const [alice, bob, carol] = await w.users("alice", "bob", "carol");
    assert.ok(alice && bob && carol);
    const R = await create(alice, { room: 970404, history: 2, secret: "s" });
    await alice.request({ textroom: "join", room: R, username: "alice", display: "Alice" });
    await alice.request({ textroom: "message", room: R, text: "one" });
    await alice.request({ textroom: "message", room: R, text: "two", to: "alice" });
    await alice.request({ textroom: "message", room: R, text: "three" });
    await alice.request({ textroom: "announcement", room: R, secret: "s", text: "four" });
    const tx = await bob.send({ textroom: "join", room: R, username: "bob" });
    const got = await bob.take(4);
    // Whispers are not kept; messages carry the sender's display, announcements none.
    assert.deepEqual(got.map((m) => [m.textroom, m.text, m.display]), [
      ["message", "three", "Alice"],
      ["announcement", "four", undefined],
      ["join", undefined, undefined],
      ["success", undefined, undefined],
    ]);
    assert.deepEqual(Object.keys(got[0] ?? {}), [
      "textroom",
      "room",
      "from",
      "date",
      "text",
      "display",
    ]);
    assert.equal(got[3]?.transaction, tx);
    // history:false skips the replay.
    const carolJoin = await carol.send({
      textroom: "join",
      room: R,
      username: "carol",
      history: false,
    });
    const [cj, cok] = await carol.take(2);
    assert.equal(cj?.textroom, "join");
    assert.equal(cok?.transaction, carolJoin);
    assert.equal(
      ((await alice.request({ textroom: "list" })).list as JsonObject[]).find((r) => r.room === R)
        ?.history,
      2,
    );
  },
);

roomTest(
  "textroom bad data-channel input: reference's errors, silence for binary and non-JSON, 64 KiB messages",
  async (w) => {
    const [alice, bob] = await w.users("alice", "bob");
    assert.ok(alice && bob);
    await alice.request({ textroom: "join", room: 1234, username: "alice" });
    await bob.request({ textroom: "join", room: 1234, username: "bob" });
    await new Promise((r) => setTimeout(r, 200));
    alice.inbox.splice(0);
    bob.inbox.splice(0);
    // No transaction: the error has none either.
    await alice.sendText(JSON.stringify({ textroom: "list" }));
    assert.deepEqual(await alice.next(() => true), {
      textroom: "error",
      error_code: 413,
      error: "Missing mandatory element (transaction)",
    });
    await alice.sendText("[1,2]");
    assert.equal((await alice.next(() => true)).error, "Missing mandatory element (textroom)");
    await alice.sendText(JSON.stringify({ textroom: 5, transaction: "t" }));
    assert.equal(
      (await alice.next(() => true)).error,
      "Invalid element type (textroom should be a string)",
    );
    const foo = await alice.request({ textroom: "foo" });
    assert.deepEqual([foo.error_code, foo.error], [415, "Unsupported request foo"]);
    const noText = await alice.request({ textroom: "message", room: 1234 });
    assert.deepEqual([noText.error_code, noText.error], [413, "Missing mandatory element (text)"]);
    const badRoom = await alice.request({ textroom: "join", room: "1234", username: "x" });
    assert.deepEqual([badRoom.error_code, badRoom.error], [
      414,
      "Invalid element type (room should be a positive integer)",
    ]);
    const noRoom = await alice.request({ textroom: "join", room: 999, username: "x" });
    assert.deepEqual([noRoom.error_code, noRoom.error], [417, "No such room (999)"]);
    const dup = await bob.request({ textroom: "create", room: 1234 });
    assert.deepEqual([dup.error_code, dup.error], [418, "Room 1234 already exists"]);
    const wrong = await bob.request({ textroom: "destroy", room: 1234, secret: "x" });
    assert.deepEqual([wrong.error_code, wrong.error], [419, "Unauthorized (wrong secret)"]);
    const user = await bob.request({
      textroom: "kick",
      room: 1234,
      secret: "adminpwd",
      username: "zz",
    });
    assert.deepEqual([user.error_code, user.error], [423, "No such user zz in room 1234"]);
    // Binary messages, text that is not JSON and JSON scalars get no answer at all.
    await alice.sendBinary(
      new TextEncoder().encode(JSON.stringify({ textroom: "list", transaction: "b" })),
    );
    await alice.sendText("not json");
    await alice.sendText("5");
    await alice.quiet(300);
    // Messages past 16 KiB (up to the reference's 64 KiB) go through whole.
    for (const size of [20_000, 60_000]) {
      const text = "x".repeat(size);
      const ok = await alice.request({ textroom: "message", room: 1234, text });
      assert.equal(ok.textroom, "success");
      assert.equal((await alice.next((m) => m.textroom === "message")).text, text);
      assert.equal((await bob.next(() => true)).text, text);
    }
    // Past max_message_bytes (65535, the reference's limit) a message is dropped.
    await alice.send({ textroom: "message", room: 1234, text: "y".repeat(70_000) });
    await alice.quiet(300);
    await bob.quiet(0);
    // The room still works.
    assert.equal(
      (await alice.request({ textroom: "message", room: 1234, text: "ok" })).textroom,
      "success",
    );
  },
);

roomTest(
  "textroom hangup leaves every room; setup again is 416, restart renegotiates and chat goes on",
  async (w) => {
    const [alice, bob] = await w.users("alice", "bob");
    assert.ok(alice && bob);
    const R = await create(alice, { room: 970406 });
    await alice.request({ textroom: "join", room: R, username: "alice" });
    await bob.request({ textroom: "join", room: R, username: "bob" });
    await bob.request({ textroom: "join", room: 1234, username: "bob" });
    await new Promise((r) => setTimeout(r, 200));
    alice.inbox.splice(0);
    assert.equal(w.gw.textroom().participants, 3);
    await bob.hangup();
    assert.deepEqual(await alice.next(() => true), { textroom: "leave", room: R, username: "bob" });
    assert.equal(w.gw.textroom().participants, 1);
    const again = await bob.api({ request: "setup" });
    assert.deepEqual((again.plugindata as JsonObject).data, {
      textroom: "error",
      error_code: 416,
      error: "PeerConnection already setup",
    });
    // restart on a live PeerConnection: a new offer on it, answered; the channel keeps working.
    await alice.restart();
    const msg = await alice.request({ textroom: "message", room: R, text: "still here" });
    assert.equal(msg.textroom, "success");
    assert.equal((await alice.next((m) => m.textroom === "message")).text, "still here");
  },
);

roomTest("textroom json compact: one-line replies and events", async (w) => {
  const [alice] = await w.users("alice");
  assert.ok(alice);
  await alice.request({ textroom: "join", room: 1234, username: "alice" });
  assert.deepEqual(alice.raw.slice(0, 2).map((t) => t.replace(/"transaction":"[^"]*"/, "T")), [
    '{"textroom":"join","room":1234,"username":"alice"}',
    '{"textroom":"success","participants":[],T}',
  ]);
}, { plugins: { "janus.plugin.textroom": { json: "compact" } } });

roomTest(
  "textroom post: public messages and announcements are POSTed to the room's backend",
  async (w) => {
    const posted: { type: string | null; body: string }[] = [];
    const got = Promise.withResolvers<void>();
    await using server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (req) => {
        posted.push({ type: req.headers.get("content-type"), body: await req.text() });
        if (posted.length === 2) got.resolve();
        return new Response("{}");
      },
    );
    const [alice] = await w.users("alice");
    assert.ok(alice);
    const url = `http://127.0.0.1:${server.addr.port}/textroom`;
    const R = await create(alice, { room: 970407, post: url, secret: "s" });
    await alice.request({ textroom: "join", room: R, username: "alice" });
    await alice.request({ textroom: "message", room: R, text: "whisper", to: "alice" });
    await alice.request({ textroom: "message", room: R, text: "public" });
    await alice.request({ textroom: "announcement", room: R, secret: "s", text: "ann" });
    await got.promise;
    assert.deepEqual(posted.map((p) => [p.type, (JSON.parse(p.body) as JsonObject).text]), [
      ["application/json", "public"],
      ["application/json", "ann"],
    ]);
    // The plugin's request settles once the backend's reply is read.
    for (let i = 0; i < 100 && w.gw.textroom().posts > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(w.gw.textroom().posts, 0);
  },
);

roomTest(
  "textroom 100 participants (signalling over one WebSocket): one message reaches all of them",
  async (w) => {
    const N = 100;
    const users = Array.from({ length: N }, (_, i) => w.host.user(w.sig, w.session, `u${i}`));
    const started = performance.now();
    for (let i = 0; i < N; i += 10) {
      await Promise.all(users.slice(i, i + 10).map((u) => u.connect()));
    }
    const connected = performance.now();
    const R = await create(users[0]!, { room: 970408 });
    // One after another, so that each hears the joins of all who come after it.
    for (const u of users) {
      await u.request({ textroom: "join", room: R, username: u.name, history: false });
    }
    assert.equal(w.gw.textroom().participants, N);
    await Promise.all(
      users.map((u) => u.next((m) => m.textroom === "join" && m.username === `u${N - 1}`)),
    );
    for (const u of users) u.inbox.splice(0);
    const sent = performance.now();
    await users[N - 1]!.send({ textroom: "message", room: R, text: "to all" });
    const heard = await Promise.all(users.map((u) => u.next((m) => m.textroom === "message")));
    const delivered = performance.now();
    for (const m of heard) assert.deepEqual([m.from, m.text], [`u${N - 1}`, "to all"]);
    // deno-lint-ignore no-console
    console.log(
      `100 participants: connected in ${Math.round(connected - started)} ms, ` +
        `one message to all in ${Math.round(delivered - sent)} ms`,
    );
    const list = await users[0]!.request({ textroom: "listparticipants", room: R });
    assert.equal((list.participants as JsonObject[]).length, N);
  },
  {},
  "ws",
);
