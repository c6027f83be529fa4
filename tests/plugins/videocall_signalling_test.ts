/**
 * VideoCall signalling, one case list run over HTTP and over WebSocket: register, list, the
 * error codes and words of bad input, a call (calling, incomingcall with an offer mirroring the
 * caller's, accepted with our held answer), and every way a call ends, with each side's events
 * in the reference's order (measured on Janus 1.1.2). The SDPs are browser-like but never
 * connect: no media flows here (`videocall_media_test.ts` has real peers). After every case
 * the gateway and the plugin hold nothing: sessions, handles, peers, users, calls.
 *
 * Run: `deno task test tests/plugins/videocall_signalling_test.ts`
 */
import assert from "node:assert/strict";
import { recordingPath } from "../../plugins/videocall/recording.ts";
import type { ConfigInput } from "../../core/config.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { join } from "node:path";
import { httpClient, type JanusClient, wsClient } from "../_helpers/janus_client.ts";
import { handleInfo } from "./_echotest.ts";
import type { TestGateway } from "../_helpers/gateway.ts";
import {
  CLOSE_PC,
  failure,
  fakeAnswer,
  fakeOffer,
  hangup,
  hangupCall,
  jsepOf,
  pluginCounts,
  REMOTE,
  result,
  settled,
  type TestJsep,
  videoCallGateway,
  VideoCallUser,
} from "./_videocall.ts";

interface Context {
  gw: TestGateway;
  /** A new user on its own client of the transport under test. */
  user(): Promise<VideoCallUser>;
}

interface Case {
  name: string;
  config?: ConfigInput;
  run(ctx: Context): Promise<void>;
}

/** Registers a user as `name`. */
async function registered(ctx: Context, name: string): Promise<VideoCallUser> {
  const u = await ctx.user();
  assert.deepEqual(
    await u.ask({ request: "register", username: name }),
    result({ event: "registered", username: name }),
  );
  return u;
}

/** `caller` calls `callee` (named `calleeName`); resolves the offer the callee got. */
async function call(
  caller: VideoCallUser,
  callerName: string,
  callee: VideoCallUser,
  calleeName: string,
): Promise<TestJsep> {
  const offer = fakeOffer(callerName.slice(0, 3));
  assert.deepEqual(await caller.briefsOf({ request: "call", username: calleeName }, offer), [
    { tx: true, data: result({ event: "calling" }) },
  ]);
  const incoming = await callee.next();
  assert.deepEqual(
    (incoming.plugindata as JsonObject).data,
    result({ event: "incomingcall", username: callerName }),
  );
  const jsep = jsepOf(incoming);
  assert.equal(jsep.type, "offer");
  return jsep;
}

/** The callee accepts `offer`; the caller gets `accepted` with our answer. */
async function accept(
  caller: VideoCallUser,
  callee: VideoCallUser,
  calleeName: string,
  offer: TestJsep,
): Promise<TestJsep> {
  assert.deepEqual(
    await callee.briefsOf({ request: "accept" }, fakeAnswer(offer, calleeName.slice(0, 3))),
    [{ tx: true, data: result({ event: "accepted" }) }],
  );
  const accepted = await caller.next();
  assert.deepEqual(
    (accepted.plugindata as JsonObject).data,
    result({ event: "accepted", username: calleeName }),
  );
  return jsepOf(accepted);
}

/** Kinds, mids and directions of an SDP's m-lines; payload types of its codecs. */
function shape(sdp: string): string[] {
  return sdp.split(/\r\nm=/).slice(1).map((s) => {
    const kind = s.split(" ")[0];
    const mid = /\r\na=mid:(\S+)/.exec(s)?.[1];
    if (kind === "application") return `${kind} ${mid}`;
    const dir = /\r\na=(sendrecv|sendonly|recvonly|inactive)/.exec(s)?.[1] ?? "-";
    const maps = [...s.matchAll(/\r\na=rtpmap:(\d+) ([^/\r]+)/g)].map((m) =>
      `${m[1]} ${m[2]!.toLowerCase()}`
    );
    return [kind, mid, dir, ...maps].join(" ");
  });
}

const CASES: Case[] = [
  {
    name: "register, list, a taken or second username, bad requests (475, 474, 472)",
    async run(ctx) {
      const a = await ctx.user();
      assert.deepEqual(await a.ask({}), failure(475, "Missing mandatory element (request)"));
      assert.deepEqual(
        await a.ask({ request: 5 }),
        failure(474, "Invalid element type (request should be a string)"),
      );
      assert.deepEqual(await a.ask({ request: "foo" }), failure(472, "Unknown request (foo)"));
      assert.deepEqual(await a.ask({ request: "list" }), result({ list: [] }));
      assert.deepEqual(
        await a.ask({ request: "register" }),
        failure(475, "Missing mandatory element (username)"),
      );
      assert.deepEqual(
        await a.ask({ request: "register", username: 5 }),
        failure(474, "Invalid element type (username should be a string)"),
      );
      // Request names are matched without case, as the reference does.
      assert.deepEqual(
        await a.ask({ request: "REGISTER", username: "alice" }),
        result({ event: "registered", username: "alice" }),
      );
      assert.deepEqual(
        await a.ask({ request: "register", username: "other" }),
        failure(477, "Already registered (alice)"),
      );
      const b = await ctx.user();
      assert.deepEqual(
        await b.ask({ request: "register", username: "alice" }),
        failure(476, "Username 'alice' already taken"),
      );
      assert.deepEqual(
        await b.ask({ request: "register", username: "bob" }),
        result({ event: "registered", username: "bob" }),
      );
      const list = await a.ask({ request: "list" });
      assert.deepEqual(((list.result as JsonObject).list as string[]).toSorted(), ["alice", "bob"]);
      assert.equal(pluginCounts(ctx.gw).users, 2);
      // Detaching frees the username.
      assert.equal((await a.detach()).janus, "success");
      assert.deepEqual(await a.briefs(1), [{ janus: "detached" }]);
      await a.attach();
      assert.deepEqual(
        await b.ask({ request: "list" }),
        result({ list: ["bob"] }),
      );
      assert.deepEqual(
        await a.ask({ request: "register", username: "alice" }),
        result({ event: "registered", username: "alice" }),
      );
      await a.quiet();
      await b.quiet();
    },
  },
  {
    name: "before a call: call/accept/set/hangup errors, calling yourself or nobody, no SDP",
    async run(ctx) {
      const a = await ctx.user();
      assert.deepEqual(
        await a.ask({ request: "call", username: "bob" }),
        failure(473, "Register a username first"),
      );
      assert.deepEqual(
        await a.ask({ request: "accept" }),
        failure(481, "No incoming call to accept"),
      );
      // Without a call (or a username) a hangup still answers, without `username`.
      assert.deepEqual(await a.ask({ request: "hangup" }), hangup(undefined, "Explicit hangup"));
      assert.deepEqual(
        await a.ask({ request: "set", audio: "x" }),
        failure(474, "Invalid element type (audio should be a boolean)"),
      );
      assert.deepEqual(
        await a.ask({ request: "set", bitrate: -5 }),
        failure(474, "Invalid element type (bitrate should be a positive integer)"),
      );
      assert.deepEqual(
        await a.ask({ request: "set", substream: 5 }),
        failure(474, "Invalid value (substream should be 0, 1 or 2)"),
      );
      assert.deepEqual(
        await a.ask({ request: "set", temporal: "x" }),
        failure(474, "Invalid value (temporal should be 0, 1 or 2)"),
      );
      assert.deepEqual(
        await a.ask({ request: "set", fallback: -1 }),
        failure(474, "Invalid value (fallback should be a positive integer)"),
      );
      // Recording (without a call: nothing to record) and simulcast are accepted, as the
      // reference answers them.
      assert.deepEqual(
        await a.ask({
          request: "set",
          audio: true,
          video: false,
          bitrate: 128000,
          record: true,
          filename: "x",
          substream: 1,
          temporal: 0,
          restart: true,
        }),
        result({ event: "set" }),
      );
      assert.deepEqual(
        await a.ask({ request: "register", username: "alice" }),
        result({ event: "registered", username: "alice" }),
      );
      const b = await registered(ctx, "bob");
      assert.deepEqual(
        await a.ask({ request: "call" }),
        failure(475, "Missing mandatory element (username)"),
      );
      assert.deepEqual(
        await a.ask({ request: "call", username: 7 }),
        failure(474, "Invalid element type (username should be a string)"),
      );
      assert.deepEqual(
        await a.ask({ request: "call", username: "alice" }),
        failure(479, "You can't call yourself... use the EchoTest for that"),
      );
      assert.deepEqual(
        await a.ask({ request: "call", username: "nobody" }),
        failure(478, "Username 'nobody' doesn't exist"),
      );
      assert.deepEqual(
        await a.ask({ request: "call", username: "bob" }),
        failure(482, "Missing SDP"),
      );
      // An answer where no offer of ours is out is the core's 469, before the plugin.
      const reply = await a.message(
        { request: "call", username: "bob" },
        fakeAnswer(fakeOffer("zz"), "zz"),
      );
      assert.equal(reply.janus, "error", JSON.stringify(reply));
      assert.equal((reply.error as JsonObject).code, 469);
      await settled(ctx.gw);
      await a.quiet();
      await b.quiet();
    },
  },
  {
    name:
      "a call: calling, incomingcall with a mirrored offer, accepted with our answer; the callee hangs up",
    async run(ctx) {
      const a = await registered(ctx, "alice");
      const b = await registered(ctx, "bob");
      const offer = await call(a, "alice", b, "bob");
      // The callee's offer mirrors what we answered the caller: same mids, codec and payload
      // types (H264 is not relayed: the caller is answered VP8 only), each sendrecv.
      assert.deepEqual(shape(offer.sdp), [
        "audio 0 sendrecv 111 opus",
        "video 1 sendrecv 96 vp8 97 rtx",
        "application 2",
      ]);
      const list = (await b.ask({ request: "list" })).result as JsonObject;
      assert.deepEqual((list.list as string[]).toSorted(), ["alice", "bob"]);
      const answer = await accept(a, b, "bob", offer);
      assert.equal(answer.type, "answer");
      assert.deepEqual(shape(answer.sdp), [
        "audio 0 sendrecv 111 opus",
        "video 1 sendrecv 96 vp8 97 rtx",
        "application 2",
      ]);
      assert.equal(pluginCounts(ctx.gw).calls, 1);
      assert.equal(ctx.gw.counts().peers, 2);
      assert.deepEqual(
        await a.ask({ request: "set", audio: false, video: true, bitrate: 256000 }),
        result({ event: "set" }),
      );
      await hangupCall(b, "bob", a, "alice");
      await settled(ctx.gw, 2);
      // Both can call again.
      const again = await call(b, "bob", a, "alice");
      await accept(b, a, "alice", again);
      assert.equal(pluginCounts(ctx.gw).calls, 1);
      await a.quiet();
      await b.quiet();
    },
  },
  {
    name:
      "renegotiation is relayed: a side's offer in 'set' is the other's 'update' offer, whose answer is the offerer's 'update' answer; both ways",
    async run(ctx) {
      const a = await registered(ctx, "alice");
      const b = await registered(ctx, "bob");
      const ours = await accept(a, b, "bob", await call(a, "alice", b, "bob"));
      // Alice keeps the DTLS role our answer left her when she answers our offer.
      const aliceRole = /a=setup:active/.test(ours.sdp) ? "passive" : "active";
      const renegotiate = async (
        from: VideoCallUser,
        fromTag: string,
        to: VideoCallUser,
        toTag: string,
      ) => {
        // The same ICE credentials: a plain renegotiation (the data channel dropped).
        const offer = fakeOffer(fromTag, { data: false });
        assert.deepEqual(await from.briefsOf({ request: "set" }, offer), [
          { tx: true, data: result({ event: "set" }) },
        ]);
        const update = await to.next();
        assert.deepEqual(
          { data: (update.plugindata as JsonObject).data, tx: update.transaction },
          { data: result({ event: "update" }), tx: undefined },
        );
        const theirs = jsepOf(update);
        assert.equal(theirs.type, "offer");
        // A new offer of the other side's peer: the relayed lines, as in the call's.
        assert.deepEqual(shape(theirs.sdp).slice(0, 2), [
          "audio 0 sendrecv 111 opus",
          "video 1 sendrecv 96 vp8 97 rtx",
        ]);
        await from.quiet(200);
        assert.deepEqual(
          await to.briefsOf({ request: "set" }, {
            type: "answer",
            sdp: fakeAnswer(theirs, toTag).sdp.replaceAll(
              "a=setup:active",
              `a=setup:${to === a ? aliceRole : "active"}`,
            ),
          }),
          [{ tx: true, data: result({ event: "set" }) }],
        );
        const answered = await from.next();
        assert.deepEqual(
          { data: (answered.plugindata as JsonObject).data, tx: answered.transaction },
          { data: result({ event: "update" }), tx: undefined },
        );
        const ours = jsepOf(answered);
        assert.equal(ours.type, "answer");
        assert.deepEqual(shape(ours.sdp).slice(0, 2), [
          "audio 0 sendrecv 111 opus",
          "video 1 sendrecv 96 vp8 97 rtx",
        ]);
      };
      await renegotiate(a, "ali", b, "bob");
      await renegotiate(b, "bob", a, "ali");
      assert.equal(ctx.gw.counts().peers, 2);
      await hangupCall(a, "alice", b, "bob");
      await settled(ctx.gw, 2);
      // Outside a call an offer in 'set' is not answered (nor is it by the reference).
      assert.deepEqual(await a.briefsOf({ request: "set" }, fakeOffer("ali")), [
        { tx: true, data: result({ event: "set" }) },
      ]);
      await a.quiet();
      await b.quiet();
    },
  },
  {
    name:
      "set record: each side's files named as the reference's (filename base, a folder made), shown in handle_info, closed by record false",
    async run(ctx) {
      const dir = await Deno.makeTempDir({ prefix: "videocall-rec-" });
      try {
        const a = await registered(ctx, "alice");
        const b = await registered(ctx, "bob");
        await accept(a, b, "bob", await call(a, "alice", b, "bob"));
        const base = join(dir, "nested", "alice");
        assert.deepEqual(
          await a.ask({ request: "set", record: true, filename: base }),
          result({ event: "set" }),
        );
        assert.deepEqual(
          ((await handleInfo(ctx.gw, a.session, a.handle)).plugin_specific as JsonObject)
            .recording,
          { audio: "alice-audio.mjr", video: "alice-video.mjr" },
        );
        assert.deepEqual(
          (await Array.fromAsync(Deno.readDir(join(dir, "nested")))).map((e) => e.name).toSorted(),
          ["alice-audio.mjr", "alice-video.mjr"],
        );
        assert.deepEqual(
          await a.ask({ request: "set", record: false }),
          result({ event: "set" }),
        );
        const info = (await handleInfo(ctx.gw, a.session, a.handle)).plugin_specific as JsonObject;
        assert.equal(info.recording, undefined);
        // Bob records too, into its own base: the audio and video he sends.
        assert.deepEqual(
          await b.ask({ request: "set", record: true, filename: join(dir, "bob") }),
          result({ event: "set" }),
        );
        assert.deepEqual(
          ((await handleInfo(ctx.gw, b.session, b.handle)).plugin_specific as JsonObject)
            .recording,
          { audio: "bob-audio.mjr", video: "bob-video.mjr" },
        );
        // The hangup closes Bob's recordings.
        await b.briefsOf({ request: "hangup" }, undefined, 3);
        await a.briefs(3);
        await settled(ctx.gw, 2);
        const after = (await handleInfo(ctx.gw, b.session, b.handle)).plugin_specific as JsonObject;
        assert.equal(after.recording, undefined);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  },
  {
    name: "the caller hangs up with its own reason before the callee answers",
    async run(ctx) {
      const a = await registered(ctx, "alice");
      const b = await registered(ctx, "bob");
      await call(a, "alice", b, "bob");
      assert.deepEqual(
        await a.briefsOf({ request: "hangup", reason: "Changed my mind" }, undefined, 3),
        [
          { tx: true, data: hangup("alice", "Explicit hangup") },
          { data: hangup("bob", REMOTE) },
          CLOSE_PC,
        ],
      );
      assert.deepEqual(await b.briefs(3), [
        { data: hangup("alice", "Changed my mind") },
        { data: hangup("alice", REMOTE) },
        CLOSE_PC,
      ]);
      await settled(ctx.gw, 2);
      // A reason that is not a string is ignored.
      await call(a, "alice", b, "bob");
      assert.deepEqual(
        (await a.briefsOf({ request: "hangup", reason: 5 }, undefined, 3))[0],
        { tx: true, data: hangup("alice", "Explicit hangup") },
      );
      assert.deepEqual((await b.briefs(3))[0], { data: hangup("alice", "We did the hangup") });
      await settled(ctx.gw, 2);
    },
  },
  {
    name: "the callee declines (hangup before accepting)",
    async run(ctx) {
      const a = await registered(ctx, "alice");
      const b = await registered(ctx, "bob");
      await call(a, "alice", b, "bob");
      await hangupCall(b, "bob", a, "alice");
      await settled(ctx.gw, 2);
      assert.deepEqual(
        await b.ask({ request: "accept" }),
        failure(481, "No incoming call to accept"),
      );
    },
  },
  {
    name:
      "busy: a second caller to a user in a call gets 'User busy'; calling while in a call is 480 and ends it",
    async run(ctx) {
      const a = await registered(ctx, "alice");
      const b = await registered(ctx, "bob");
      const c = await registered(ctx, "carol");
      await call(a, "alice", b, "bob");
      // The reference also closes the second caller's PeerConnection, which it made from the
      // offer before asking the plugin; here the offer is never taken, so no core hangup.
      assert.deepEqual(
        await c.briefsOf({ request: "call", username: "bob" }, fakeOffer("car")),
        [{ tx: true, data: hangup("carol", "User busy") }],
      );
      assert.deepEqual(
        await c.briefsOf({ request: "call", username: "alice" }, fakeOffer("car")),
        [{ tx: true, data: hangup("carol", "User busy") }],
      );
      assert.equal(ctx.gw.counts().peers, 2, "the busy caller has no PeerConnection");
      assert.deepEqual(
        await a.briefsOf({ request: "call", username: "carol" }, undefined, 3),
        [
          { tx: true, data: failure(480, "Already in a call") },
          { data: hangup("bob", REMOTE) },
          CLOSE_PC,
        ],
      );
      assert.deepEqual(await b.briefs(2), [{ data: hangup("alice", REMOTE) }, CLOSE_PC]);
      await settled(ctx.gw, 3);
      await c.quiet();
    },
  },
  {
    name: "bad input during a call: accept without SDP (482), the callee calling (480)",
    async run(ctx) {
      const a = await registered(ctx, "alice");
      const b = await registered(ctx, "bob");
      await call(a, "alice", b, "bob");
      assert.deepEqual(await b.ask({ request: "accept" }), failure(482, "Missing SDP"));
      assert.deepEqual(await a.ask({ request: "accept" }), failure(482, "Missing SDP"));
      assert.deepEqual(
        await b.ask({ request: "set", video: 1 }),
        failure(474, "Invalid element type (video should be a boolean)"),
      );
      assert.deepEqual(
        await b.briefsOf({ request: "call", username: "alice" }, undefined, 3),
        [
          { tx: true, data: failure(480, "Already in a call") },
          { data: hangup("alice", REMOTE) },
          CLOSE_PC,
        ],
      );
      assert.deepEqual(await a.briefs(2), [{ data: hangup("bob", REMOTE) }, CLOSE_PC]);
      await settled(ctx.gw, 2);
    },
  },
  {
    name: "a side detaching mid-call: the other gets 'Remote WebRTC hangup' and its PC closes",
    async run(ctx) {
      const a = await registered(ctx, "alice");
      const b = await registered(ctx, "bob");
      await accept(a, b, "bob", await call(a, "alice", b, "bob"));
      assert.equal((await b.detach()).janus, "success");
      assert.deepEqual(await b.briefs(1), [{ janus: "detached" }]);
      assert.deepEqual(await a.briefs(2), [{ data: hangup("bob", REMOTE) }, CLOSE_PC]);
      await settled(ctx.gw, 1);
      assert.deepEqual(await a.ask({ request: "list" }), result({ list: ["alice"] }));
      // The caller detaching, from a new handle of the same session.
      await b.attach();
      await b.ask({ request: "register", username: "bob" });
      await accept(a, b, "bob", await call(a, "alice", b, "bob"));
      assert.equal((await a.detach()).janus, "success");
      assert.deepEqual(await a.briefs(1), [{ janus: "detached" }]);
      assert.deepEqual(await b.briefs(2), [{ data: hangup("alice", REMOTE) }, CLOSE_PC]);
      await settled(ctx.gw, 1);
    },
  },
  {
    name: "a side whose session times out mid-call",
    config: { general: { session_timeout: 2, watchdog_interval: 0.5 } },
    async run(ctx) {
      const a = await registered(ctx, "alice");
      const b = await registered(ctx, "bob");
      await accept(a, b, "bob", await call(a, "alice", b, "bob"));
      // Alice keeps her session alive, Bob says nothing more.
      const got: JsonObject[] = [];
      const deadline = Date.now() + 8000;
      while (got.length < 2 && Date.now() < deadline) {
        await a.keepalive();
        const e = await a.client.event(a.session, { timeoutMs: 400 });
        if (e) got.push(e);
      }
      assert.deepEqual(got.map((e) => briefOf(e)), [{ data: hangup("bob", REMOTE) }, CLOSE_PC]);
      await settled(ctx.gw, 1);
    },
  },
];

function briefOf(e: JsonObject): JsonObject {
  if (e.janus === "hangup") return { janus: "hangup", reason: e.reason as string };
  return { data: (e.plugindata as JsonObject).data as JsonObject };
}

for (const kind of ["http", "ws"] as const) {
  for (const c of CASES) {
    Deno.test(`videocall over ${kind}: ${c.name}`, async () => {
      const gw = await videoCallGateway(c.config);
      const clients: JanusClient[] = [];
      try {
        await c.run({
          gw,
          async user() {
            const client = kind === "http" ? httpClient(gw.httpUrl) : await wsClient(gw.wsUrl);
            clients.push(client);
            return await VideoCallUser.open(client);
          },
        });
      } finally {
        await Promise.all(clients.map((client) => client.close()));
        await gw.stop();
      }
      assert.deepEqual(pluginCounts(gw), { sessions: 0, users: 0, calls: 0 });
    });
  }
}

Deno.test("videocall: recording names without a filename are the reference's, in the working folder", () => {
  const at = 1700000000000000;
  assert.equal(
    recordingPath({ base: undefined, user: "alice", peer: "bob", nowUs: at, type: "audio" }),
    join(Deno.cwd(), `videocall-alice-bob-${at}-audio.mjr`),
  );
  assert.equal(
    recordingPath({ base: undefined, user: undefined, peer: undefined, nowUs: at, type: "video" }),
    join(Deno.cwd(), `videocall-unknown-unknown-${at}-video.mjr`),
  );
  assert.equal(
    recordingPath({ base: "rec/x", user: "a", peer: "b", nowUs: at, type: "video" }),
    join(Deno.cwd(), "rec", "x-video.mjr"),
  );
});
