/**
 * One run of the API against a server (the reference or ours): core requests and errors, admin
 * requests, a whole EchoTest call and a VideoRoom publish/subscribe/leave with real wrtc peers,
 * and a session left to time out over WebSocket. Every reply and every asynchronous message is
 * recorded under a stable name, so that the reference's recording (`fixtures/*.json`) and ours
 * can be validated against the same generated JSON Schema (`schema_test.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { ClientPeer, type Wrtc } from "../media/_client.ts";
import { answerOf, gathered, sendonlyOffer } from "../plugins/_videoroom_media.ts";

/** Which part of the API a message belongs to (one fixture file each). */
export type Group =
  | "core"
  | "admin"
  | "echotest"
  | "videoroom"
  | "videocall"
  | "textroom"
  | "streaming"
  | "recordplay"
  | "audiobridge";

/** Every group, in the order of the fixture files. */
export const GROUPS: readonly Group[] = [
  "core",
  "admin",
  "echotest",
  "videoroom",
  "videocall",
  "textroom",
  "streaming",
  "recordplay",
  "audiobridge",
];

/** One recorded message: a reply (with its request) or an asynchronous event. */
export interface Recorded {
  group: Group;
  name: string;
  request?: JsonObject;
  message: JsonObject;
}

/** Where the scenario runs. */
export interface Target {
  httpUrl: string;
  wsUrl: string;
  adminUrl: string;
  /** The admin WebSocket (`janus-admin-protocol`): one request over it (a transport event). */
  adminWsUrl: string;
  adminSecret: string;
  /** The event handler `query_eventhandler` asks (one is configured on both servers). */
  eventHandler: string;
  /** The session timeout configured on the server, in seconds (the timeout step waits it). */
  sessionTimeout: number;
}

const ECHOTEST = "janus.plugin.echotest";
const VIDEOROOM = "janus.plugin.videoroom";
const VIDEOCALL = "janus.plugin.videocall";
const TEXTROOM = "janus.plugin.textroom";
const STREAMING = "janus.plugin.streaming";
const RECORDPLAY = "janus.plugin.recordplay";
const AUDIOBRIDGE = "janus.plugin.audiobridge";

let counter = 0;
const tx = () => `sc-${++counter}`;

async function post(url: string, body: JsonObject): Promise<JsonObject> {
  const res = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  return await res.json() as JsonObject;
}

function object(value: unknown): JsonObject {
  assert.ok(typeof value === "object" && value !== null && !Array.isArray(value));
  return value as JsonObject;
}

/** A session over HTTP with a long poll that keeps every event until taken. */
class Client {
  readonly events: JsonObject[] = [];
  readonly #url: string;
  readonly session: number;
  readonly #abort = new AbortController();
  readonly #poll: Promise<void>;
  readonly #keepalive: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(url: string, session: number) {
    this.#url = url;
    this.session = session;
    this.#poll = this.#loop();
    this.#keepalive = setInterval(() => {
      void post(`${url}/${session}`, { janus: "keepalive", transaction: tx() }).catch(() => {});
    }, 1000);
  }

  async #loop(): Promise<void> {
    while (!this.#closed) {
      try {
        const res = await fetch(`${this.#url}/${this.session}?maxev=10`, {
          signal: this.#abort.signal,
        });
        if (res.status !== 200) {
          await res.body?.cancel();
          return;
        }
        const value = await res.json() as JsonObject | JsonObject[];
        for (const m of Array.isArray(value) ? value : [value]) {
          if (m.janus !== "keepalive") this.events.push(m);
        }
      } catch {
        return;
      }
    }
  }

  async send(body: JsonObject, handle?: number): Promise<JsonObject> {
    const path = handle === undefined
      ? `${this.#url}/${this.session}`
      : `${this.#url}/${this.session}/${handle}`;
    return await post(path, { transaction: tx(), ...body });
  }

  async take(match: (e: JsonObject) => boolean, timeoutMs = 10_000): Promise<JsonObject> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.events.findIndex(match);
      if (i >= 0) return this.events.splice(i, 1)[0] as JsonObject;
      if (Date.now() > deadline) {
        throw new Error(`no matching event; pending: ${JSON.stringify(this.events)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepalive);
    this.#abort.abort();
    await this.#poll;
  }
}

const dataOf = (e: JsonObject): JsonObject => object(object(e.plugindata).data);

/** Runs the scenario on `target`; returns every message it recorded, in order. */
export async function runScenario(target: Target, wrtc: Wrtc): Promise<Recorded[]> {
  const out: Recorded[] = [];
  const record = (group: Group, name: string, message: JsonObject, request?: JsonObject) => {
    out.push(request ? { group, name, request, message } : { group, name, message });
    return message;
  };
  const core = async (name: string, url: string, request: JsonObject) =>
    record("core", name, await post(url, request), request);
  const admin = async (name: string, request: JsonObject, path = "") =>
    record("admin", name, await post(`${target.adminUrl}${path}`, request), request);
  const secret = target.adminSecret;
  const peers: ClientPeer[] = [];

  // Core, outside any session.
  const info = await (await fetch(`${target.httpUrl}/info`)).json() as JsonObject;
  record("core", "server_info", info);
  await core("pong", target.httpUrl, { janus: "ping", transaction: tx() });
  await core("error_unknown_root", target.httpUrl, { janus: "nope", transaction: tx() });
  await core("error_no_transaction", target.httpUrl, { janus: "create" });
  await core("error_no_session", `${target.httpUrl}/1`, { janus: "keepalive", transaction: tx() });
  const created = await core("create", target.httpUrl, { janus: "create", transaction: tx() });
  const session = object(created.data).id as number;
  const c = new Client(target.httpUrl, session);
  try {
    const s = `${target.httpUrl}/${session}`;
    await core("keepalive", s, { janus: "keepalive", transaction: tx() });
    await core("error_unknown_request", s, { janus: "nope", transaction: tx() });
    await core("error_no_plugin", s, { janus: "attach", plugin: "nope", transaction: tx() });
    const attachEcho = {
      janus: "attach",
      plugin: ECHOTEST,
      opaque_id: "sc-echo",
      transaction: tx(),
    };
    const echo = object((await core("attach", s, attachEcho)).data).id as number;
    const h = `${s}/${echo}`;
    await core("error_no_handle", `${s}/1`, { janus: "hangup", transaction: tx() });
    await core("error_missing_body", h, { janus: "message", transaction: tx() });

    // EchoTest: a plain message, a refused one, then a whole call.
    const groupOf = new Map<number, Group>([[echo, "echotest"]]);
    const ask = async (name: string, handle: number, body: JsonObject, jsep?: JsonObject) => {
      const group: Group = groupOf.get(handle) ?? "videoroom";
      const request = { janus: "message", body, ...(jsep ? { jsep } : {}), transaction: tx() };
      const reply = record(group, `${name}_reply`, await c.send(request, handle), request);
      if (reply.janus !== "ack") return reply;
      return record(group, name, await c.take((e) => e.transaction === request.transaction));
    };
    await ask("echo_event", echo, { audio: true, video: true });
    await ask("echo_error", echo, { audio: "yes" });
    const client = new ClientPeer(wrtc, { audio: true, video: true, data: "sc" });
    peers.push(client);
    await client.offer();
    const offer = { type: "offer", sdp: await gathered(client) };
    const answered = await ask("echo_answer", echo, { audio: true, video: true }, offer);
    await client.answer(String(object(answered.jsep).sdp));
    await core("trickle_ack", h, {
      janus: "trickle",
      candidate: { completed: true },
      transaction: tx(),
    });
    const sender = (id: number, janus: string) => (e: JsonObject) =>
      e.sender === id && e.janus === janus;
    record("core", "webrtcup", await c.take(sender(echo, "webrtcup")));
    record("core", "media", await c.take(sender(echo, "media")));
    await admin(
      "handle_info",
      { janus: "handle_info", admin_secret: secret, transaction: tx() },
      `/${session}/${echo}`,
    );
    await ask("echo_bitrate", echo, { bitrate: 128000 });
    client.stopFeeding();
    record(
      "core",
      "media_stopped",
      await c.take((e) => sender(echo, "media")(e) && e.receiving === false),
    );
    client.resumeFeeding();
    await core("hangup", h, { janus: "hangup", transaction: tx() });
    record(
      "echotest",
      "echo_done",
      await c.take((e) => sender(echo, "event")(e) && dataOf(e).result === "done"),
    );
    record("core", "hangup_event", await c.take(sender(echo, "hangup")));
    await core("detach", h, { janus: "detach", transaction: tx() });
    record("core", "detached", await c.take(sender(echo, "detached")));

    // VideoRoom: list, create, publish, subscribe, unpublish, leave, destroy.
    const attach = async () => {
      const reply = await c.send({ janus: "attach", plugin: VIDEOROOM });
      return object(reply.data).id as number;
    };
    const pub = await attach();
    const sub = await attach();
    await ask("vr_list", pub, { request: "list" });
    await ask("vr_exists", pub, { request: "exists", room: 1234 });
    const room = 4242;
    await ask("vr_create", pub, { request: "create", room, description: "schema", publishers: 4 });
    await ask("vr_error_no_room", pub, { request: "join", ptype: "publisher", room: 999_999 });
    await ask("vr_joined", pub, { request: "join", ptype: "publisher", room, display: "pub" });
    const published = await sendonlyOffer(wrtc, { audio: true, video: true });
    peers.push(published.peer);
    const configured = await ask("vr_configured", pub, {
      request: "configure",
      audio: true,
      video: true,
    }, { ...published.offer });
    await published.peer.answer(String(object(configured.jsep).sdp));
    await c.take(sender(pub, "webrtcup"));
    const list = await ask("vr_listparticipants", pub, { request: "listparticipants", room });
    const feed = (object(object(list.plugindata).data).participants as JsonObject[])[0]?.id;
    const attached = await ask("vr_attached", sub, {
      request: "join",
      ptype: "subscriber",
      room,
      streams: [{ feed }],
    });
    const viewer = new ClientPeer(wrtc, {});
    peers.push(viewer);
    const answer = await answerOf(viewer, {
      type: "offer",
      sdp: String(object(attached.jsep).sdp),
    });
    await ask("vr_started", sub, { request: "start" }, { ...answer });
    await c.take(sender(sub, "webrtcup"));
    await ask("vr_listforwarders", pub, { request: "listforwarders", room });
    await ask("vr_unpublished", pub, { request: "unpublish" });
    await ask("vr_leaving", pub, { request: "leave" });
    await ask("vr_destroyed", pub, { request: "destroy", room });

    // VideoCall: list, register (and its refusals), call refusals, hangup without a call.
    const attachTo = async (plugin: string, group: Group) => {
      const reply = await c.send({ janus: "attach", plugin });
      const id = object(reply.data).id as number;
      groupOf.set(id, group);
      return id;
    };
    const alice = await attachTo(VIDEOCALL, "videocall");
    const bob = await attachTo(VIDEOCALL, "videocall");
    await ask("vc_error_missing_username", alice, { request: "register" });
    await ask("vc_registered", alice, { request: "register", username: "sc-alice" });
    await ask("vc_error_taken", bob, { request: "register", username: "sc-alice" });
    await ask("vc_registered_bob", bob, { request: "register", username: "sc-bob" });
    await ask("vc_list", bob, { request: "list" });
    await ask("vc_error_no_user", alice, { request: "call", username: "sc-nobody" });
    await ask("vc_error_self", alice, { request: "call", username: "sc-alice" });
    await ask("vc_error_no_sdp", alice, { request: "call", username: "sc-bob" });
    await ask("vc_error_no_call", bob, { request: "accept" });
    await ask("vc_set", bob, { request: "set", bitrate: 256000 });
    // A real call: Alice offers, Bob answers, both PeerConnections up, Bob hangs up.
    const resultOf = (e: JsonObject) => object(dataOf(e).result ?? {});
    const caller = new ClientPeer(wrtc, { audio: true, video: true, data: "sc" });
    peers.push(caller);
    await caller.offer();
    await ask("vc_calling", alice, { request: "call", username: "sc-bob" }, {
      type: "offer",
      sdp: await gathered(caller),
    });
    const incoming = record(
      "videocall",
      "vc_incomingcall",
      await c.take((e) => sender(bob, "event")(e) && resultOf(e).event === "incomingcall"),
    );
    const callee = new ClientPeer(wrtc, { audio: true, video: true, data: "sc", answers: true });
    peers.push(callee);
    const calleeAnswer = await answerOf(callee, {
      type: "offer",
      sdp: String(object(incoming.jsep).sdp),
    });
    await ask("vc_accepted", bob, { request: "accept" }, { ...calleeAnswer });
    const accepted = record(
      "videocall",
      "vc_accepted_caller",
      await c.take((e) => sender(alice, "event")(e) && resultOf(e).event === "accepted"),
    );
    await caller.answer(String(object(accepted.jsep).sdp));
    await c.take(sender(alice, "webrtcup"));
    await c.take(sender(bob, "webrtcup"));
    await ask("vc_hangup", bob, { request: "hangup" });
    record(
      "videocall",
      "vc_hangup_remote",
      await c.take((e) => sender(alice, "event")(e) && resultOf(e).event === "hangup"),
    );
    await ask("vc_error_unknown", bob, { request: "nope" });

    // TextRoom over the Janus API: setup's offer, then the room management requests.
    const text = await attachTo(TEXTROOM, "textroom");
    await ask("tr_setup", text, { request: "setup" });
    await ask("tr_list", text, { request: "list" });
    const textRoom = 4343;
    await ask("tr_created", text, {
      request: "create",
      room: textRoom,
      description: "schema",
      secret: "s",
    });
    await ask("tr_exists", text, { request: "exists", room: textRoom });
    await ask("tr_edited", text, {
      request: "edit",
      room: textRoom,
      secret: "s",
      new_description: "schema 2",
    });
    await ask("tr_listparticipants", text, { request: "listparticipants", room: textRoom });
    await ask("tr_announcement", text, {
      request: "announcement",
      room: textRoom,
      secret: "s",
      text: "hello",
    });
    await ask("tr_allowed", text, {
      request: "allowed",
      room: textRoom,
      secret: "s",
      action: "add",
      allowed: ["token"],
    });
    await ask("tr_error_kick", text, {
      request: "kick",
      room: textRoom,
      secret: "s",
      username: "nobody",
    });
    await ask("tr_error_no_room", text, { request: "exists" });
    await ask("tr_destroyed", text, { request: "destroy", room: textRoom, secret: "s" });
    await core("detach_textroom", `${s}/${text}`, { janus: "detach", transaction: tx() });

    // Streaming: list, create, info, a viewer's watch offer, stop, destroy.
    const st = await attachTo(STREAMING, "streaming");
    await ask("st_list", st, { request: "list" });
    await ask("st_error_no_mountpoint", st, { request: "info", id: 999_999 });
    const mountpoint = 4444;
    await ask("st_created", st, {
      request: "create",
      type: "rtp",
      id: mountpoint,
      name: "schema",
      secret: "s",
      media: [{ type: "audio", mid: "a", port: 0, pt: 111, codec: "opus" }],
    });
    await ask("st_info", st, { request: "info", id: mountpoint, secret: "s" });
    const watcher = await attachTo(STREAMING, "streaming");
    const preparing = await ask("st_preparing", watcher, { request: "watch", id: mountpoint });
    const streamViewer = new ClientPeer(wrtc, {});
    peers.push(streamViewer);
    const viewerAnswer = await answerOf(streamViewer, {
      type: "offer",
      sdp: String(object(preparing.jsep).sdp),
    });
    await ask("st_start", watcher, { request: "start" }, { ...viewerAnswer });
    await c.take(sender(watcher, "webrtcup"));
    await ask("st_stopping", watcher, { request: "stop" });
    await core("detach_watcher", `${s}/${watcher}`, { janus: "detach", transaction: tx() });
    await ask("st_destroyed", st, { request: "destroy", id: mountpoint, secret: "s" });

    // Record&Play: the synchronous requests and refusals (no recording is made here).
    const rp = await attachTo(RECORDPLAY, "recordplay");
    await ask("rp_update", rp, { request: "update" });
    await ask("rp_list", rp, { request: "list" });
    await ask("rp_configure", rp, { request: "configure", "video-bitrate-max": 512000 });
    await ask("rp_error_no_recording", rp, { request: "play", id: 999_999 });
    await ask("rp_error_missing_name", rp, { request: "record" });
    await ask("rp_error_no_jsep", rp, { request: "record", name: "schema" });

    // AudioBridge: room management, a listener without a PeerConnection, a participant with a
    // real offer who mutes and leaves (what the listener hears of it), refusals, destroy. The
    // ids are given: event-handler events are compared with the reference's, value for value.
    const ab = await attachTo(AUDIOBRIDGE, "audiobridge");
    const listener = await attachTo(AUDIOBRIDGE, "audiobridge");
    const abEvent = (handle: number, key: string) => (e: JsonObject) =>
      sender(handle, "event")(e) && e.transaction === undefined && key in dataOf(e);
    await ask("ab_list", ab, { request: "list" });
    await ask("ab_exists", ab, { request: "exists", room: 1234 });
    const abRoom = 4646;
    await ask("ab_created", ab, {
      request: "create",
      room: abRoom,
      description: "schema",
      secret: "s",
    });
    await ask("ab_error_exists", ab, { request: "create", room: abRoom });
    await ask("ab_error_missing_room", ab, { request: "exists" });
    await ask("ab_edited", ab, {
      request: "edit",
      room: abRoom,
      secret: "s",
      new_description: "schema 2",
    });
    await ask("ab_error_no_room", ab, { request: "join", room: 999_999 });
    await ask("ab_error_not_joined", ab, { request: "configure", muted: true });
    await ask("ab_joined_listener", listener, {
      request: "join",
      room: abRoom,
      id: 7001,
      display: "l",
    });
    const speaker = new ClientPeer(wrtc, { audio: true });
    peers.push(speaker);
    await speaker.offer();
    const abJoined = await ask("ab_joined", ab, {
      request: "join",
      room: abRoom,
      id: 7002,
      display: "ab",
    }, {
      type: "offer",
      sdp: await gathered(speaker),
    });
    await speaker.answer(String(object(abJoined.jsep).sdp));
    record("audiobridge", "ab_joined_other", await c.take(abEvent(listener, "participants")));
    await c.take(sender(ab, "webrtcup"));
    // The speaker's PeerConnection is up: the listener hears `setup: true`.
    record("audiobridge", "ab_setup_other", await c.take(abEvent(listener, "participants")));
    await ask("ab_listparticipants", ab, { request: "listparticipants", room: abRoom });
    await ask("ab_configured", ab, { request: "configure", muted: true });
    record("audiobridge", "ab_muted_other", await c.take(abEvent(listener, "participants")));
    await ask("ab_left", ab, { request: "leave" });
    record("audiobridge", "ab_leaving_other", await c.take(abEvent(listener, "leaving")));
    await ask("ab_error_unknown", ab, { request: "nope" });
    await ask("ab_destroyed", ab, { request: "destroy", room: abRoom, secret: "s" });
    record(
      "audiobridge",
      "ab_destroyed_other",
      await c.take((e) => sender(listener, "event")(e) && dataOf(e).audiobridge === "destroyed"),
    );
    await core("detach_audiobridge", `${s}/${ab}`, { janus: "detach", transaction: tx() });

    // Admin.
    await admin("admin_ping", { janus: "ping", transaction: tx() });
    await admin("admin_info", { janus: "info", transaction: tx() });
    await admin("error_unauthorized", { janus: "get_status", transaction: tx() });
    await admin("get_status", { janus: "get_status", admin_secret: secret, transaction: tx() });
    await admin("list_sessions", {
      janus: "list_sessions",
      admin_secret: secret,
      transaction: tx(),
    });
    await admin(
      "list_handles",
      { janus: "list_handles", admin_secret: secret, transaction: tx() },
      `/${session}`,
    );
    await admin("set_session_timeout", {
      janus: "set_session_timeout",
      timeout: 30,
      admin_secret: secret,
      transaction: tx(),
    }, `/${session}`);
    await admin("query_eventhandler", {
      janus: "query_eventhandler",
      handler: target.eventHandler,
      request: { request: "tweak", events: "all" },
      admin_secret: secret,
      transaction: tx(),
    });
    await admin("query_eventhandler_unknown", {
      janus: "query_eventhandler",
      handler: target.eventHandler,
      request: { request: "nope" },
      admin_secret: secret,
      transaction: tx(),
    });
    await admin("error_no_eventhandler", {
      janus: "query_eventhandler",
      handler: "janus.eventhandler.nope",
      admin_secret: secret,
      transaction: tx(),
    });
    await admin("custom_event", {
      janus: "custom_event",
      schema: "schema.test",
      data: { step: "custom" },
      admin_secret: secret,
      transaction: tx(),
    });
    // Plugin requests with no handle: event handlers hear them with no session or handle.
    const messagePlugin = async (plugin: string, request: JsonObject) => {
      const reply = await post(target.adminUrl, {
        janus: "message_plugin",
        plugin,
        request,
        admin_secret: secret,
        transaction: tx(),
      });
      assert.equal(reply.janus, "success", JSON.stringify(reply));
      assert.equal(object(reply.response).error_code, undefined, JSON.stringify(reply));
    };
    for (const [plugin, room] of [[VIDEOROOM, 7001], [TEXTROOM, 7002]] as const) {
      // TextRoom wants a transaction in each request, VideoRoom ignores it.
      const ask = (r: JsonObject) => messagePlugin(plugin, { ...r, room, transaction: tx() });
      await ask({ request: "create", secret: "s" });
      await ask({ request: "edit", secret: "s", new_description: "e" });
      await ask({ request: "destroy", secret: "s" });
    }
    await messagePlugin(AUDIOBRIDGE, { request: "create", room: 7003, secret: "s" });
    await messagePlugin(AUDIOBRIDGE, { request: "destroy", room: 7003, secret: "s" });
    await messagePlugin(STREAMING, {
      request: "create",
      type: "rtp",
      id: 7004,
      secret: "s",
      media: [{ type: "audio", mid: "a", port: 0, pt: 111, codec: "opus" }],
    });
    await messagePlugin(STREAMING, { request: "destroy", id: 7004, secret: "s" });
    await adminOverWebSocket(target.adminWsUrl, secret);
    await core("destroy", s, { janus: "destroy", transaction: tx() });
  } finally {
    await c.close();
    for (const p of peers) p.close();
  }
  record("core", "timeout", await idleUntilTimeout(target));
  return out;
}

/** One admin request over an admin WebSocket, then the socket closes. */
async function adminOverWebSocket(url: string, secret: string): Promise<void> {
  const ws = new WebSocket(url, "janus-admin-protocol");
  const reply = Promise.withResolvers<JsonObject>();
  const closed = new Promise((r) => ws.onclose = r);
  ws.onopen = () =>
    ws.send(JSON.stringify({ janus: "get_status", admin_secret: secret, transaction: tx() }));
  ws.onerror = () => reply.reject(new Error("admin websocket failed"));
  ws.onmessage = (m) => reply.resolve(JSON.parse(String(m.data)) as JsonObject);
  try {
    assert.equal((await reply.promise).janus, "success");
  } finally {
    ws.close();
    await closed;
  }
}

/** Creates a session over WebSocket and waits for its `timeout` event. */
async function idleUntilTimeout(target: Target): Promise<JsonObject> {
  const ws = new WebSocket(target.wsUrl, "janus-protocol");
  const messages: JsonObject[] = [];
  const opened = Promise.withResolvers<void>();
  ws.onopen = () => opened.resolve();
  ws.onerror = () => opened.reject(new Error("websocket failed"));
  ws.onmessage = (m) => messages.push(JSON.parse(String(m.data)) as JsonObject);
  await opened.promise;
  try {
    ws.send(JSON.stringify({ janus: "create", transaction: tx() }));
    const deadline = Date.now() + (target.sessionTimeout + 6) * 1000;
    while (Date.now() < deadline) {
      const timeout = messages.find((m) => m.janus === "timeout");
      if (timeout) return timeout;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no timeout event: ${JSON.stringify(messages)}`);
  } finally {
    const closed = new Promise((r) => ws.onclose = r);
    ws.close();
    await closed;
  }
}
