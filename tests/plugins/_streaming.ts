/**
 * Streaming test helpers: a gateway with an rtp media worker (mountpoints bind their ports
 * there), a Janus API handle of the plugin with sync/async requests and event waits (over HTTP
 * or WebSocket), the plugin's live counts and the engine's source count.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ConfigInput } from "../../core/config.ts";
import type { JsonObject } from "../../core/protocol.ts";
import type { StreamingCounts, StreamingPlugin } from "../../plugins/streaming/mod.ts";
import type { TestGateway } from "../_helpers/gateway.ts";
import type { JanusClient } from "../_helpers/janus_client.ts";
import { PluginHandle } from "../_helpers/plugin_handle.ts";
import { type MediaTestGateway, startMediaTestGateway } from "../_helpers/media_gateway.ts";

/** Replies compared with their key order (shared by the plugin helpers). */
export { same } from "../_helpers/plugin_handle.ts";

export const STREAMING = "janus.plugin.streaming";

/** The plugin's live counts and the media engine's live sources. */
export function streamingCounts(gw: TestGateway): StreamingCounts & { sources: number } {
  const plugin = gw.app.gateway.plugins.get(STREAMING) as StreamingPlugin | undefined;
  assert.ok(plugin?.counts, "the Streaming plugin is loaded");
  return { ...plugin.counts(), sources: gw.app.gateway.media?.sourceCount?.() ?? 0 };
}

/**
 * Starts a media engine (rtp for the Streaming plugin) and a test gateway using it; by default
 * with no configured mountpoint (`plugins["janus.plugin.streaming"].mountpoints: []`). Stopping
 * it asserts that no mountpoint source is left.
 */
export async function startStreamingGateway(
  overrides: ConfigInput = {},
): Promise<MediaTestGateway> {
  const plugins = (overrides.plugins ?? {}) as Record<string, Record<string, unknown>>;
  return await startMediaTestGateway(
    {
      ...overrides,
      media: { workers: 1, ...overrides.media },
      plugins: { ...plugins, [STREAMING]: { mountpoints: [], ...plugins[STREAMING] } },
    },
    (media) => assert.equal(media.sourceCount?.(), 0, "every mountpoint source closed"),
  );
}

/** An error as the plugin words it. */
export const stErr = (code: number, error: string): JsonObject => ({
  streaming: "event",
  error_code: code,
  error,
});

/** A session with one Streaming handle. */
export class StHandle extends PluginHandle {
  private constructor(c: JanusClient, ids: { session: number; handle: number }) {
    super(c, STREAMING, ids);
  }

  static async open(c: JanusClient): Promise<StHandle> {
    return new StHandle(c, await PluginHandle.attach(c, STREAMING));
  }

  /** An asynchronous request: asserts the ack, resolves its event (data and jsep). */
  async ask(body: JsonObject, jsep?: JsonObject): Promise<{ data: JsonObject; jsep?: JsonObject }> {
    const reply = await this.message(body, jsep);
    assert.equal(reply.janus, "ack", JSON.stringify(reply));
    const event = await this.waitFor(
      `the event of ${JSON.stringify(body)}`,
      (e) => e.janus === "event" && e.transaction === reply.transaction,
      8000,
    );
    assert.equal(event.sender, this.handle);
    const data = (event.plugindata as JsonObject).data as JsonObject;
    return event.jsep ? { data, jsep: event.jsep as JsonObject } : { data };
  }

  /**
   * The first event (of any kind) that matches, in arrival order; the others that arrive
   * meanwhile are kept for later calls.
   */
  async waitFor(
    what: string,
    match: (event: JsonObject) => boolean,
    timeoutMs = 3000,
  ): Promise<JsonObject> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const i = this.#backlog.findIndex(match);
      if (i >= 0) return this.#backlog.splice(i, 1)[0]!;
      const left = deadline - performance.now();
      const event = left > 0 ? await this.c.event(this.session, { timeoutMs: left }) : undefined;
      if (!event) {
        throw new Error(`no ${what} within ${timeoutMs} ms: ${JSON.stringify(this.#backlog)}`);
      }
      this.#backlog.push(event);
    }
  }

  /** The data of the next plugin event without a transaction (unprompted). */
  async next(timeoutMs = 3000): Promise<JsonObject> {
    const event = await this.waitFor(
      "plugin event",
      (e) => e.janus === "event" && e.transaction === undefined,
      timeoutMs,
    );
    return (event.plugindata as JsonObject).data as JsonObject;
  }

  /** Waits for a core event (`hangup`, `webrtcup`, ...). */
  async core(janus: string, timeoutMs = 3000): Promise<JsonObject> {
    return await this.waitFor(janus, (e) => e.janus === janus, timeoutMs);
  }

  /** The next event of any kind (core events included), or undefined after `timeoutMs`. */
  async any(timeoutMs = 300): Promise<JsonObject | undefined> {
    if (this.#backlog.length > 0) return this.#backlog.shift();
    return await this.c.event(this.session, { timeoutMs });
  }

  #backlog: JsonObject[] = [];
}

/**
 * ffmpeg (Debian's) sending `testsrc` 640x480 VP8 (PT 100, a keyframe every 10 frames) and an
 * Opus 440 Hz sine (PT 111) as RTP to the two ports on loopback, in real time.
 */
export function ffmpegSource(videoPort: number, audioPort: number): Deno.ChildProcess {
  return new Deno.Command("ffmpeg", {
    args: [
      ...["-hide_banner", "-loglevel", "error", "-re"],
      ...["-f", "lavfi", "-i", "testsrc=size=640x480:rate=30"],
      ...["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"],
      ...["-map", "0:v", "-c:v", "libvpx", "-deadline", "realtime", "-b:v", "1M", "-g", "10"],
      ...["-payload_type", "100", "-f", "rtp", `rtp://127.0.0.1:${videoPort}`],
      ...["-map", "1:a", "-c:a", "libopus", "-b:a", "48k"],
      ...["-payload_type", "111", "-f", "rtp", `rtp://127.0.0.1:${audioPort}`],
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
}
