/**
 * Streaming test helpers: a gateway with an rtp media worker (mountpoints bind their ports
 * there), a Janus API handle of the plugin with sync/async requests and event waits (over HTTP
 * or WebSocket), the plugin's live counts and the engine's source count, an ffmpeg source, and
 * wrtc viewers of a mountpoint.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ConfigInput } from "../../core/config.ts";
import type { JsonObject } from "../../core/protocol.ts";
import type { StreamingCounts, StreamingPlugin } from "../../plugins/streaming/mod.ts";
import type { TestGateway } from "../_helpers/gateway.ts";
import type { JanusClient } from "../_helpers/janus_client.ts";
import { PluginHandle, same } from "../_helpers/plugin_handle.ts";
import { type MediaTestGateway, startMediaTestGateway } from "../_helpers/media_gateway.ts";
import { ClientPeer, type ClientPeerOptions, waitUntil, type Wrtc } from "../media/_client.ts";
import { answerOf } from "./_videoroom_media.ts";

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
 * Opus 440 Hz sine (PT 111) as RTP (or SRTP) to the two ports on loopback, in real time.
 */
export function ffmpegSource(
  videoPort: number,
  audioPort: number,
  /** SRTP instead: the suite's name (e.g. AES_CM_128_HMAC_SHA1_80) and base64 master key. */
  srtp?: { suite: string; key: string },
): Deno.ChildProcess {
  const out = (port: number) =>
    srtp
      ? ["-srtp_out_suite", srtp.suite, "-srtp_out_params", srtp.key, `srtp://127.0.0.1:${port}`]
      : [`rtp://127.0.0.1:${port}`];
  return new Deno.Command("ffmpeg", {
    args: [
      ...["-hide_banner", "-loglevel", "error", "-re"],
      ...["-f", "lavfi", "-i", "testsrc=size=640x480:rate=30"],
      ...["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"],
      ...["-map", "0:v", "-c:v", "libvpx", "-deadline", "realtime", "-b:v", "1M", "-g", "10"],
      ...["-payload_type", "100", "-f", "rtp", ...out(videoPort)],
      ...["-map", "1:a", "-c:a", "libopus", "-b:a", "48k"],
      ...["-payload_type", "111", "-f", "rtp", ...out(audioPort)],
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

/** Stops an `ffmpegSource` (or any ffmpeg with piped stderr) and waits for it. */
export async function stopFfmpeg(ffmpeg: Deno.ChildProcess): Promise<void> {
  try {
    ffmpeg.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  await ffmpeg.status;
  await ffmpeg.stderr.cancel();
}

/** The ports a `create` reply gives its streams, in their order. */
export function createdPorts(created: JsonObject): number[] {
  return ((created.stream as JsonObject).ports as JsonObject[]).map((p) => p.port as number);
}

/**
 * Creates rtp mountpoint `id` with an Opus (PT 111, mid a) and a VP8 (PT 100, mid v) stream on
 * ports the gateway picks (`ffmpegSource`'s codecs); `extra` adds to the request.
 * Returns [audio port, video port].
 */
export async function createAvMountpoint(
  admin: StHandle,
  id: number,
  extra: JsonObject = {},
): Promise<[number, number]> {
  const created = await admin.sync({
    request: "create",
    type: "rtp",
    id,
    ...extra,
    media: [
      { type: "audio", mid: "a", port: 0, pt: 111, codec: "opus" },
      { type: "video", mid: "v", port: 0, pt: 100, codec: "vp8" },
    ],
  });
  return createdPorts(created) as [number, number];
}

/** Until every stream of mountpoint `id` had a packet in the last 200 ms. */
export async function waitFresh(
  h: StHandle,
  id: number,
  timeoutMs: number,
  secret?: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const info = (await h.sync({ request: "info", id, ...(secret ? { secret } : {}) }))
      .info as JsonObject;
    const ages = (info.media as JsonObject[]).map((m) => m.age_ms as number);
    if (ages.every((a) => a < 200)) return;
    assert.ok(performance.now() < deadline, `no fresh RTP on mountpoint ${id}: ages ${ages}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A watching handle, its receive-only wrtc peer, and when `start` was asked. */
export interface WrtcViewer {
  h: StHandle;
  peer: ClientPeer;
  startedAt: number;
}

/**
 * A new handle watches mountpoint `id` with a wrtc peer: watch (preparing), answer, start
 * (starting, or started when the PeerConnection came up first). The gateway's candidates go to
 * the peer only once its answer was taken, as the TextRoom clients do: ICE checks that reach
 * the offering rtp peer before the answer sometimes end it (490 on the answer). The `started`
 * event is left for the caller.
 */
export async function watchWrtc(
  c: JanusClient,
  wrtc: Wrtc,
  id: number,
  options: ClientPeerOptions = {},
  /** More of the `watch` request (simulcast targets). */
  extra: JsonObject = {},
): Promise<WrtcViewer> {
  const h = await StHandle.open(c);
  const watched = await h.ask({ request: "watch", id, ...extra });
  same(watched.data, { streaming: "event", result: { status: "preparing" } });
  const peer = new ClientPeer(wrtc, options);
  const offer = watched.jsep as { type: "offer"; sdp: string };
  const lines = offer.sdp.split("\r\n");
  const candidates = lines.filter((l) => l.startsWith("a=candidate:"));
  const bare = lines.filter((l) => !l.startsWith("a=candidate:")).join("\r\n");
  const answer = await answerOf(peer, { type: "offer", sdp: bare });
  const startedAt = performance.now();
  const status = ((await h.ask({ request: "start" }, { ...answer })).data.result as JsonObject)
    .status;
  // A first start says "starting" (as the reference); `started` follows with the PeerConnection.
  assert.equal(status, "starting");
  const mid = /a=mid:(\S+)/.exec(offer.sdp)?.[1] ?? "0";
  for (const l of candidates) {
    await peer.pc.addIceCandidate({ candidate: l.slice(2), sdpMid: mid, sdpMLineIndex: 0 });
  }
  return { h, peer, startedAt };
}

/**
 * Destroys mountpoint `id` while `viewers` watch it: each gets `stopped`, then the core's
 * hangup, and no peer is left on the gateway.
 */
export async function destroyWatched(
  gw: TestGateway,
  admin: StHandle,
  id: number,
  viewers: WrtcViewer[],
  secret?: string,
): Promise<void> {
  same(await admin.sync({ request: "destroy", id, ...(secret ? { secret } : {}) }), {
    streaming: "destroyed",
    destroyed: id,
  });
  for (const v of viewers) {
    same(await v.h.next(), { streaming: "event", result: { status: "stopped" } });
    await v.h.core("hangup");
  }
  await waitUntil("no peers left", () => gw.counts().peers === 0, 5000);
}

/** Closes the viewers' peers and handles, then `admin`. */
export async function closeViewers(viewers: WrtcViewer[], admin: StHandle): Promise<void> {
  for (const v of viewers) {
    v.peer.close();
    await v.h.close();
  }
  await admin.close();
}
