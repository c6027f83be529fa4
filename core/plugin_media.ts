/**
 * Media a plugin owns outside any handle (a Streaming mountpoint's RTP input, an AudioBridge
 * room's mixer), through the plugin host: sources and mixers are made in a media worker,
 * sources forwarded to handles' PeerConnections, mixers joined by them (`PluginWebRTC.mix`),
 * and whatever the plugin leaves open is closed when the plugin stops.
 *
 * @module
 */
import type { ForwardTo, PluginWebRTC } from "./plugin.ts";
import type {
  LayerChange,
  LayerTargets,
  RtpSource,
  RtpSourceStream,
  RtpSourceStreamStats,
} from "./media/source_types.ts";
import type { MediaEngine } from "./media/types.ts";
import type { RoomMixer, RtpLevel } from "./media/mixer_types.ts";
import { HandleWebRTC } from "./webrtc.ts";

export type {
  LayerChange,
  LayerTargets,
  RoomMixer,
  RtpLevel,
  RtpSourceStream,
  RtpSourceStreamStats,
};

/** An RTP source as a plugin sees it: its streams go to handles by mid. */
export interface PluginRtpSource {
  /** The bound UDP ports, in stream order. */
  readonly ports: readonly number[];
  /** The bound RTCP ports, in stream order (0: the stream has none). */
  readonly rtcpPorts: readonly number[];
  /** Ports of substreams 1 and 2 of each simulcast stream, in stream order ([]: none). */
  readonly layerPorts: readonly (readonly number[])[];
  /**
   * Forwards stream `fromMid` to the handle `to` (its PeerConnection is made if needed; it must
   * use the source's affinity key): onto `toMid` (replacing what it carried), else a free
   * m-line of the kind, else a new one named `newMid` when unused; resolves the mid.
   */
  forward(request: {
    to: PluginWebRTC;
    fromMid: string;
    toMid?: string;
    newMid?: string;
    active?: boolean;
    /** A simulcast stream: told when the line's substream or temporal layer changes. */
    onLayer?: (change: LayerChange) => void;
  }): Promise<string>;
  /**
   * Sets what `toMid` of `to`, fed by a simulcast stream, aims at; resolves the substream and
   * temporal layer it is on now (-1: none yet).
   */
  setLayers(options: ForwardTo & LayerTargets): Promise<{ substream: number; temporal: number }>;
  /** Pauses (false) or resumes (true) what this source sends to `toMid` of `to`. */
  setForwarding(options: ForwardTo & { active: boolean }): Promise<void>;
  /** Stops what this source sends to `toMid` of `to`; a no-op when either is gone. */
  stopForward(options: ForwardTo): Promise<void>;
  /** Packets, bytes and age of the last packet, per stream. */
  stats(): Promise<RtpSourceStreamStats[]>;
  /** Records audio/video stream `mid` into the MJR file `path` (see `RtpSource`). */
  startRecording(options: { mid: string; path: string; codec: string }): Promise<void>;
  /** Closes the recording of `mid`, if any. */
  stopRecording(mid: string): Promise<void>;
  /** Closes the ports and recordings; every forward of it stops. Idempotent. */
  close(): Promise<void>;
}

/** What the host offers a plugin for media of its own. */
export interface PluginMedia {
  /**
   * Binds the streams' UDP ports on `host` (`port: 0` picks one in `portRange`).
   *
   * @throws {Error} when a port cannot be bound or the plugin's media engine hosts no sources
   */
  createRtpSource(options: {
    affinity?: string;
    host: string;
    portRange: { min: number; max: number };
    streams: RtpSourceStream[];
    /** The source was lost (its media worker died). */
    onClosed?: () => void;
  }): Promise<PluginRtpSource>;
  /**
   * Makes a mixer that lasts until closed, empty or not (see `mixer_types.ts`); handles join
   * it with `mix({op: "join", mixer: key})` after `useAffinity(affinity)`.
   *
   * @throws {Error} when the plugin's media engine does not mix, or the key is in use
   */
  createMixer(options: {
    key: string;
    sampleRate: number;
    /** A stereo mix for every member, placed by its `pan`. */
    stereo?: boolean;
    affinity: string;
    /** The mixer was lost (its media worker died). */
    onClosed?: () => void;
  }): Promise<RoomMixer>;
}

class PluginSource implements PluginRtpSource {
  readonly #source: RtpSource;
  readonly #forget: () => void;

  constructor(source: RtpSource, forget: () => void) {
    this.#source = source;
    this.#forget = forget;
  }

  get ports(): readonly number[] {
    return this.#source.ports;
  }

  get rtcpPorts(): readonly number[] {
    return this.#source.rtcpPorts;
  }

  get layerPorts(): readonly (readonly number[])[] {
    return this.#source.layerPorts;
  }

  async forward(request: {
    to: PluginWebRTC;
    fromMid: string;
    toMid?: string;
    newMid?: string;
    active?: boolean;
    onLayer?: (change: LayerChange) => void;
  }): Promise<string> {
    const { to, ...rest } = request;
    return await this.#source.forward({ to: await handleOf(to).sourceTarget(), ...rest });
  }

  async setLayers(
    options: ForwardTo & LayerTargets,
  ): Promise<{ substream: number; temporal: number }> {
    const { to, ...rest } = options;
    const peer = handleOf(to).livePeer;
    if (!peer) throw new Error("No PeerConnection");
    return await this.#source.setLayers({ to: peer, ...rest });
  }

  async setForwarding(options: ForwardTo & { active: boolean }): Promise<void> {
    const peer = handleOf(options.to).livePeer;
    if (!peer) throw new Error("No PeerConnection");
    await this.#source.setForwarding({ to: peer, toMid: options.toMid, active: options.active });
  }

  async stopForward(options: ForwardTo): Promise<void> {
    const peer = handleOf(options.to).livePeer;
    if (peer) await this.#source.stopForward({ to: peer, toMid: options.toMid });
  }

  stats(): Promise<RtpSourceStreamStats[]> {
    return this.#source.stats();
  }

  startRecording(options: { mid: string; path: string; codec: string }): Promise<void> {
    return this.#source.startRecording(options);
  }

  stopRecording(mid: string): Promise<void> {
    return this.#source.stopRecording(mid);
  }

  async close(): Promise<void> {
    this.#forget();
    await this.#source.close();
  }
}

function handleOf(target: PluginWebRTC): HandleWebRTC {
  if (!(target instanceof HandleWebRTC)) throw new TypeError("Unknown forwarding target");
  return target;
}

/** The media host of one plugin; `closeAll` releases what it left open (plugin stop). */
export function createPluginMedia(
  engine: MediaEngine,
  plugin: string,
): PluginMedia & { closeAll(): Promise<void> } {
  const open = new Set<{ close(): Promise<void> }>();
  return {
    async createMixer(options) {
      if (!engine.createMixer) throw new Error("The media engine hosts no mixers");
      const { onClosed, ...rest } = options;
      const mixer = await engine.createMixer({
        ...rest,
        plugin,
        onClosed: () => {
          open.delete(owned);
          onClosed?.();
        },
      });
      const owned: RoomMixer = {
        key: mixer.key,
        work: (request) => mixer.work(request),
        rtp: (request) => mixer.rtp(request),
        onRtpLevel: (listener) => mixer.onRtpLevel(listener),
        close: () => {
          open.delete(owned);
          return mixer.close();
        },
      };
      open.add(owned);
      return owned;
    },
    async createRtpSource(options) {
      if (!engine.createRtpSource) throw new Error("The media engine hosts no RTP sources");
      const source = await engine.createRtpSource({ ...options, plugin });
      const wrapped: PluginSource = new PluginSource(source, () => open.delete(wrapped));
      open.add(wrapped);
      return wrapped;
    },
    async closeAll() {
      await Promise.all([...open].map((s) => s.close()));
    },
  };
}
