/**
 * AudioBridge test helpers: a gateway with a media worker, a Janus API handle with sync/async
 * requests and event waits (over HTTP or WebSocket), and the plugin's live counts.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ConfigInput } from "../../core/config.ts";
import type { JsonObject } from "../../core/protocol.ts";
import type { AudioBridgeCounts, AudioBridgePlugin } from "../../plugins/audiobridge/mod.ts";
import type { TestGateway } from "../_helpers/gateway.ts";
import type { JanusClient } from "../_helpers/janus_client.ts";
import { PluginHandle } from "../_helpers/plugin_handle.ts";
import { type MediaTestGateway, startMediaTestGateway } from "../_helpers/media_gateway.ts";
import { waitUntil } from "../media/_client.ts";
import type { ToneClient } from "./_audiobridge_tone.ts";

/** Replies compared with their key order (shared by the plugin helpers). */
export { handleInfo, same } from "../_helpers/plugin_handle.ts";

export const AUDIOBRIDGE = "janus.plugin.audiobridge";

/** The AudioBridge plugin's live counts on a test gateway. */
export function audioBridgeCounts(gw: TestGateway): AudioBridgeCounts {
  const plugin = gw.app.gateway.plugins.get(AUDIOBRIDGE) as AudioBridgePlugin | undefined;
  assert.ok(plugin?.counts, "the AudioBridge plugin is loaded");
  return plugin.counts();
}

/** Starts a media worker (wrtc: the AudioBridge's engine) and a test gateway using it. */
export async function startAudioBridgeGateway(
  overrides: ConfigInput = {},
): Promise<MediaTestGateway> {
  return await startMediaTestGateway({ ...overrides, media: { workers: 1, ...overrides.media } });
}

/**
 * Once every client left: `rooms` rooms stay with no participant or session, and the media
 * worker lets go of every peer, the rooms' mixers and their members.
 */
export async function assertMixingReleased(gw: MediaTestGateway, rooms: number): Promise<void> {
  assert.deepEqual(audioBridgeCounts(gw), { rooms, participants: 0, sessions: 0 });
  await waitUntil("peers and the room's mixer released", () => {
    return gw.media.counts().peers === 0 && gw.media.mixerCount?.() === 0;
  }, 5000);
  assert.equal(await gw.media.mixerMembers?.(), 0, "no mixer member left");
}

/** A session with one AudioBridge handle. */
export class AbHandle extends PluginHandle {
  /** Unprompted events that arrived while `ask` waited for its answer, in order. */
  #unprompted: JsonObject[] = [];

  private constructor(c: JanusClient, ids: { session: number; handle: number }) {
    super(c, AUDIOBRIDGE, ids);
  }

  static async open(c: JanusClient): Promise<AbHandle> {
    return new AbHandle(c, await PluginHandle.attach(c, AUDIOBRIDGE));
  }

  /** An asynchronous request: asserts the ack, resolves its event (data and jsep). */
  async ask(body: JsonObject, jsep?: JsonObject): Promise<{ data: JsonObject; jsep?: JsonObject }> {
    const reply = await this.message(body, jsep);
    assert.equal(reply.janus, "ack", JSON.stringify(reply));
    let event = await this.c.event(this.session, { timeoutMs: 8000 });
    // Another participant's news (its PeerConnection came up) may come first: keep it for next.
    while (event?.janus === "event" && event.transaction === undefined) {
      this.#unprompted.push(event);
      event = await this.c.event(this.session, { timeoutMs: 8000 });
    }
    assert.ok(event, `an event for ${JSON.stringify(body)}`);
    assert.equal(event.janus, "event", JSON.stringify(event));
    assert.equal(event.transaction, reply.transaction);
    assert.equal(event.sender, this.handle);
    const data = (event.plugindata as JsonObject).data as JsonObject;
    return event.jsep ? { data, jsep: event.jsep as JsonObject } : { data };
  }

  /**
   * `join` (`body` without its request) with `client`'s offer: asserts `joined`, applies the
   * answer to the client and returns its SDP.
   */
  async joinWith(client: ToneClient, body: JsonObject): Promise<string> {
    const joined = await this.ask(
      { request: "join", ...body },
      { type: "offer", sdp: await client.offer() },
    );
    assert.equal(joined.data.audiobridge, "joined", JSON.stringify(joined.data));
    assert.equal(joined.jsep?.type, "answer");
    const sdp = joined.jsep?.sdp as string;
    await client.pc.setRemoteDescription({ type: "answer", sdp });
    return sdp;
  }

  /** The next unprompted plugin event's data (asserts there is one). */
  async next(timeoutMs = 3000): Promise<JsonObject> {
    const event = this.#unprompted.shift() ?? await this.c.event(this.session, { timeoutMs });
    assert.ok(event, "an event");
    assert.equal(event.janus, "event", JSON.stringify(event));
    assert.equal(event.transaction, undefined, JSON.stringify(event));
    return (event.plugindata as JsonObject).data as JsonObject;
  }

  /** The next event of any kind (core events included), or undefined after `timeoutMs`. */
  async any(timeoutMs = 300): Promise<JsonObject | undefined> {
    return this.#unprompted.shift() ?? await this.c.event(this.session, { timeoutMs });
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
