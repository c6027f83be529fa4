/**
 * Shared pieces of the Record&Play tests: a gateway whose recordings folder is a fresh temporary
 * one (media workers inside the test network namespace when asked), and a client (one session,
 * one Record&Play handle) over HTTP or WebSocket that sends sync and async requests and reads
 * the events in order.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../core/config.ts";
import { startMediaEngine } from "../../core/media/start.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { startTestGateway, testConfig, type TestGateway } from "../_helpers/gateway.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { openSignal, type Received, type Signal, txn } from "./_signal.ts";

/** The plugin package id. */
export const RECORDPLAY = "janus.plugin.recordplay";

/** An SDP as sent in `jsep`. */
export interface TestJsep {
  type: "offer" | "answer";
  sdp: string;
}

/** A gateway whose Record&Play folder is `path`; with media workers when `media` is true. */
export async function recordPlayGateway(path: string, media: boolean): Promise<TestGateway> {
  const config = {
    media: { workers: 1 },
    plugins: { [RECORDPLAY]: { path } },
  };
  if (!media) return await startTestGateway(config);
  assertInsideNetns();
  const engine = await startMediaEngine(parseConfig(testConfig(config)));
  assert.ok(engine, "media engine");
  return await startTestGateway(config, { media: engine });
}

/** One session with one Record&Play handle. */
export class RecordPlayClient {
  readonly signal: Signal;
  readonly session: number;
  readonly handle: number;

  private constructor(signal: Signal, session: number, handle: number) {
    this.signal = signal;
    this.session = session;
    this.handle = handle;
  }

  static async open(
    kind: "ws" | "http",
    urls: { wsUrl: string; httpUrl: string },
  ): Promise<RecordPlayClient> {
    const signal = await openSignal(kind, urls);
    const created = await signal.request({ janus: "create", transaction: txn("c") });
    const session = (created.data as JsonObject).id as number;
    signal.listen(session);
    const attached = await signal.request({
      janus: "attach",
      plugin: RECORDPLAY,
      session_id: session,
      transaction: txn("a"),
    });
    assert.equal(attached.janus, "success", JSON.stringify(attached));
    return new RecordPlayClient(signal, session, (attached.data as JsonObject).id as number);
  }

  /** A message's direct reply. */
  async send(body: JsonObject, jsep?: TestJsep, transaction = txn("m")): Promise<JsonObject> {
    return await this.signal.request({
      janus: "message",
      session_id: this.session,
      handle_id: this.handle,
      transaction,
      body,
      ...(jsep ? { jsep: { type: jsep.type, sdp: jsep.sdp } } : {}),
    });
  }

  /** A sync request's `plugindata.data`. */
  async sync(body: JsonObject): Promise<JsonObject> {
    const reply = await this.send(body);
    assert.equal(reply.janus, "success", JSON.stringify(reply));
    return (reply.plugindata as JsonObject).data as JsonObject;
  }

  /** An async request: its ack, then its event (the whole message). */
  async request(body: JsonObject, jsep?: TestJsep): Promise<JsonObject> {
    const transaction = txn("r");
    const ack = await this.send(body, jsep, transaction);
    assert.equal(ack.janus, "ack", JSON.stringify(ack));
    const event = await this.signal.take(
      `event of ${JSON.stringify(body)}`,
      (m) => m.janus === "event" && m.transaction === transaction,
      15_000,
    );
    return event.msg;
  }

  /** The next event of this handle matching. */
  async take(
    what: string,
    match: (m: JsonObject) => boolean,
    timeoutMs = 15_000,
  ): Promise<Received> {
    return await this.signal.take(what, (m) => m.sender === this.handle && match(m), timeoutMs);
  }

  async close(): Promise<void> {
    await this.signal.request({ janus: "destroy", session_id: this.session, transaction: txn("d") })
      .catch(() => {});
    await this.signal.close();
  }
}

/** `plugindata.data` of an event. */
export function dataOf(event: JsonObject): JsonObject {
  return (event.plugindata as JsonObject).data as JsonObject;
}

/** The `jsep` of an event (asserted present). */
export function jsepOf(event: JsonObject): TestJsep {
  const jsep = event.jsep as JsonObject | undefined;
  assert.ok(jsep, `no jsep in ${JSON.stringify(event)}`);
  const type = jsep.type;
  assert.ok(type === "offer" || type === "answer");
  return { type, sdp: String(jsep.sdp) };
}

/** `{recordplay:"event", error_code, error}`. */
export const failure = (code: number, error: string): JsonObject => ({
  recordplay: "event",
  error_code: code,
  error,
});

/** One frame of an MJR file as written: its time field and its RTP packet. */
export interface MjrFrame {
  ms: number;
  seq: number;
  ts: number;
  packet: Uint8Array;
}

/** The `MEET` frames of an MJR file. */
export function mjrFrames(bytes: Uint8Array): MjrFrame[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: MjrFrame[] = [];
  let at = 0;
  while (at + 10 <= bytes.length) {
    const tag = new TextDecoder().decode(bytes.subarray(at, at + 4));
    const len = view.getUint16(at + 8);
    const body = bytes.subarray(at + 10, at + 10 + len);
    if (tag === "MEET") {
      out.push({
        ms: view.getUint32(at + 4),
        seq: view.getUint16(at + 12),
        ts: view.getUint32(at + 14),
        packet: body,
      });
    }
    at += 10 + len;
  }
  return out;
}

/** The longest time between two frames written, in ms. */
export function longestGapMs(frames: MjrFrame[]): number {
  let gap = 0;
  for (let i = 1; i < frames.length; i++) gap = Math.max(gap, frames[i]!.ms - frames[i - 1]!.ms);
  return gap;
}
