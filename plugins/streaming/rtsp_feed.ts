/**
 * An `rtsp` mountpoint's session with its server, as the reference keeps one: DESCRIBE (with
 * `rtsp_quirk`, the URL's path alone after a 404) gives the audio and video asked for; their
 * RTP and RTCP ports are bound in a media worker (an adjacent pair each); SETUP (video, then
 * audio) and PLAY start the media; OPTIONS keeps the session alive at half its timeout; when no
 * packet came for `rtsp_reconnect_delay` the session is set up again on the same ports (viewers
 * keep their lines); `close` sends TEARDOWN.
 *
 * @module
 */
import { createLogger } from "../../core/log.ts";
import type { PluginRtpSource } from "../../core/plugin.ts";
import { clientTransport, describedMedia, RtspConnection, type RtspMedia } from "./rtsp_client.ts";
import { CODEC_NAMES, CODECS, type RtspSpec, type StreamSpec } from "./spec.ts";

const log = createLogger("streaming");

/** How often the source's packet ages are looked at. */
const CHECK_MS = 500;
/** Longest wait for TEARDOWN's answer when the mountpoint goes. */
const TEARDOWN_MS = 1000;

/** What a DESCRIBE gave: the media asked for, and the URI PLAY uses. */
export interface RtspDescription {
  audio?: RtspMedia;
  video?: RtspMedia;
  /** The URL, or its path alone when the server wanted that (`rtsp_quirk`). */
  playUri: string;
}

/** The URL without credentials (they go in `Authorization`), and the credentials to use. */
function target(spec: RtspSpec): {
  url: URL;
  uri: string;
  credentials?: { user: string; password: string };
} {
  const url = new URL(spec.url);
  const user = spec.user ?? (url.username !== "" ? decodeURIComponent(url.username) : undefined);
  const password = spec.password ??
    (url.username !== "" ? decodeURIComponent(url.password) : undefined);
  url.username = "";
  url.password = "";
  return {
    url,
    uri: url.href,
    ...(user !== undefined && password !== undefined ? { credentials: { user, password } } : {}),
  };
}

/**
 * Connects and describes: the media of the kinds `spec` asks for that the server has.
 *
 * @throws {Error} when the server cannot be reached, refuses, or has none of them
 */
export async function describe(
  spec: RtspSpec,
): Promise<{ conn: RtspConnection; described: RtspDescription }> {
  const { url, uri, credentials } = target(spec);
  const conn = await RtspConnection.open(url, {
    ...(credentials ? { credentials } : {}),
    connectTimeoutMs: spec.connectTimeoutMs,
    timeoutMs: spec.timeoutMs,
  });
  try {
    const accept = { Accept: "application/sdp" };
    let playUri = uri;
    let answer = await conn.request("DESCRIBE", uri, accept);
    if (spec.quirk && answer.status === 404) {
      const path = `${url.pathname}${url.search}`;
      const again = await conn.request("DESCRIBE", path, accept);
      if (again.status !== 404) playUri = path;
      answer = again;
    }
    if (answer.status !== 200) throw new Error(`DESCRIBE answered ${answer.status}`);
    const described: RtspDescription = { playUri };
    for (const kind of ["audio", "video"] as const) {
      if (!spec[kind]) continue;
      const media = describedMedia(answer, uri, kind);
      if (media) described[kind] = media;
    }
    if (!described.audio && !described.video) {
      throw new Error("the server describes none of the media asked for");
    }
    return { conn, described };
  } catch (e) {
    conn.close();
    throw e;
  }
}

/**
 * The mountpoint's streams for what was described (audio first, mids `a` and `v`), with the
 * codec, payload type and fmtp given at `create` in place of the server's.
 *
 * @throws {Error} when a codec is not one this gateway forwards
 */
export function describedStreams(spec: RtspSpec, described: RtspDescription): StreamSpec[] {
  const out: StreamSpec[] = [];
  for (const kind of ["audio", "video"] as const) {
    const media = described[kind];
    const given = spec[kind];
    if (!media || !given) continue;
    const codec = (given.codec ?? media.rtpmap.split("/")[0] ?? "").toLowerCase();
    if (CODECS[codec]?.kind !== kind) {
      throw new Error(`${kind} codec '${codec}' is not supported (${CODEC_NAMES})`);
    }
    out.push({
      type: kind,
      mid: kind === "audio" ? "a" : "v",
      label: kind === "audio" ? "RTSP audio" : "RTSP video",
      port: 0,
      pt: given.pt ?? media.pt,
      codec,
      fmtp: given.fmtp ?? media.fmtp,
      rtcpPort: 0,
      rtcpNext: true,
      ...(spec.video?.bufferKf && kind === "video" ? { bufferKf: true } : {}),
    });
  }
  return out;
}

/** The live session: keep-alives, reconnection, TEARDOWN. */
export class RtspFeed {
  readonly #spec: RtspSpec;
  readonly #name: string;
  /** The mountpoint's source now (replaced when its worker died). */
  readonly #source: () => PluginRtpSource | undefined;
  /** The first connection once described and bound: the mountpoint's streams are set. */
  readonly #onFirstPlay: (streams: StreamSpec[]) => Promise<PluginRtpSource>;
  #conn: RtspConnection | undefined;
  #described: RtspDescription | undefined;
  #keepalive: ReturnType<typeof setInterval> | undefined;
  #check: ReturnType<typeof setInterval> | undefined;
  /** When the session last started playing, or the last check saw a packet (monotonic ms). */
  #lastAlive = performance.now();
  #busy = false;
  #closed = false;

  constructor(options: {
    spec: RtspSpec;
    name: string;
    source: () => PluginRtpSource | undefined;
    onFirstPlay: (streams: StreamSpec[]) => Promise<PluginRtpSource>;
  }) {
    this.#spec = options.spec;
    this.#name = options.name;
    this.#source = options.source;
    this.#onFirstPlay = options.onFirstPlay;
  }

  /**
   * Sets the session up: DESCRIBE, the source bound (the first time), SETUP and PLAY.
   *
   * @throws {Error} when any step fails (the connection is closed)
   */
  async connect(): Promise<void> {
    const { conn, described } = await describe(this.#spec);
    try {
      const first = this.#described === undefined;
      const source = first
        ? await this.#onFirstPlay(describedStreams(this.#spec, described))
        : this.#source();
      if (!source) throw new Error("the mountpoint has no source");
      await this.#play(conn, described, source, this.#described ?? described);
      this.#described ??= described;
    } catch (e) {
      conn.close();
      throw e;
    }
    if (this.#closed) {
      conn.close();
      return;
    }
    this.#conn = conn;
    this.#lastAlive = performance.now();
    this.#startKeepalive(conn);
  }

  /** Watches for media, and sets the session up again when it stops (or never started). */
  start(): void {
    this.#check ??= setInterval(() => void this.#tick(), CHECK_MS);
  }

  /**
   * SETUP (video, then audio, as the reference) on the ports bound for each, then PLAY;
   * `layout` is the first description, which the source's streams follow (audio first).
   */
  async #play(
    conn: RtspConnection,
    described: RtspDescription,
    source: PluginRtpSource,
    layout: RtspDescription,
  ): Promise<void> {
    const order = (["audio", "video"] as const).filter((k) => layout[k] && this.#spec[k]);
    for (const kind of ["video", "audio"] as const) {
      const media = described[kind];
      const index = order.indexOf(kind);
      if (!media || index < 0) continue;
      const port = source.ports[index] ?? 0;
      const answer = await conn.request("SETUP", media.uri, { Transport: clientTransport(port) });
      if (answer.status !== 200) throw new Error(`SETUP of ${kind} answered ${answer.status}`);
    }
    const answer = await conn.request("PLAY", described.playUri, { Range: "npt=0.000-" });
    if (answer.status !== 200) throw new Error(`PLAY answered ${answer.status}`);
  }

  #startKeepalive(conn: RtspConnection): void {
    clearInterval(this.#keepalive);
    // The reference: min(rtsp_session_timeout, the server's timeout / 2), when there is one.
    const server = conn.sessionTimeoutS * 500;
    const own = this.#spec.sessionTimeoutMs;
    const period = own > 0 ? (server > 0 ? Math.min(own, server) : own) : server;
    if (period <= 0) return;
    this.#keepalive = setInterval(() => {
      if (this.#conn !== conn || this.#busy) return;
      conn.request("OPTIONS", target(this.#spec).uri).catch((e: unknown) => {
        log.warn(`mountpoint ${this.#name}: RTSP OPTIONS failed: ${String(e)}`);
      });
    }, period);
  }

  async #tick(): Promise<void> {
    if (this.#busy || this.#closed) return;
    const now = performance.now();
    const source = this.#source();
    if (this.#conn && source) {
      const stats = await source.stats().catch(() => []);
      const ages = stats.map((s) => s.ageMs).filter((a): a is number => a !== undefined);
      const freshest = ages.length > 0 ? Math.min(...ages) : Infinity;
      if (now - freshest > this.#lastAlive) this.#lastAlive = now - freshest;
    }
    // Destroyed while the stats came: no new session for it.
    if (this.#closed || now - this.#lastAlive <= this.#spec.reconnectDelayMs) return;
    this.#busy = true;
    try {
      log.warn(
        `mountpoint ${this.#name}: ${Math.round((now - this.#lastAlive) / 1000)} s with no ` +
          `media, setting the RTSP session up again`,
      );
      this.#conn?.close();
      this.#conn = undefined;
      clearInterval(this.#keepalive);
      await this.connect();
      log.info(`mountpoint ${this.#name}: the RTSP server plays again`);
    } catch (e) {
      log.warn(`mountpoint ${this.#name}: RTSP reconnection failed: ${String(e)}`);
    } finally {
      // The next try after another delay, as the reference.
      this.#lastAlive = Math.max(this.#lastAlive, performance.now());
      this.#busy = false;
    }
  }

  /** Stops watching and tells the server (TEARDOWN), briefly; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#check);
    clearInterval(this.#keepalive);
    const conn = this.#conn;
    this.#conn = undefined;
    if (!conn) return;
    const uri = this.#described?.playUri ?? target(this.#spec).uri;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      conn.request("TEARDOWN", uri).catch(() => {}),
      new Promise((r) => timer = setTimeout(r, TEARDOWN_MS)),
    ]);
    clearTimeout(timer);
    conn.close();
  }
}
