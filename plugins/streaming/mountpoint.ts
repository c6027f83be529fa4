/**
 * A live mountpoint: its settings, its RTP source (UDP ports in a media worker, owned by the
 * plugin through the host) and its viewers; and the `list`/`info` shapes of the reference.
 *
 * @module
 */
import { basename } from "node:path";
import type { JsonObject, PluginRtpSource } from "../../core/plugin.ts";
import type { RtspFeed } from "./rtsp_feed.ts";
import { CODECS, type MountpointSpec, type StreamSpec } from "./spec.ts";

/** What a mountpoint needs of a viewer. */
export interface Viewer {
  /** The mountpoint went away (destroy) or kicked everyone: end the PeerConnection. */
  end(status: "stopped" | "kicked_all"): void;
  /** An unprompted event to the viewer (`edited`). */
  notify(data: JsonObject): void;
  /** The mountpoint was enabled or disabled: what is sent follows. */
  enabledChanged(): void;
}

/** A mountpoint and its source. */
export class Mountpoint {
  readonly id: number;
  name: string;
  description: string;
  metadata: string | undefined;
  secret: string | undefined;
  pin: string | undefined;
  isPrivate: boolean;
  enabled = true;
  readonly legacy: boolean;
  readonly viewers = new Set<Viewer>();
  readonly #createdAt = performance.now();
  /** Ports as requested (0: picked), for the saved entry. */
  #spec: MountpointSpec;
  /** An `rtsp` mountpoint's session with its server. */
  rtsp: RtspFeed | undefined;
  #source: PluginRtpSource;
  /** Set while a source lost with its media worker is being bound again on a live one. */
  restoring: Promise<void> | undefined;
  /** The MJR file each recorded stream is written to, by mid (`recording`). */
  readonly recordings = new Map<string, string>();

  constructor(id: number, spec: MountpointSpec, source: PluginRtpSource) {
    this.id = id;
    this.#spec = spec;
    // The reference names an RTSP mountpoint by its id alone.
    this.name = spec.name ?? (spec.rtsp ? String(id) : `mp-${id}`);
    this.description = spec.description ?? this.name;
    this.metadata = spec.metadata;
    this.secret = spec.secret;
    this.pin = spec.pin;
    this.isPrivate = spec.isPrivate;
    this.legacy = spec.legacy;
    this.#source = source;
  }

  /** The streams: as created, or (RTSP) as the server described them. */
  get streams(): readonly StreamSpec[] {
    return this.#spec.streams;
  }

  /**
   * An RTSP mountpoint made before its server answered gets its streams and their source.
   * The old source is the caller's to close.
   */
  setStreams(streams: StreamSpec[], source: PluginRtpSource): void {
    this.#spec = { ...this.#spec, streams };
    this.#source = source;
  }

  /** The type the reference names it by: `live` (RTP or a file) or `on demand`. */
  get typeName(): string {
    return this.#spec.file?.onDemand ? "on demand" : "live";
  }

  /** The file it plays, for a file mountpoint. */
  get file(): { path: string; onDemand: boolean } | undefined {
    return this.#spec.file;
  }

  /** The RTP source now feeding the mountpoint. */
  get source(): PluginRtpSource {
    return this.#source;
  }

  /** A new source replaces one lost with its media worker (same streams and ports). */
  replaceSource(source: PluginRtpSource): void {
    this.#source = source;
    // The recordings ended with the lost worker (their files stay readable).
    this.recordings.clear();
  }

  /** The ports as requested (0: pick one). */
  get spec(): MountpointSpec {
    return this.#spec;
  }

  /** The bound port of stream `i`. */
  port(i: number): number {
    return this.source.ports[i] ?? 0;
  }

  /** The bound RTCP port of stream `i` (0: none). */
  rtcpPort(i: number): number {
    return this.source.rtcpPorts[i] ?? 0;
  }

  /** The bound ports of substreams 1 and 2 of a simulcast stream `i` ([]: not simulcast). */
  layerPorts(i: number): readonly number[] {
    return this.source.layerPorts[i] ?? [];
  }

  /** The `stream` of a `created` reply. */
  created(): JsonObject {
    const base: JsonObject = {
      id: this.id,
      type: this.typeName,
      description: this.description,
      is_private: this.isPrivate,
    };
    // A file has no ports to name, nor does an RTSP source (the reference's).
    if (this.file || this.#spec.rtsp) return base;
    if (this.legacy) {
      for (const [i, s] of this.streams.entries()) {
        if (s.host !== undefined) base[`${s.type}_host`] = s.host;
        base[`${s.type}_port`] = this.port(i);
        if (s.rtcpPort !== undefined) base[`${s.type}_rtcp_port`] = this.rtcpPort(i);
        this.layerPorts(i).forEach((p, l) => base[`${s.type}_port_${l + 2}`] = p);
      }
      return base;
    }
    base.ports = this.streams.map((s, i) => ({
      type: s.type,
      mid: s.mid,
      ...(s.host !== undefined ? { host: s.host } : {}),
      port: this.port(i),
      ...(s.rtcpPort !== undefined ? { rtcp_port: this.rtcpPort(i) } : {}),
      ...Object.fromEntries(this.layerPorts(i).map((p, l) => [`port_${l + 2}`, p])),
    }));
    return base;
  }

  /** Milliseconds since each stream's last packet (since creation before the first one). */
  async ages(): Promise<number[]> {
    const now = performance.now();
    const fallback = Math.round(now - this.#createdAt);
    try {
      const stats = await this.source.stats();
      return this.streams.map((_, i) => stats[i]?.ageMs ?? fallback);
    } catch {
      return this.streams.map(() => fallback);
    }
  }

  /** An entry of `list`. */
  async listEntry(): Promise<JsonObject> {
    const ages = await this.ages();
    return {
      id: this.id,
      type: this.typeName,
      description: this.description,
      ...(this.metadata !== undefined ? { metadata: this.metadata } : {}),
      enabled: this.enabled,
      // The reference lists no streams of a file mountpoint.
      ...(this.file ? {} : { media: this.#listMedia(ages) }),
    };
  }

  #listMedia(ages: number[]): JsonObject[] {
    return this.streams.map((s, i) => ({
      mid: s.mid,
      type: s.type,
      label: s.label,
      ...(s.msid !== undefined ? { msid: s.msid } : {}),
      age_ms: ages[i] ?? 0,
    }));
  }

  /** The `info` of the reference; `admin` (right or no secret) adds name, secret, ports... */
  async info(admin: boolean): Promise<JsonObject> {
    const ages = await this.ages();
    return {
      id: this.id,
      ...(admin ? { name: this.name } : {}),
      description: this.description,
      ...(this.metadata !== undefined ? { metadata: this.metadata } : {}),
      ...(admin && this.secret !== undefined ? { secret: this.secret } : {}),
      ...(admin && this.pin !== undefined ? { pin: this.pin } : {}),
      ...(admin && this.isPrivate ? { is_private: true } : {}),
      enabled: this.enabled,
      ...(admin ? { viewers: this.viewers.size } : {}),
      type: this.typeName,
      ...(this.file ? this.#fileInfo(admin) : { media: this.#infoMedia(admin, ages) }),
      ...this.#rtspInfo(admin),
    };
  }

  /** An RTSP mountpoint's `info` fields after its media: and (admin) where it comes from. */
  #rtspInfo(admin: boolean): JsonObject {
    const rtsp = this.#spec.rtsp;
    if (!rtsp) return {};
    return {
      rtsp: true,
      ...(admin
        ? {
          url: rtsp.url,
          ...(rtsp.user !== undefined ? { rtsp_user: rtsp.user } : {}),
          ...(rtsp.password !== undefined ? { rtsp_pwd: rtsp.password } : {}),
          ...(rtsp.quirk ? { rtsp_quirk: true } : {}),
        }
        : {}),
    };
  }

  /** A file mountpoint's `info` fields: its stream's codec, and (admin) the file. */
  #fileInfo(admin: boolean): JsonObject {
    return {
      media: this.streams.map((s) => ({
        type: s.type,
        pt: s.pt,
        codec: s.codec,
        rtpmap: CODECS[s.codec]?.rtpmap ?? s.codec,
      })),
      ...(admin ? { filename: this.file?.path } : {}),
    };
  }

  #infoMedia(admin: boolean, ages: number[]): JsonObject[] {
    return this.streams.map((s, i) => ({
      mindex: i,
      type: s.type,
      mid: s.mid,
      label: s.label,
      ...(s.msid !== undefined ? { msid: s.msid } : {}),
      ...(s.type !== "data"
        ? {
          pt: s.pt,
          codec: s.codec,
          rtpmap: CODECS[s.codec]?.rtpmap ?? s.codec,
          ...(s.fmtp !== undefined ? { fmtp: s.fmtp } : {}),
        }
        : {}),
      ...(s.bufferKf ? { videobufferkf: true } : {}),
      ...(s.simulcastPorts ? { videosimulcast: true } : {}),
      ...(s.svc ? { videosvc: true } : {}),
      ...(admin ? this.#adminPorts(i, s) : {}),
      age_ms: ages[i] ?? 0,
      // The file's name without its folder, as the reference's recorder keeps it.
      ...(admin && this.recordings.has(s.mid)
        ? { recording: basename(this.recordings.get(s.mid) ?? "") }
        : {}),
    }));
  }

  /** Stream `i`'s ports in an admin's `info` (an RTSP one's as the reference shows them: 0). */
  #adminPorts(i: number, s: StreamSpec): JsonObject {
    if (this.#spec.rtsp) return { port: 0, rtcpport: 0, port2: 0, port3: 0 };
    return {
      port: this.port(i),
      ...(s.rtcpPort !== undefined ? { rtcpport: this.rtcpPort(i) } : {}),
      ...Object.fromEntries(this.layerPorts(i).map((p, l) => [`port${l + 2}`, p])),
    };
  }

  /** The configuration entry a `permanent` mountpoint is saved as (multistream form). */
  savedEntry(): JsonObject {
    const file = this.file;
    const head = {
      type: file ? (file.onDemand ? "ondemand" : "live") : "rtp",
      id: this.id,
      name: this.name,
      description: this.description,
      ...(this.metadata !== undefined ? { metadata: this.metadata } : {}),
      ...(this.secret !== undefined ? { secret: this.secret } : {}),
      ...(this.pin !== undefined ? { pin: this.pin } : {}),
      is_private: this.isPrivate,
    };
    const rtsp = this.#spec.rtsp;
    if (rtsp) {
      const given = (kind: "audio" | "video") => {
        const g = rtsp[kind];
        if (!g) return {};
        return {
          [kind]: true,
          ...(g.codec !== undefined ? { [`${kind}codec`]: g.codec } : {}),
          ...(g.pt !== undefined ? { [`${kind}pt`]: g.pt } : {}),
          ...(g.fmtp !== undefined ? { [`${kind}fmtp`]: g.fmtp } : {}),
        };
      };
      return {
        ...head,
        type: "rtsp",
        url: rtsp.url,
        ...(rtsp.user !== undefined ? { rtsp_user: rtsp.user } : {}),
        ...(rtsp.password !== undefined ? { rtsp_pwd: rtsp.password } : {}),
        ...(rtsp.quirk ? { rtsp_quirk: true } : {}),
        ...given("audio"),
        ...given("video"),
        ...(rtsp.video?.bufferKf ? { videobufferkf: true } : {}),
        ...(rtsp.iface !== undefined ? { rtspiface: rtsp.iface } : {}),
        ...(rtsp.failcheck ? {} : { rtsp_failcheck: false }),
        rtsp_reconnect_delay: rtsp.reconnectDelayMs / 1000,
        ...(rtsp.sessionTimeoutMs > 0
          ? { rtsp_session_timeout: rtsp.sessionTimeoutMs / 1000 }
          : {}),
        rtsp_timeout: rtsp.timeoutMs / 1000,
        rtsp_conn_timeout: rtsp.connectTimeoutMs / 1000,
      };
    }
    if (file) {
      const audio = this.streams[0];
      return {
        ...head,
        filename: file.path,
        audio: true,
        ...(audio?.codec === "opus" ? { audiocodec: "opus", audiopt: audio.pt } : {}),
        ...(audio?.fmtp !== undefined ? { audiofmtp: audio.fmtp } : {}),
      };
    }
    return {
      ...head,
      ...(this.#spec.srtp
        ? { srtpsuite: this.#spec.srtp.suite, srtpcrypto: this.#spec.srtp.crypto }
        : {}),
      media: this.#spec.streams.map((s) => ({
        type: s.type,
        mid: s.mid,
        label: s.label,
        ...(s.msid !== undefined ? { msid: s.msid } : {}),
        port: s.port,
        ...(s.type !== "data" ? { pt: s.pt, codec: s.codec } : {}),
        ...(s.fmtp !== undefined ? { fmtp: s.fmtp } : {}),
        ...(s.iface !== undefined ? { iface: s.iface } : {}),
        ...(s.mcast !== undefined ? { mcast: s.mcast } : {}),
        ...(s.rtcpPort !== undefined ? { rtcpport: s.rtcpPort } : {}),
        ...(s.bufferKf ? { bufferkf: true } : {}),
        ...(s.simulcastPorts
          ? { simulcast: true, port2: s.simulcastPorts[0], port3: s.simulcastPorts[1] }
          : {}),
        ...(s.svc ? { svc: true } : {}),
        ...(s.binary ? { datatype: "binary" } : {}),
        ...(s.bufferMsg ? { buffermsg: true } : {}),
      })),
    };
  }
}
