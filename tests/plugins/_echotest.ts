/**
 * Shared steps of the EchoTest tests: a gateway with one media worker, sessions and handles,
 * a wrtc client call (offer, answer, trickles, webrtcup), and the exact shapes the reference
 * sends (janus-core-api.md §3, §10; plugins/echotest.md).
 *
 * @module
 */
import assert from "node:assert/strict";
import { type ConfigInput, parseConfig } from "../../core/config.ts";
import { type EngineName, EngineRouter } from "../../core/media/engine_router.ts";
import { startMediaEngine } from "../../core/media/start.ts";
import type { MediaEngine } from "../../core/media/types.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { startTestGateway, testConfig, type TestGateway } from "../_helpers/gateway.ts";
import { isLoopbackAddress } from "../_helpers/netns.ts";
import { allLoopback, sdpCandidateAddresses } from "../media/_client.ts";
import { type ClientCandidate, type RemotePeer, until } from "./_peers.ts";
import { type Received, type Signal, txn } from "./_signal.ts";

/** The plugin package id. */
export const ECHOTEST = "janus.plugin.echotest";
/** The reference's ack hint. */
export const HINT = "I'm taking my time!";
/** The reference's data-channel prefix (measured on 1.1.2). */
export const DATA_PREFIX = "Janus EchoTest here! You wrote: ";
/** The admin secret of the test configuration. */
export const ADMIN_SECRET = "janusoverlord";

/** The media engines EchoTest runs on; its suites run on each. */
export const ECHO_ENGINES: readonly EngineName[] = ["wrtc", "rtp"];

/** A test gateway with its media engine (closed by the gateway's shutdown). */
export interface EchoGateway extends TestGateway {
  media: MediaEngine;
  /** The engine EchoTest's peers are on. */
  engine: EngineName;
  /** Process ids of the live workers of that engine. */
  echoWorkerPids(): number[];
}

/** The configuration that puts EchoTest on `engine`, on top of `media`. */
export function echoMediaConfig(
  engine: EngineName,
  media: Record<string, unknown> = {},
): Record<string, unknown> {
  return { workers: 1, ...media, engines: { [ECHOTEST]: engine } };
}

/** Starts the media workers (one per engine used) and a test gateway using them. */
export async function startEchoGateway(
  engine: EngineName = "wrtc",
  overrides: ConfigInput = {},
): Promise<EchoGateway> {
  const config = testConfig({
    ...overrides,
    media: echoMediaConfig(engine, overrides.media as Record<string, unknown> | undefined),
  });
  const media = await startMediaEngine(parseConfig(config));
  assert.ok(media, "a media engine");
  const echoWorkerPids = () =>
    media instanceof EngineRouter ? media.workerPidsOf(engine) : media.workerPids?.() ?? [];
  try {
    const gw = await startTestGateway(config, { media });
    return Object.assign(gw, { media, engine, echoWorkerPids });
  } catch (e) {
    await media.close();
    throw e;
  }
}

/** `create`, then starts listening for the session's events. */
export async function createSession(sig: Signal): Promise<number> {
  const transaction = txn("create");
  const reply = await sig.request({ janus: "create", transaction });
  assert.equal(reply.janus, "success", JSON.stringify(reply));
  assert.equal(reply.transaction, transaction);
  const id = (reply.data as JsonObject | undefined)?.id;
  assert.ok(typeof id === "number" && Number.isSafeInteger(id) && id > 0, JSON.stringify(reply));
  sig.listen(id);
  return id;
}

/** Attaches EchoTest to session `s`; returns the handle id. */
export async function attachEcho(sig: Signal, s: number): Promise<number> {
  const transaction = txn("attach");
  const reply = await sig.request({
    janus: "attach",
    transaction,
    session_id: s,
    plugin: ECHOTEST,
    opaque_id: "echotest-test",
  });
  const id = (reply.data as JsonObject | undefined)?.id;
  assert.ok(typeof id === "number" && id > 0, JSON.stringify(reply));
  assert.deepEqual(reply, { janus: "success", session_id: s, transaction, data: { id } });
  return id;
}

/** A message: `ack` with the hint, then the event with the same transaction. */
export async function echoMessage(
  sig: Signal,
  s: number,
  h: number,
  body: JsonObject,
  jsep?: { type: "offer"; sdp: string },
): Promise<{ ack: Received; event: Received; sentAt: number }> {
  const transaction = txn("msg");
  const sentAt = performance.now();
  const reply = await sig.request({
    janus: "message",
    transaction,
    session_id: s,
    handle_id: h,
    body,
    ...(jsep ? { jsep } : {}),
  });
  assert.deepEqual(reply, { janus: "ack", session_id: s, transaction, hint: HINT });
  const ack = sig.replies.get(transaction);
  assert.ok(ack);
  const event = await sig.take(
    `the event of ${transaction}`,
    (m) => m.janus === "event" && m.transaction === transaction,
  );
  const { jsep: answer, ...rest } = event.msg;
  assert.deepEqual(rest, {
    janus: "event",
    session_id: s,
    transaction,
    sender: h,
    plugindata: { plugin: ECHOTEST, data: { echotest: "event", result: "ok" } },
  });
  assert.deepEqual(
    Object.keys(event.msg),
    ["janus", "session_id", "transaction", "sender", "plugindata", ...(answer ? ["jsep"] : [])],
    "Janus key order",
  );
  if (jsep) {
    assert.ok(answer !== undefined, "the event carries the answer");
  } else {
    assert.equal(answer, undefined, "no jsep without an offer");
  }
  if (sig.kind === "ws") assert.ok(ack.seq < event.seq, "the ack comes before its event");
  return { ack, event, sentAt };
}

/** Checks an answer SDP from the gateway; returns it. */
export function checkAnswer(jsep: unknown): string {
  assert.ok(typeof jsep === "object" && jsep !== null, "a jsep object");
  const { type, sdp } = jsep as { type?: unknown; sdp?: unknown };
  assert.equal(type, "answer");
  assert.ok(typeof sdp === "string");
  assert.deepEqual(Object.keys(jsep), ["type", "sdp"]);
  const addresses = sdpCandidateAddresses(sdp);
  assert.ok(addresses.length > 0, "the answer carries our candidates");
  assert.ok(allLoopback(addresses), `non-loopback candidate in ${addresses.join(", ")}`);
  assert.match(sdp, /\r\na=end-of-candidates\r\n/);
  assert.match(sdp, /\r\nm=audio [1-9]\d* /);
  assert.match(sdp, /\r\nm=video [1-9]\d* /);
  return sdp;
}

/** `o=` session id and version of an SDP. */
export function origin(sdp: string): { id: string; version: bigint } {
  const m = /^o=\S+ (\d+) (\d+) /m.exec(sdp);
  assert.ok(m?.[1] && m[2], "an o= line");
  return { id: m[1], version: BigInt(m[2]) };
}

/** Checks that the client gathered loopback-range candidates only; returns them as JSON. */
export function checkClientCandidates(candidates: ClientCandidate[]): JsonObject[] {
  assert.ok(candidates.length > 0, "the client gathered candidates");
  for (const c of candidates) {
    const address = c.candidate.split(" ")[4] ?? "";
    assert.ok(isLoopbackAddress(address), `client candidate ${c.candidate}`);
  }
  return candidates.map((c) => ({ ...c }));
}

/** Sends one trickle; asserts its plain `ack`. */
export async function trickle(
  sig: Signal,
  s: number,
  h: number,
  payload: { candidate: JsonObject } | { candidates: JsonObject[] },
): Promise<void> {
  const transaction = txn("trickle");
  const reply = await sig.request({
    janus: "trickle",
    transaction,
    session_id: s,
    handle_id: h,
    ...payload,
  });
  assert.deepEqual(reply, { janus: "ack", session_id: s, transaction });
}

/** Trickles: the first candidate alone, the rest as an array, then `completed`. */
export async function trickleAll(
  sig: Signal,
  s: number,
  h: number,
  candidates: JsonObject[],
): Promise<void> {
  const [first, ...rest] = candidates;
  if (first) await trickle(sig, s, h, { candidate: first });
  if (rest.length > 0) await trickle(sig, s, h, { candidates: rest });
  await trickle(sig, s, h, { candidate: { completed: true } });
}

/** The exact `webrtcup` event. */
export async function takeWebrtcup(sig: Signal, s: number, h: number): Promise<Received> {
  const up = await sig.take(
    "webrtcup",
    (m) => m.janus === "webrtcup" && m.session_id === s && m.sender === h,
  );
  assert.deepEqual(up.msg, { janus: "webrtcup", session_id: s, sender: h });
  assert.deepEqual(Object.keys(up.msg), ["janus", "session_id", "sender"]);
  return up;
}

/** The exact `media` events with `receiving:true` for audio mid 0 and video mid 1. */
export async function takeMediaUp(sig: Signal, s: number, h: number): Promise<Received[]> {
  const out: Received[] = [];
  for (const [mid, type] of [["0", "audio"], ["1", "video"]] as const) {
    const r = await sig.take(
      `media ${type} on mid ${mid}`,
      (m) => m.janus === "media" && m.session_id === s && m.sender === h && m.mid === mid,
    );
    assert.deepEqual(r.msg, {
      janus: "media",
      session_id: s,
      sender: h,
      mid,
      type,
      receiving: true,
    });
    assert.deepEqual(Object.keys(r.msg), [
      "janus",
      "session_id",
      "sender",
      "mid",
      "type",
      "receiving",
    ]);
    out.push(r);
  }
  return out;
}

/** What an established call took. */
export interface CallTimings {
  /** `performance.now()` when the offer was sent. */
  sentAt: number;
  /** From sending the offer to the answer event, in ms. */
  answerMs: number;
  /** From sending the offer to `webrtcup`, in ms. */
  webrtcupMs: number;
}

/**
 * A full call on handle `h`: `{audio,video}` + offer, ack, answer event, trickles (single,
 * array, completed), `webrtcup`. With `trickleFirst`, the candidates go in one `candidates`
 * trickle before the message that carries the offer (they must be queued and applied).
 */
export async function startCall(
  sig: Signal,
  s: number,
  h: number,
  client: RemotePeer,
  options: { trickleFirst?: boolean } = {},
): Promise<{
  offer: string;
  answer: string;
  candidates: JsonObject[];
  /** The answer event and `webrtcup` as received. */
  received: { answer: Received; webrtcup: Received };
  timings: CallTimings;
}> {
  const offer = await client.offer();
  assert.match(offer, /a=ice-options:trickle/);
  assert.doesNotMatch(offer, /a=candidate:/, "an offer straight from createOffer()");
  let candidates: JsonObject[] = [];
  if (options.trickleFirst) {
    candidates = checkClientCandidates(await client.candidates());
    await trickle(sig, s, h, { candidates: [...candidates, { completed: true }] });
  }
  const { event, sentAt } = await echoMessage(sig, s, h, { audio: true, video: true }, {
    type: "offer",
    sdp: offer,
  });
  const answer = checkAnswer(event.msg.jsep);
  await client.answer(answer);
  if (!options.trickleFirst) {
    candidates = checkClientCandidates(await client.candidates());
    await trickleAll(sig, s, h, candidates);
  }
  const up = await takeWebrtcup(sig, s, h);
  return {
    offer,
    answer,
    candidates,
    received: { answer: event, webrtcup: up },
    timings: { sentAt, answerMs: event.at - sentAt, webrtcupMs: up.at - sentAt },
  };
}

/** A session- or handle-level request whose reply is plain `success`; resolves its arrival. */
export async function expectSuccess(
  sig: Signal,
  body: JsonObject & { janus: string; session_id: number },
): Promise<Received> {
  const transaction = txn(body.janus);
  const reply = await sig.request({ ...body, transaction });
  assert.deepEqual(reply, { janus: "success", session_id: body.session_id, transaction });
  const arrival = sig.replies.get(transaction);
  assert.ok(arrival);
  return arrival;
}

/** A keepalive on session `s`; asserts the `ack`. */
export async function keepalive(sig: Signal, s: number): Promise<void> {
  const transaction = txn("ka");
  const reply = await sig.request({ janus: "keepalive", transaction, session_id: s });
  assert.deepEqual(reply, { janus: "ack", session_id: s, transaction });
}

/** Admin `handle_info` over HTTP. */
export async function handleInfo(gw: TestGateway, s: number, h: number): Promise<JsonObject> {
  const transaction = txn("hi");
  const res = await fetch(`${gw.adminUrl}/${s}/${h}`, {
    method: "POST",
    body: JSON.stringify({ janus: "handle_info", admin_secret: ADMIN_SECRET, transaction }),
  });
  const reply = await res.json() as JsonObject;
  assert.equal(reply.janus, "success", JSON.stringify(reply));
  assert.equal(reply.session_id, s);
  assert.equal(reply.transaction, transaction);
  assert.equal(reply.handle_id, h);
  const info = reply.info;
  assert.ok(typeof info === "object" && info !== null && !Array.isArray(info));
  return info;
}

/** The exact echotest `result:"done"` event (no transaction). */
export function doneEvent(s: number, h: number): JsonObject {
  return {
    janus: "event",
    session_id: s,
    sender: h,
    plugindata: { plugin: ECHOTEST, data: { echotest: "event", result: "done" } },
  };
}

/** The exact core `hangup` event. */
export function hangupEvent(s: number, h: number, reason: string): JsonObject {
  return { janus: "hangup", session_id: s, sender: h, reason };
}

/**
 * Waits for `result:"done"` then `hangup` of handle `h` and checks that they are exactly the
 * events of `h` since `after`, in this order.
 */
export async function takeTeardown(
  sig: Signal,
  s: number,
  h: number,
  reason: string,
  after: number,
): Promise<{ done: Received; hangup: Received }> {
  const done = await sig.take(
    `result done of ${h}`,
    (m) => m.janus === "event" && m.sender === h && m.transaction === undefined,
  );
  const hangup = await sig.take(`hangup of ${h}`, (m) => m.janus === "hangup" && m.sender === h);
  assert.deepEqual(done.msg, doneEvent(s, h));
  assert.deepEqual(hangup.msg, hangupEvent(s, h, reason));
  assert.ok(done.seq < hangup.seq, "the plugin's result:done comes before the core hangup");
  await sleep(300); // anything else for this handle would show up by now
  const mine = sig.since(s, after).filter((r) => r.msg.sender === h).map((r) => r.msg);
  assert.deepEqual(mine, [doneEvent(s, h), hangupEvent(s, h, reason)]);
  return { done, hangup };
}

/** Video frames the client decodes in `ms`. */
export async function framesIn(client: RemotePeer, ms: number): Promise<number> {
  const before = (await client.stats()).videoFrames;
  await sleep(ms);
  return (await client.stats()).videoFrames - before;
}

/** Waits until the client has decoded `n` echoed frames. */
export async function framesAtLeast(client: RemotePeer, n: number): Promise<void> {
  await until(`${n} echoed frames`, async () => (await client.stats()).videoFrames >= n);
}

/**
 * A new session with an EchoTest handle and a full call of `client` on it (`startCall`, then
 * the media events); with `frames`, also until the client has decoded that many echoed frames.
 */
export async function echoCallUp(
  sig: Signal,
  client: RemotePeer,
  frames?: number,
): Promise<{ s: number; h: number }> {
  const s = await createSession(sig);
  const h = await attachEcho(sig, s);
  await startCall(sig, s, h, client);
  await takeMediaUp(sig, s, h);
  if (frames !== undefined) await framesAtLeast(client, frames);
  return { s, h };
}

/** A pause. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
