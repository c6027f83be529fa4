import assert from "node:assert/strict";
import { dispatchAdmin } from "../../core/admin.ts";
import { ManualClock } from "../../core/clock.ts";
import { type ConfigInput, parseConfig } from "../../core/config.ts";
import { Gateway } from "../../core/gateway.ts";
import { logLevel, setLogLevel } from "../../core/log.ts";
import { createOwner } from "../../core/owner.ts";
import type { JsonObject, Plugin, PluginHandle, PluginSession } from "../../core/plugin.ts";
import type { Session } from "../../core/session.ts";
import type { MediaEngine, Peer, PeerInfo } from "../../core/media/types.ts";

const SECRET = "s";
const OFFER =
  "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";

/** A plugin that answers admin messages and reports a hangup as an event. */
function fakePlugin(id = "janus.plugin.fake", withAdmin = true): Plugin {
  const plugin: Plugin = {
    info: {
      id,
      name: "Fake",
      description: "Test plugin",
      author: "tests",
      version: 1,
      versionString: "0.0.1",
    },
    init: () => Promise.resolve(),
    destroy: () => Promise.resolve(),
    createSession(handle: PluginHandle): Promise<PluginSession> {
      return Promise.resolve({
        handleMessage: () => Promise.resolve({ kind: "success", data: {} }),
        setupMedia() {},
        hangupMedia() {
          handle.pushEvent({ data: { fake: "event", result: "done" } });
        },
        destroy: () => Promise.resolve(),
        query: () => ({ fake_state: "idle" }),
      });
    },
    formatError: (e) => ({ fake: "event", error_code: e.code, error: e.message }),
  };
  if (withAdmin) {
    plugin.handleAdminMessage = (body: JsonObject) =>
      Promise.resolve({ fake: "success", echo: body });
  }
  return plugin;
}

/** A media engine whose peers only remember that they exist. */
function fakeMedia(): MediaEngine {
  const live = new Set<Peer>();
  return {
    createPeer() {
      const peer: Peer = {
        id: crypto.randomUUID(),
        acceptOffer: () => Promise.resolve(OFFER.replace("o=- 1", "o=- 2")),
        createOffer: () => Promise.resolve(OFFER),
        acceptAnswer: () => Promise.resolve(),
        addRemoteCandidate: () => Promise.resolve(),
        setBitrateCap: () => Promise.resolve(),
        forward: () => Promise.resolve("0"),
        setForwarding: () => Promise.resolve(),
        stopForward: () => Promise.resolve(),
        requestKeyframe: () => Promise.resolve(),
        setAudioLevels: () => Promise.resolve(),
        mix: () => Promise.resolve(),
        startRecording: () => Promise.resolve(),
        stopRecording: () => Promise.resolve(),
        updateRecording: () => Promise.resolve(),
        rtpForward: () => Promise.resolve({}),
        stopRtpForward: () => Promise.resolve(),
        sendData: () => Promise.resolve(),
        info: (): Promise<PeerInfo> =>
          Promise.resolve({
            iceState: "connected",
            dtlsState: "connected",
            connectionState: "connected",
            selectedPair: "127.0.0.1:1 [host,udp] <-> 127.0.0.1:2 [host,udp]",
            localCandidates: ["1 1 udp 2015363327 127.0.0.1 1 typ host"],
            remoteCandidates: ["1 1 udp 2015363327 127.0.0.1 2 typ host"],
            localSdp: "v=0 local",
            remoteSdp: OFFER,
            stats: { "0": { packets: 3 } },
          }),
        close() {
          live.delete(peer);
          return Promise.resolve();
        },
      };
      live.add(peer);
      return Promise.resolve(peer);
    },
    counts: () => ({ peers: live.size, workers: 1 }),
    close: () => Promise.resolve(),
  };
}

interface Fixture {
  gateway: Gateway;
  clock: ManualClock;
  plugin: Plugin;
  /** Sends an admin request with transaction "t" and the right secret (fields may override). */
  admin(body: JsonObject, path?: { sessionId?: number; handleId?: number }): Promise<JsonObject>;
}

/** Runs `fn` against a fresh gateway, then checks that shutdown leaves nothing behind. */
async function withGateway(
  fn: (f: Fixture) => Promise<void>,
  general: NonNullable<ConfigInput["general"]> = {},
): Promise<void> {
  const level = logLevel();
  const clock = new ManualClock();
  const gateway = new Gateway({
    config: parseConfig({
      general: { admin_secret: SECRET, token_auth: true, log_level: 0, ...general },
    }),
    clock,
    media: fakeMedia(),
  });
  const plugin = fakePlugin();
  await gateway.addPlugin(plugin);
  await gateway.addPlugin(fakePlugin("janus.plugin.other", false));
  const admin: Fixture["admin"] = (body, path) =>
    dispatchAdmin(gateway, { transaction: "t", admin_secret: SECRET, ...body }, { path });
  try {
    await fn({ gateway, clock, plugin, admin });
  } finally {
    await gateway.shutdown();
    setLogLevel(level);
  }
  assert.deepEqual(gateway.counts(), {
    sessions: 0,
    handles: 0,
    peers: 0,
    sources: 0,
    mixers: 0,
    timers: 0,
  });
}

function errorOf(reply: JsonObject): { code: number; reason: string } {
  assert.equal(reply.janus, "error", JSON.stringify(reply));
  return reply.error as { code: number; reason: string };
}

async function sessionWithHandle(f: Fixture, opaqueId?: string) {
  const session = f.gateway.createSession({ owner: createOwner("janus.transport.http") });
  const handle = await f.gateway.attach(session, { plugin: f.plugin, opaqueId });
  return { session, handle };
}

function events(session: Session): Promise<JsonObject[]> {
  return session.queue.receive({ max: 10, signal: AbortSignal.timeout(100) });
}

Deno.test("dispatchAdmin: envelope errors carry no transaction", async () => {
  await withGateway(async ({ gateway }) => {
    assert.deepEqual(await dispatchAdmin(gateway, [], {}), {
      janus: "error",
      error: { code: 455, reason: "JSON error: not an object" },
    });
    assert.deepEqual(await dispatchAdmin(gateway, { janus: "ping" }, {}), {
      janus: "error",
      error: { code: 456, reason: "Missing mandatory element (transaction)" },
    });
    assert.deepEqual(await dispatchAdmin(gateway, { transaction: "t", janus: 5 }, {}), {
      janus: "error",
      error: { code: 467, reason: "Invalid element type (janus should be a string)" },
    });
    const conflict = await dispatchAdmin(gateway, {
      janus: "ping",
      transaction: "t",
      session_id: 1,
    }, {
      path: { sessionId: 2 },
    });
    assert.deepEqual(errorOf(conflict), {
      code: 457,
      reason: "Conflicting session ID (payload and path)",
    });
  });
});

Deno.test("dispatchAdmin: info and ping need no secret, everything else does", async () => {
  await withGateway(async ({ gateway }) => {
    const info = await dispatchAdmin(gateway, { janus: "INFO", transaction: "t" }, {});
    assert.equal(info.janus, "server_info");
    assert.deepEqual(await dispatchAdmin(gateway, { janus: "ping", transaction: "t" }, {}), {
      janus: "pong",
      transaction: "t",
    });
    for (const secret of [undefined, "wrong", 5]) {
      const reply = await dispatchAdmin(
        gateway,
        { janus: "get_status", transaction: "t", admin_secret: secret },
        {},
      );
      assert.deepEqual(reply, {
        janus: "error",
        transaction: "t",
        error: { code: 403, reason: "Unauthorized request (wrong or missing secret/token)" },
      });
    }
    // The secret is checked before the session lookup.
    const unknown = await dispatchAdmin(gateway, { janus: "list_handles", transaction: "t" }, {
      path: { sessionId: 123 },
    });
    assert.equal(unknown.session_id, 123);
    assert.equal(errorOf(unknown).code, 403);
  });
});

Deno.test("dispatchAdmin: no configured admin_secret still refuses", async () => {
  await withGateway(async ({ gateway }) => {
    const reply = await dispatchAdmin(gateway, { janus: "get_status", transaction: "t" }, {});
    assert.equal(errorOf(reply).code, 403);
  }, { admin_secret: undefined });
});

Deno.test("dispatchAdmin: unknown requests are 457, quoted as sent", async () => {
  await withGateway(async ({ admin }) => {
    assert.deepEqual(errorOf(await admin({ janus: "Foo" })), {
      code: 457,
      reason: "Unhandled request 'Foo' at this path",
    });
    assert.deepEqual(errorOf(await admin({ janus: "list_handles" })), {
      code: 457,
      reason: "Unhandled request 'list_handles' at this path",
    });
  });
});

Deno.test("dispatchAdmin: get_status has the reference's keys", async () => {
  await withGateway(async ({ admin, gateway }) => {
    const reply = await admin({ janus: "get_status" });
    assert.deepEqual(Object.keys(reply), ["janus", "transaction", "status"]);
    const status = reply.status as JsonObject;
    assert.deepEqual(Object.keys(status), [
      "token_auth",
      "session_timeout",
      "reclaim_session_timeout",
      "candidates_timeout",
      "log_level",
      "log_timestamps",
      "log_colors",
      "locking_debug",
      "refcount_debug",
      "libnice_debug",
      "min_nack_queue",
      "nack-optimizations",
      "no_media_timer",
      "slowlink_threshold",
    ]);
    assert.equal(status.token_auth, true);
    assert.equal(status.session_timeout, gateway.sessionTimeout);
    assert.equal(status.log_level, logLevel());
  });
});

Deno.test("dispatchAdmin: list_sessions and accept_new_sessions", async () => {
  await withGateway(async (f) => {
    const { session } = await sessionWithHandle(f);
    assert.deepEqual(await f.admin({ janus: "list_sessions" }), {
      janus: "success",
      transaction: "t",
      sessions: [session.id],
    });
    assert.deepEqual(errorOf(await f.admin({ janus: "accept_new_sessions" })), {
      code: 456,
      reason: "Missing mandatory element (accept)",
    });
    assert.deepEqual(errorOf(await f.admin({ janus: "accept_new_sessions", accept: 1 })), {
      code: 467,
      reason: "Invalid element type (accept should be a boolean)",
    });
    assert.deepEqual(await f.admin({ janus: "accept_new_sessions", accept: false }), {
      janus: "success",
      transaction: "t",
      accept: false,
    });
    assert.equal(f.gateway.acceptingNewSessions, false);
    assert.throws(() => f.gateway.createSession({ owner: createOwner("janus.transport.http") }));
    await f.admin({ janus: "accept_new_sessions", accept: true });
    assert.equal(f.gateway.acceptingNewSessions, true);
  });
});

Deno.test("dispatchAdmin: set_session_timeout and set_log_level (global)", async () => {
  await withGateway(async ({ admin, gateway }) => {
    assert.deepEqual(errorOf(await admin({ janus: "set_session_timeout", timeout: -1 })), {
      code: 467,
      reason: "Invalid element type (timeout should be a positive integer)",
    });
    assert.deepEqual(await admin({ janus: "set_session_timeout", timeout: 120 }), {
      janus: "success",
      transaction: "t",
      timeout: 120,
    });
    assert.equal(gateway.sessionTimeout, 120);
    assert.deepEqual(errorOf(await admin({ janus: "set_log_level" })), {
      code: 456,
      reason: "Missing mandatory element (level)",
    });
    assert.deepEqual(errorOf(await admin({ janus: "set_log_level", level: 8 })), {
      code: 467,
      reason: "Invalid element type (level should be between 0 and 7)",
    });
    assert.deepEqual(errorOf(await admin({ janus: "set_log_level", level: -1 })), {
      code: 467,
      reason: "Invalid element type (level should be a positive integer)",
    });
    assert.deepEqual(await admin({ janus: "Set_Log_Level", level: 1 }), {
      janus: "success",
      transaction: "t",
      level: 1,
    });
    assert.equal(logLevel(), 1);
  });
});

Deno.test("dispatchAdmin: set_* knobs echo as the reference and show in get_status", async () => {
  await withGateway(async ({ admin }) => {
    const cases: [string, string, boolean | number, string][] = [
      ["set_log_timestamps", "timestamps", false, "log_timestamps"],
      ["set_log_colors", "colors", true, "log_colors"],
      ["set_locking_debug", "debug", true, "locking_debug"],
      ["set_refcount_debug", "debug", true, "refcount_debug"],
      ["set_libnice_debug", "debug", true, "libnice_debug"],
      ["set_min_nack_queue", "min_nack_queue", 300, "min_nack_queue"],
      ["set_nack_optimizations", "nack_optimizations", true, "nack-optimizations"],
      ["set_no_media_timer", "no_media_timer", 5, "no_media_timer"],
      ["set_slowlink_threshold", "slowlink_threshold", 4, "slowlink_threshold"],
    ];
    for (const [janus, field, value, key] of cases) {
      assert.deepEqual(errorOf(await admin({ janus })), {
        code: 456,
        reason: `Missing mandatory element (${field})`,
      });
      const wrong = typeof value === "boolean" ? "a boolean" : "a positive integer";
      assert.deepEqual(
        errorOf(await admin({ janus, [field]: typeof value === "boolean" ? 1 : -1 })),
        {
          code: 467,
          reason: `Invalid element type (${field} should be ${wrong})`,
        },
      );
      assert.deepEqual(await admin({ janus, [field]: value }), {
        janus: "success",
        transaction: "t",
        [key]: value,
      });
      const status = (await admin({ janus: "get_status" })).status as JsonObject;
      assert.equal(status[key], value, key);
    }
  });
});

Deno.test("dispatchAdmin: message_plugin", async ({ step }) => {
  await withGateway(async ({ admin }) => {
    await step("reaches handleAdminMessage", async () => {
      const reply = await admin({
        janus: "message_plugin",
        plugin: "janus.plugin.fake",
        request: { request: "list" },
      });
      assert.deepEqual(reply, {
        janus: "success",
        transaction: "t",
        response: { fake: "success", echo: { request: "list" } },
      });
      const empty = await admin({ janus: "message_plugin", plugin: "janus.plugin.fake" });
      assert.deepEqual(empty.response, { fake: "success", echo: {} });
    });
    await step("checks its fields and the plugin", async () => {
      assert.deepEqual(errorOf(await admin({ janus: "message_plugin" })), {
        code: 456,
        reason: "Missing mandatory element (plugin)",
      });
      assert.deepEqual(
        errorOf(await admin({ janus: "message_plugin", plugin: "janus.plugin.fake", request: 5 })),
        { code: 467, reason: "Invalid element type (request should be an object)" },
      );
      assert.deepEqual(
        errorOf(await admin({ janus: "message_plugin", plugin: "janus.plugin.nope" })),
        {
          code: 460,
          reason: "Invalid plugin",
        },
      );
      assert.deepEqual(
        errorOf(
          await admin({ janus: "message_plugin", plugin: "janus.plugin.other", request: {} }),
        ),
        { code: 490, reason: "Plugin doesn't support Admin API messages" },
      );
    });
  });
});

Deno.test("dispatchAdmin: token lifecycle", async () => {
  await withGateway(async ({ admin }) => {
    const all = ["janus.plugin.fake", "janus.plugin.other"];
    assert.deepEqual(await admin({ janus: "add_token", token: "a" }), {
      janus: "success",
      transaction: "t",
      data: { plugins: all },
    });
    const nope = await admin({ janus: "add_token", token: "b", plugins: ["janus.plugin.nope"] });
    assert.deepEqual(nope.data, { plugins: [] });
    assert.deepEqual(errorOf(await admin({ janus: "add_token" })), {
      code: 456,
      reason: "Missing mandatory element (token)",
    });
    // A token allowed no plugin is not listed.
    assert.deepEqual((await admin({ janus: "list_tokens" })).data, {
      tokens: [{ token: "a", allowed_plugins: all }],
    });
    const disallowed = await admin({
      janus: "disallow_token",
      token: "a",
      plugins: ["janus.plugin.other"],
    });
    assert.deepEqual(disallowed.data, { plugins: ["janus.plugin.fake"] });
    const allowed = await admin({
      janus: "allow_token",
      token: "b",
      plugins: ["janus.plugin.fake"],
    });
    assert.deepEqual(allowed.data, { plugins: ["janus.plugin.fake"] });
    assert.deepEqual(errorOf(await admin({ janus: "allow_token", token: "nope", plugins: all })), {
      code: 470,
      reason: "Token nope not found",
    });
    assert.deepEqual(errorOf(await admin({ janus: "allow_token", token: "a", plugins: [] })), {
      code: 467,
      reason: "Invalid element type (plugins should be a non-empty array)",
    });
    assert.deepEqual(
      errorOf(await admin({ janus: "allow_token", token: "a", plugins: ["janus.plugin.nope"] })),
      { code: 467, reason: "Invalid element type (some of the provided plugins are invalid)" },
    );
    assert.deepEqual(await admin({ janus: "remove_token", token: "a" }), {
      janus: "success",
      transaction: "t",
    });
    assert.deepEqual(errorOf(await admin({ janus: "remove_token", token: "a" })), {
      code: 490,
      reason: "Error removing token",
    });
  });
});

Deno.test("dispatchAdmin: token requests need token_auth", async () => {
  await withGateway(async ({ admin }) => {
    for (
      const janus of ["add_token", "list_tokens", "allow_token", "disallow_token", "remove_token"]
    ) {
      assert.deepEqual(errorOf(await admin({ janus })), {
        code: 490,
        reason: "Stored-Token based authentication disabled",
      });
    }
  }, { token_auth: false });
});

Deno.test("dispatchAdmin: resolve_address, loops_info, custom_event, custom_logline", async () => {
  await withGateway(async ({ admin }) => {
    const resolved = await admin({ janus: "resolve_address", address: "127.0.0.1" });
    assert.deepEqual(Object.keys(resolved), ["janus", "transaction", "ip", "elapsed"]);
    assert.equal(resolved.ip, "127.0.0.1");
    assert.deepEqual(errorOf(await admin({ janus: "resolve_address" })), {
      code: 456,
      reason: "Missing mandatory element (address)",
    });
    assert.deepEqual(await admin({ janus: "loops_info" }), {
      janus: "success",
      transaction: "t",
      loops: [],
    });
    assert.deepEqual(errorOf(await admin({ janus: "custom_event", schema: "x" })), {
      code: 456,
      reason: "Missing mandatory element (data)",
    });
    const ok = { janus: "success", transaction: "t" };
    assert.deepEqual(await admin({ janus: "custom_event", schema: "x", data: {} }), ok);
    assert.deepEqual(await admin({ janus: "custom_logline", line: "hello", level: 9 }), ok);
    assert.deepEqual(errorOf(await admin({ janus: "custom_logline", line: "x", level: "x" })), {
      code: 467,
      reason: "Invalid element type (level should be a positive integer)",
    });
  });
});

Deno.test("dispatchAdmin: session-level errors", async () => {
  await withGateway(async (f) => {
    const { session, handle } = await sessionWithHandle(f);
    const path = { sessionId: session.id };
    assert.deepEqual(await f.admin({ janus: "list_handles" }, { sessionId: 42 }), {
      janus: "error",
      session_id: 42,
      transaction: "t",
      error: { code: 458, reason: "No such session 42" },
    });
    assert.deepEqual(errorOf(await f.admin({ janus: "ping" }, path)), {
      code: 457,
      reason: "Unhandled request 'ping' at this path",
    });
    assert.deepEqual(errorOf(await f.admin({ janus: "handle_info" }, path)), {
      code: 457,
      reason: "Unhandled request 'handle_info' at this path",
    });
    assert.deepEqual(errorOf(await f.admin({ janus: "handle_info", handle_id: 7 }, path)), {
      code: 459,
      reason: `No such handle 7 in session ${session.id}`,
    });
    assert.deepEqual(errorOf(await f.admin({ janus: "list_handles", handle_id: 0 }, path)), {
      code: 458,
      reason: "Session not found",
    });
    assert.deepEqual(
      errorOf(await f.admin({ janus: "list_handles" }, { ...path, handleId: handle.id })),
      { code: 457, reason: "Unhandled request 'list_handles' at this path" },
    );
  });
});

Deno.test("dispatchAdmin: list_handles and destroy_session", async () => {
  await withGateway(async (f) => {
    const { session, handle } = await sessionWithHandle(f);
    const path = { sessionId: session.id };
    assert.deepEqual(await f.admin({ janus: "list_handles" }, path), {
      janus: "success",
      session_id: session.id,
      transaction: "t",
      handles: [handle.id],
    });
    assert.deepEqual(await f.admin({ janus: "destroy_session" }, path), {
      janus: "success",
      session_id: session.id,
      transaction: "t",
    });
    assert.equal(f.gateway.sessions.has(session.id), false);
    assert.equal(handle.closed, true);
    assert.deepEqual(await events(session), []);
  });
});

Deno.test("dispatchAdmin: per-session set_session_timeout drives the sweep", async () => {
  await withGateway(async (f) => {
    const { session } = await sessionWithHandle(f);
    const path = { sessionId: session.id };
    assert.deepEqual(errorOf(await f.admin({ janus: "set_session_timeout", timeout: -2 }, path)), {
      code: 467,
      reason: "Invalid element type (timeout should be a non-negative integer or -1)",
    });
    assert.deepEqual(errorOf(await f.admin({ janus: "set_session_timeout", timeout: 1.5 }, path)), {
      code: 467,
      reason: "Invalid element type (timeout should be an integer)",
    });
    assert.deepEqual(await f.admin({ janus: "set_session_timeout", timeout: 0 }, path), {
      janus: "success",
      transaction: "t",
      timeout: 0,
      session_id: session.id,
    });
    f.clock.advance(3_600_000);
    await f.gateway.sweep();
    assert.equal(f.gateway.sessions.has(session.id), true);
    await f.admin({ janus: "set_session_timeout", timeout: 5 }, path);
    f.clock.advance(4_000);
    // Admin requests do not count as activity.
    assert.equal(session.lastActivity, 0);
    const polled = events(session);
    await f.gateway.sweep();
    assert.equal(f.gateway.sessions.has(session.id), false);
    assert.deepEqual(await polled, [{ janus: "timeout", session_id: session.id }]);
    const other = f.gateway.createSession({ owner: createOwner("janus.transport.http") });
    await f.admin({ janus: "set_session_timeout", timeout: 5 }, { sessionId: other.id });
    await f.admin({ janus: "set_session_timeout", timeout: -1 }, { sessionId: other.id });
    assert.equal(other.timeoutOverride, undefined);
  });
});

Deno.test("dispatchAdmin: handle_info before negotiation", async () => {
  await withGateway(async (f) => {
    f.clock.advance(1_500);
    const { session, handle } = await sessionWithHandle(f, "probe");
    const path = { sessionId: session.id, handleId: handle.id };
    const reply = await f.admin({ janus: "handle_info" }, path);
    assert.deepEqual(Object.keys(reply), [
      "janus",
      "session_id",
      "transaction",
      "handle_id",
      "info",
    ]);
    assert.equal(reply.handle_id, handle.id);
    const info = reply.info as JsonObject;
    assert.deepEqual(Object.keys(info), [
      "session_id",
      "session_last_activity",
      "session_timeout",
      "session_transport",
      "handle_id",
      "opaque_id",
      "loop-running",
      "created",
      "current_time",
      "plugin",
      "plugin_specific",
      "flags",
      "sdps",
      "queued-packets",
    ]);
    assert.equal(info.session_last_activity, 1_500_000);
    assert.equal(info.session_timeout, 60);
    assert.equal(info.session_transport, "janus.transport.http");
    assert.equal(info.opaque_id, "probe");
    assert.equal(info.plugin, "janus.plugin.fake");
    assert.deepEqual(info.plugin_specific, { fake_state: "idle" });
    assert.deepEqual(Object.keys(info.flags as JsonObject).length, 20);
    assert.equal((info.flags as JsonObject).negotiated, false);
    assert.deepEqual(info.sdps, {});
    const only = await f.admin({ janus: "handle_info", plugin_only: true }, path);
    const keys = Object.keys(only.info as JsonObject);
    assert.equal(keys.at(-1), "plugin_specific");
    assert.deepEqual(errorOf(await f.admin({ janus: "handle_info", plugin_only: 1 }, path)), {
      code: 467,
      reason: "Invalid element type (plugin_only should be a boolean)",
    });
  });
});

Deno.test("dispatchAdmin: handle_info with a PeerConnection", async () => {
  await withGateway(async (f) => {
    const { session, handle } = await sessionWithHandle(f);
    await handle.webrtc.acceptOffer({ type: "offer", sdp: OFFER });
    const reply = await f.admin({ janus: "handle_info" }, {
      sessionId: session.id,
      handleId: handle.id,
    });
    const info = reply.info as JsonObject;
    const keys = Object.keys(info);
    assert.deepEqual(keys.slice(keys.indexOf("plugin_specific") + 1), [
      "flags",
      "ice-mode",
      "ice-role",
      "sdps",
      "queued-packets",
      "webrtc",
    ]);
    assert.equal(info["ice-role"], "controlled");
    assert.equal((info.flags as JsonObject).negotiated, true);
    assert.deepEqual(info.sdps, {
      profile: "UDP/TLS/RTP/SAVPF",
      local: "v=0 local",
      remote: OFFER,
    });
    const webrtc = info.webrtc as JsonObject;
    const ice = webrtc.ice as JsonObject;
    assert.equal(ice.state, "ready");
    assert.equal(ice["selected-pair"], "127.0.0.1:1 [host,udp] <-> 127.0.0.1:2 [host,udp]");
    assert.equal((ice["local-candidates"] as string[]).length, 1);
    assert.equal((webrtc.dtls as JsonObject)["dtls-state"], "connected");
    assert.deepEqual(webrtc.stats, { "0": { packets: 3 } });
  });
});

Deno.test("dispatchAdmin: hangup_webrtc and detach_handle", async () => {
  await withGateway(async (f) => {
    const { session, handle } = await sessionWithHandle(f);
    const path = { sessionId: session.id, handleId: handle.id };
    const ok = { janus: "success", session_id: session.id, transaction: "t" };
    // Without a PeerConnection only the plugin speaks.
    assert.deepEqual(await f.admin({ janus: "hangup_webrtc" }, path), ok);
    assert.deepEqual(await events(session), [{
      janus: "event",
      session_id: session.id,
      sender: handle.id,
      plugindata: { plugin: "janus.plugin.fake", data: { fake: "event", result: "done" } },
    }]);
    await handle.webrtc.acceptOffer({ type: "offer", sdp: OFFER });
    assert.deepEqual(await f.admin({ janus: "hangup_webrtc" }, path), ok);
    const after = await events(session);
    assert.deepEqual(after.at(-1), {
      janus: "hangup",
      session_id: session.id,
      sender: handle.id,
      reason: "Admin API",
    });
    assert.deepEqual(await f.admin({ janus: "DETACH_HANDLE" }, path), ok);
    assert.deepEqual(await events(session), [
      { janus: "detached", session_id: session.id, sender: handle.id },
    ]);
    assert.equal(session.handles.size, 0);
    assert.equal(errorOf(await f.admin({ janus: "detach_handle" }, path)).code, 459);
  });
});
