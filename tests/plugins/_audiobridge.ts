/**
 * AudioBridge test helpers: a gateway with a media worker, a Janus API handle with sync/async
 * requests and event waits (over HTTP or WebSocket), and the plugin's live counts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type ConfigInput, parseConfig } from "../../core/config.ts";
import { startMediaEngine } from "../../core/media/start.ts";
import type { JsonObject } from "../../core/protocol.ts";
import type { AudioBridgeCounts, AudioBridgePlugin } from "../../plugins/audiobridge/mod.ts";
import { startTestGateway, testConfig, type TestGateway } from "../_helpers/gateway.ts";
import { type JanusClient, tx } from "../_helpers/janus_client.ts";

export const AUDIOBRIDGE = "janus.plugin.audiobridge";

/** The AudioBridge plugin's live counts on a test gateway. */
export function audioBridgeCounts(gw: TestGateway): AudioBridgeCounts {
  const plugin = gw.app.gateway.plugins.get(AUDIOBRIDGE) as AudioBridgePlugin | undefined;
  assert.ok(plugin?.counts, "the AudioBridge plugin is loaded");
  return plugin.counts();
}

/** Starts a media worker (wrtc: the AudioBridge's engine) and a test gateway using it. */
export async function startAudioBridgeGateway(overrides: ConfigInput = {}): Promise<TestGateway> {
  const config = testConfig({ ...overrides, media: { workers: 1, ...overrides.media } });
  const media = await startMediaEngine(parseConfig(config));
  assert.ok(media, "a media engine");
  try {
    const gw = await startTestGateway(config, { media });
    const stop = gw.stop;
    const stopAll = async () => {
      try {
        await stop();
      } finally {
        await media.close();
      }
    };
    return Object.assign(gw, { stop: stopAll, [Symbol.asyncDispose]: stopAll });
  } catch (e) {
    await media.close();
    throw e;
  }
}

/** Asserts deep equality and the key order of `expected`. */
export function same(actual: JsonObject | undefined, expected: JsonObject): void {
  assert.deepEqual(actual, expected);
  assert.deepEqual(Object.keys(actual ?? {}), Object.keys(expected), JSON.stringify(actual));
}

/** A session with one AudioBridge handle. */
export class AbHandle {
  readonly c: JanusClient;
  readonly session: number;
  readonly handle: number;

  private constructor(c: JanusClient, session: number, handle: number) {
    this.c = c;
    this.session = session;
    this.handle = handle;
  }

  static async open(c: JanusClient): Promise<AbHandle> {
    const created = await c.send({ janus: "create", transaction: tx("c") });
    const session = (created.data as JsonObject).id as number;
    const attached = await c.send({
      janus: "attach",
      session_id: session,
      plugin: AUDIOBRIDGE,
      transaction: tx("a"),
    });
    assert.equal(attached.janus, "success", JSON.stringify(attached));
    return new AbHandle(c, session, (attached.data as JsonObject).id as number);
  }

  async close(): Promise<void> {
    const reply = await this.c.send({
      janus: "destroy",
      session_id: this.session,
      transaction: tx("d"),
    });
    assert.equal(reply.janus, "success");
  }

  message(body: JsonObject, jsep?: JsonObject): Promise<JsonObject> {
    return this.c.send({
      janus: "message",
      session_id: this.session,
      handle_id: this.handle,
      transaction: tx("m"),
      body,
      ...(jsep ? { jsep } : {}),
    });
  }

  /** A request answered at once: resolves the plugin's data. */
  async sync(body: JsonObject): Promise<JsonObject> {
    const reply = await this.message(body);
    assert.equal(reply.janus, "success", JSON.stringify(reply));
    const pd = reply.plugindata as JsonObject;
    assert.equal(pd.plugin, AUDIOBRIDGE);
    return pd.data as JsonObject;
  }

  /** An asynchronous request: asserts the ack, resolves its event (data and jsep). */
  async ask(body: JsonObject, jsep?: JsonObject): Promise<{ data: JsonObject; jsep?: JsonObject }> {
    const reply = await this.message(body, jsep);
    assert.equal(reply.janus, "ack", JSON.stringify(reply));
    const event = await this.c.event(this.session, { timeoutMs: 8000 });
    assert.ok(event, `an event for ${JSON.stringify(body)}`);
    assert.equal(event.janus, "event", JSON.stringify(event));
    assert.equal(event.transaction, reply.transaction);
    assert.equal(event.sender, this.handle);
    const data = (event.plugindata as JsonObject).data as JsonObject;
    return event.jsep ? { data, jsep: event.jsep as JsonObject } : { data };
  }

  /** The next unprompted plugin event's data (asserts there is one). */
  async next(timeoutMs = 3000): Promise<JsonObject> {
    const event = await this.c.event(this.session, { timeoutMs });
    assert.ok(event, "an event");
    assert.equal(event.janus, "event", JSON.stringify(event));
    assert.equal(event.transaction, undefined, JSON.stringify(event));
    return (event.plugindata as JsonObject).data as JsonObject;
  }

  /** The next event of any kind (core events included), or undefined after `timeoutMs`. */
  async any(timeoutMs = 300): Promise<JsonObject | undefined> {
    return await this.c.event(this.session, { timeoutMs });
  }
}

/** The stock room as `list` shows it. */
export const ROOM_1234 = {
  room: 1234,
  description: "Demo Room",
  sampling_rate: 16000,
  spatial_audio: false,
  pin_required: false,
  record: false,
  muted: false,
  num_participants: 0,
};

/** An error as the plugin words it. */
export const abErr = (code: number, error: string): JsonObject => ({
  audiobridge: "event",
  error_code: code,
  error,
});
