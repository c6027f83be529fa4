/**
 * Shared pieces of the VideoCall tests: a gateway with media workers (the plugin's peers on the
 * rtp engine) inside the test network namespace, a user (one session, one VideoCall handle)
 * over any transport whose events are read in order, events reduced to what the reference's
 * order is checked on, SDPs for signalling without media, and the leak check.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startMediaEngine } from "../../core/media/start.ts";
import { type ConfigInput, parseConfig } from "../../core/config.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { startTestGateway, testConfig, type TestGateway } from "../_helpers/gateway.ts";
import { type JanusClient, tx } from "../_helpers/janus_client.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import type { VideoCallPlugin } from "../../plugins/videocall/mod.ts";

/** The plugin package id. */
export const VIDEOCALL = "janus.plugin.videocall";

/** An SDP as sent in `jsep`. */
export interface TestJsep {
  type: "offer" | "answer";
  sdp: string;
}

/**
 * A gateway with one media worker per engine (VideoCall on rtp); `overrides` on top. Only the
 * rtp engine is started at once (AudioBridge moved there too, so wrtc starts lazily: these
 * tests never use it).
 */
export async function videoCallGateway(overrides: ConfigInput = {}): Promise<TestGateway> {
  assertInsideNetns();
  const base: ConfigInput = {
    media: { workers: 1, engines: { "janus.plugin.audiobridge": "rtp" } },
  };
  const config = { ...base, ...overrides, media: { ...base.media, ...overrides.media } };
  const media = await startMediaEngine(parseConfig(testConfig(config)));
  assert.ok(media, "media engine");
  return await startTestGateway(config, { media });
}

/** The plugin's live sessions, registered users and calls. */
export function pluginCounts(gw: TestGateway): { sessions: number; users: number; calls: number } {
  const plugin = gw.app.gateway.plugins.get(VIDEOCALL) as VideoCallPlugin | undefined;
  assert.ok(plugin, "the VideoCall plugin is loaded");
  return plugin.metrics();
}

/** Waits until every peer is closed and the plugin holds no call. */
export async function settled(gw: TestGateway, users?: number): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const c = pluginCounts(gw);
    const ok = gw.counts().peers === 0 && c.calls === 0 &&
      (users === undefined || c.users === users);
    if (ok) return;
    if (Date.now() > deadline) {
      throw new Error(`not settled: ${JSON.stringify({ ...gw.counts(), ...c })}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * An event as its order is checked: a plugin event as `{tx?, data, jsep?}` (jsep by type), a
 * core event by its `janus` (and `reason` for hangup).
 */
export function brief(e: JsonObject): JsonObject {
  if (e.janus === "event") {
    const out: JsonObject = {};
    if (e.transaction !== undefined) out.tx = true;
    out.data = (e.plugindata as JsonObject).data as JsonObject;
    const jsep = e.jsep as JsonObject | undefined;
    if (jsep) out.jsep = jsep.type as string;
    return out;
  }
  if (e.janus === "hangup") return { janus: "hangup", reason: e.reason as string };
  return { janus: e.janus as string };
}

/** The `jsep` of an event (asserted present). */
export function jsepOf(e: JsonObject): TestJsep {
  const jsep = e.jsep as JsonObject | undefined;
  assert.ok(jsep, `no jsep in ${JSON.stringify(e)}`);
  const type = jsep.type;
  assert.ok(type === "offer" || type === "answer");
  return { type, sdp: String(jsep.sdp) };
}

/** `{videocall:"event", result}`. */
export const result = (r: JsonObject): JsonObject => ({ videocall: "event", result: r });

/** `{videocall:"event", error_code, error}`. */
export const failure = (code: number, error: string): JsonObject => ({
  videocall: "event",
  error_code: code,
  error,
});

/** A `hangup` result. */
export const hangup = (username: string | undefined, reason: string): JsonObject =>
  result({ event: "hangup", ...(username !== undefined ? { username } : {}), reason });

/** The reason the other side of a call gets when one side's PeerConnection goes. */
export const REMOTE = "Remote WebRTC hangup";
/** The core's hangup event when the plugin closes a PeerConnection. */
export const CLOSE_PC = { janus: "hangup", reason: "Close PC" };

/**
 * `from` (registered as `fromName`) hangs up its call with `to` (`toName`): `from` gets its
 * result, the remote hangup and the PeerConnection's close; `to` gets the same three events
 * (`"check"`, in the reference's order) or has them read and left unchecked (`"drain"`).
 */
export async function hangupCall(
  from: VideoCallUser,
  fromName: string,
  to: VideoCallUser,
  toName: string,
  other: "check" | "drain" = "check",
): Promise<void> {
  assert.deepEqual(await from.briefsOf({ request: "hangup" }, undefined, 3), [
    { tx: true, data: hangup(fromName, "Explicit hangup") },
    { data: hangup(toName, REMOTE) },
    CLOSE_PC,
  ]);
  const seen = await to.briefs(3);
  if (other === "drain") return;
  assert.deepEqual(seen, [
    { data: hangup(fromName, "We did the hangup") },
    { data: hangup(fromName, REMOTE) },
    CLOSE_PC,
  ]);
}

/** One session with one VideoCall handle. */
export class VideoCallUser {
  readonly client: JanusClient;
  readonly session: number;
  handle: number;
  /** Core events `next` passes over (e.g. `webrtcup`, `media` while media flows). */
  skip: ReadonlySet<string> = new Set();

  private constructor(client: JanusClient, session: number, handle: number) {
    this.client = client;
    this.session = session;
    this.handle = handle;
  }

  /** Creates a session and attaches a VideoCall handle on `client`. */
  static async open(client: JanusClient): Promise<VideoCallUser> {
    const created = await client.send({ janus: "create", transaction: tx("c") });
    const session = (created.data as JsonObject).id as number;
    const user = new VideoCallUser(client, session, 0);
    await user.attach();
    return user;
  }

  /** Attaches a (new) VideoCall handle. */
  async attach(): Promise<void> {
    const attached = await this.client.send({
      janus: "attach",
      plugin: VIDEOCALL,
      session_id: this.session,
      transaction: tx("a"),
    });
    assert.equal(attached.janus, "success", JSON.stringify(attached));
    this.handle = (attached.data as JsonObject).id as number;
  }

  /** Sends a message; resolves the direct reply. */
  async message(body: JsonObject, jsep?: TestJsep): Promise<JsonObject> {
    return await this.client.send({
      janus: "message",
      session_id: this.session,
      handle_id: this.handle,
      transaction: tx("m"),
      body,
      ...(jsep ? { jsep: { ...jsep } } : {}),
    });
  }

  /** Sends a message, asserts the bare ack, and returns the event of its transaction. */
  async request(body: JsonObject, jsep?: TestJsep): Promise<JsonObject> {
    const reply = await this.message(body, jsep);
    assert.deepEqual(reply, {
      janus: "ack",
      session_id: this.session,
      transaction: reply.transaction,
    }, JSON.stringify(reply));
    const event = await this.next();
    assert.equal(event.transaction, reply.transaction, JSON.stringify(event));
    return event;
  }

  /** `request`, returning only `plugindata.data`. */
  async ask(body: JsonObject, jsep?: TestJsep): Promise<JsonObject> {
    const event = await this.request(body, jsep);
    assert.equal(event.janus, "event", JSON.stringify(event));
    return (event.plugindata as JsonObject).data as JsonObject;
  }

  /** `request`, then the next `n - 1` events: all `n` briefed. */
  async briefsOf(body: JsonObject, jsep?: TestJsep, n = 1): Promise<JsonObject[]> {
    const first = brief(await this.request(body, jsep));
    return [first, ...(await this.briefs(n - 1))];
  }

  /** The next event of this session (in order). */
  async next(timeoutMs = 8000): Promise<JsonObject> {
    for (;;) {
      const e = await this.client.event(this.session, { timeoutMs });
      if (!e) throw new Error(`no event for session ${this.session} within ${timeoutMs} ms`);
      if (!this.skip.has(String(e.janus))) return e;
    }
  }

  /** The next `n` events, briefed. */
  async briefs(n: number): Promise<JsonObject[]> {
    const out: JsonObject[] = [];
    for (let i = 0; i < n; i++) out.push(brief(await this.next()));
    return out;
  }

  /** Asserts that no event comes within `ms`. */
  async quiet(ms = 300): Promise<void> {
    const e = await this.client.event(this.session, { timeoutMs: ms });
    assert.equal(e, undefined, `unexpected event ${JSON.stringify(e)}`);
  }

  async detach(): Promise<JsonObject> {
    return await this.client.send({
      janus: "detach",
      session_id: this.session,
      handle_id: this.handle,
      transaction: tx("d"),
    });
  }

  async keepalive(): Promise<void> {
    await this.client.send({ janus: "keepalive", session_id: this.session, transaction: tx("k") });
  }

  async destroy(): Promise<void> {
    await this.client.send({ janus: "destroy", session_id: this.session, transaction: tx("x") });
  }
}

const FINGERPRINT = "sha-256 " +
  Array.from({ length: 32 }, (_, i) => ((i * 7) % 256).toString(16).padStart(2, "0")).join(":")
    .toUpperCase();

/**
 * A browser-like offer (opus, VP8 + RTX and H264, a data channel unless `data` is false) for
 * signalling: it never connects, no media flows.
 */
export function fakeOffer(tag: string, options: { data?: boolean } = {}): TestJsep {
  const data = options.data ?? true;
  const ice = [
    `a=ice-ufrag:${tag}u`,
    `a=ice-pwd:${tag}pwdpwdpwdpwdpwdpwdpwdpw`,
    `a=fingerprint:${FINGERPRINT}`,
    "a=setup:actpass",
  ];
  const lines = [
    "v=0",
    `o=- ${Date.now()} 2 IN IP4 127.0.0.1`,
    "s=-",
    "t=0 0",
    `a=group:BUNDLE 0 1${data ? " 2" : ""}`,
    "m=audio 9 UDP/TLS/RTP/SAVPF 111",
    "c=IN IP4 0.0.0.0",
    ...ice,
    "a=mid:0",
    "a=sendrecv",
    "a=rtcp-mux",
    "a=rtpmap:111 opus/48000/2",
    "a=fmtp:111 minptime=10;useinbandfec=1",
    "a=ssrc:1111 cname:x",
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98",
    "c=IN IP4 0.0.0.0",
    ...ice,
    "a=mid:1",
    "a=sendrecv",
    "a=rtcp-mux",
    "a=rtpmap:96 VP8/90000",
    "a=rtcp-fb:96 nack",
    "a=rtcp-fb:96 nack pli",
    "a=rtpmap:97 rtx/90000",
    "a=fmtp:97 apt=96",
    "a=rtpmap:98 H264/90000",
    "a=ssrc-group:FID 2222 3333",
    "a=ssrc:2222 cname:x",
    "a=ssrc:3333 cname:x",
  ];
  if (data) {
    lines.push(
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
      "c=IN IP4 0.0.0.0",
      ...ice,
      "a=mid:2",
      "a=sctp-port:5000",
    );
  }
  return { type: "offer", sdp: lines.join("\r\n") + "\r\n" };
}

/** A browser-like answer to `offer`: every m-line kept with its first codec, setup active. */
export function fakeAnswer(offer: TestJsep, tag: string): TestJsep {
  const [head, ...sections] = offer.sdp.split(/\r\nm=/);
  const out = ["v=0", `o=- ${Date.now()} 2 IN IP4 127.0.0.1`, "s=-", "t=0 0"];
  const bundle = /a=group:BUNDLE [^\r]*/.exec(head ?? "")?.[0];
  if (bundle) out.push(bundle);
  const ice = [
    `a=ice-ufrag:${tag}u`,
    `a=ice-pwd:${tag}pwdpwdpwdpwdpwdpwdpwdpw`,
    `a=fingerprint:${FINGERPRINT}`,
    "a=setup:active",
  ];
  for (const [i, section] of sections.entries()) {
    const lines = ("m=" + section).split("\r\n").filter((l) => l !== "");
    const [kind, port, proto, pt] = (lines[0] ?? "").slice(2).split(" ");
    const mid = lines.find((l) => l.startsWith("a=mid:")) ?? `a=mid:${i}`;
    if (kind === "application") {
      out.push(lines[0]!, "c=IN IP4 0.0.0.0", ...ice, mid, "a=sctp-port:5000");
      continue;
    }
    const rtpmap = lines.find((l) => l.startsWith(`a=rtpmap:${pt} `)) ?? "";
    out.push(
      `m=${kind} ${port === "0" ? 0 : 9} ${proto} ${pt}`,
      "c=IN IP4 0.0.0.0",
      ...ice,
      mid,
      "a=sendrecv",
      "a=rtcp-mux",
      rtpmap,
      `a=ssrc:${4000 + i} cname:y`,
    );
  }
  return { type: "answer", sdp: out.join("\r\n") + "\r\n" };
}
