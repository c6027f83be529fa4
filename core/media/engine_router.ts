/**
 * Several media engines behind one `MediaEngine`: each plugin's peers go to the engine
 * configured for it (`media.engines`), the others to the default one. Counts, worker pids
 * and settings span every engine.
 *
 * @module
 */
import type { RtpSource, RtpSourceOptions } from "./source_types.ts";
import type { MixerOptions, RoomMixer } from "./mixer_types.ts";
import { addCounters, emptyCounters, type EngineMediaStats } from "./media_counters.ts";
import type {
  EngineCapabilities,
  MediaEngine,
  MediaSettings,
  Peer,
  PeerListener,
} from "./types.ts";

/** The names of the engines a configuration may choose. */
export type EngineName = "wrtc" | "rtp";

/** Routes `createPeer` by plugin package to named engines. */
export class EngineRouter implements MediaEngine {
  #engines: ReadonlyMap<EngineName, MediaEngine>;
  #byPlugin: ReadonlyMap<string, EngineName>;
  #fallback: EngineName;

  constructor(options: {
    engines: ReadonlyMap<EngineName, MediaEngine>;
    /** Plugin package -> engine name. */
    byPlugin: ReadonlyMap<string, EngineName>;
    /** The engine of plugins not in `byPlugin`. */
    fallback: EngineName;
  }) {
    this.#engines = options.engines;
    this.#byPlugin = options.byPlugin;
    this.#fallback = options.fallback;
  }

  /** The engine that takes `plugin`'s peers. */
  engineFor(plugin: string | undefined): EngineName {
    return (plugin !== undefined ? this.#byPlugin.get(plugin) : undefined) ?? this.#fallback;
  }

  createPeer(
    options: { affinity?: string; plugin?: string; listener: PeerListener },
  ): Promise<Peer> {
    const name = this.engineFor(options.plugin);
    const engine = this.#engines.get(name);
    if (!engine) return Promise.reject(new Error(`Media engine ${name} is not running`));
    return engine.createPeer(options);
  }

  createRtpSource(options: RtpSourceOptions): Promise<RtpSource> {
    const name = this.engineFor(options.plugin);
    const engine = this.#engines.get(name);
    if (!engine?.createRtpSource) {
      return Promise.reject(new Error(`Media engine ${name} hosts no RTP sources`));
    }
    return engine.createRtpSource(options);
  }

  createMixer(options: MixerOptions): Promise<RoomMixer> {
    const name = this.engineFor(options.plugin);
    const engine = this.#engines.get(name);
    if (!engine?.createMixer) {
      return Promise.reject(new Error(`Media engine ${name} hosts no mixers`));
    }
    return engine.createMixer(options);
  }

  mixerCount(): number {
    let n = 0;
    for (const e of this.#engines.values()) n += e.mixerCount?.() ?? 0;
    return n;
  }

  async mixerMembers(): Promise<number> {
    let n = 0;
    for (const e of this.#engines.values()) n += (await e.mixerMembers?.()) ?? 0;
    return n;
  }

  sourceCount(): number {
    let n = 0;
    for (const e of this.#engines.values()) n += e.sourceCount?.() ?? 0;
    return n;
  }

  capabilities(plugin?: string): EngineCapabilities | undefined {
    return this.#engines.get(this.engineFor(plugin))?.capabilities?.();
  }

  counts(): { peers: number; workers: number } {
    let peers = 0;
    let workers = 0;
    for (const e of this.#engines.values()) {
      const c = e.counts();
      peers += c.peers;
      workers += c.workers;
    }
    return { peers, workers };
  }

  workerPids(): number[] {
    return [...this.#engines.values()].flatMap((e) => e.workerPids?.() ?? []);
  }

  workerFailures(): number {
    let n = 0;
    for (const e of this.#engines.values()) n += e.workerFailures?.() ?? 0;
    return n;
  }

  /** Every engine's media stats, totals keyed by the engine's configured name. */
  async mediaStats(options: { peers: boolean; deadlineMs: number }): Promise<EngineMediaStats> {
    const out: EngineMediaStats = { totals: {}, peers: new Map() };
    const names = [...this.#engines.keys()];
    const all = await Promise.all(
      names.map((n) => this.#engines.get(n)?.mediaStats?.(options)),
    );
    all.forEach((r, i) => {
      if (!r) return;
      const parts = Object.values(r.totals);
      if (parts.length > 0) {
        out.totals[names[i]!] = parts.reduce((a, b) => addCounters(a, b), emptyCounters());
      }
      for (const [id, s] of r.peers) out.peers.set(id, s);
    });
    return out;
  }

  /** The worker pids of one engine. */
  workerPidsOf(name: EngineName): number[] {
    return this.#engines.get(name)?.workerPids?.() ?? [];
  }

  workerPidOf(peer: Peer): number | undefined {
    for (const e of this.#engines.values()) {
      const pid = e.workerPidOf?.(peer);
      if (pid !== undefined) return pid;
    }
    return undefined;
  }

  async updateSettings(settings: Partial<MediaSettings>): Promise<MediaSettings[]> {
    const all = await Promise.all(
      [...this.#engines.values()].map((e) => e.updateSettings?.(settings) ?? []),
    );
    return all.flat();
  }

  async close(): Promise<void> {
    await Promise.all([...this.#engines.values()].map((e) => e.close()));
  }
}
