/**
 * The wrtc media engine: a pool of media worker processes (`worker_main.ts`) and `Peer`
 * proxies placed on them by affinity key. wrtc never loads in this process.
 *
 * - Placement: peers with the same affinity key share a worker (their media can meet);
 *   others go to the least loaded worker.
 * - Recycling: after `maxPeersPerWorker` peers, or once its resident memory passes
 *   `maxWorkerRssBytes` (wrtc leaks slowly), a worker takes no new peers (a replacement
 *   starts at once) and exits once its last peer is gone. A key whose peers still live on a
 *   draining worker keeps going there: media that must meet wins over recycling.
 * - A worker that dies takes its peers with it (`onClosed("Worker gone")`); a fresh worker
 *   replaces it. So does a worker that hangs: every call has a deadline (`callTimeoutMs`), and
 *   a worker that misses one is killed and counts as dead at once.
 * - Lazy (`lazy`): no worker runs until the first peer is asked for, and once no peer has
 *   been live for `idleStopMs` every worker exits; the next peer starts one again. For an
 *   engine beside the one most plugins use (wrtc beside rtp): an idle worker costs memory.
 * - `updateSettings` changes the no-media timer and the slow-link threshold of every worker
 *   and peer, live and future (admin `set_no_media_timer`, `set_slowlink_threshold`).
 *
 * @module
 */
import { createLogger, logLevel } from "../log.ts";
import { MediaWorker, type WorkerCommand } from "./media_worker.ts";
import { PeerProxy } from "./peer_proxy.ts";
import { MixerProxy } from "./mixer_proxy.ts";
import type { MixerOptions, RoomMixer } from "./mixer_types.ts";
import { SourceProxy } from "./source_proxy.ts";
import type { RtpSource, RtpSourceOptions } from "./source_types.ts";
import type { WorkerConfig } from "./protocol.ts";
import {
  addCounters,
  emptyCounters,
  type EngineMediaStats,
  type MediaCounters,
} from "./media_counters.ts";
import type { StreamStats } from "./stream_stats.ts";
import type {
  EngineCapabilities,
  MediaEngine,
  MediaSettings,
  Peer,
  PeerListener,
} from "./types.ts";

export type { WorkerCommand } from "./media_worker.ts";

const log = createLogger("media");

/** The worker entry point of the wrtc engine. */
export const WORKER_MAIN_URL: URL = new URL("./worker_main.ts", import.meta.url);
/** The worker entry point of the RTP engine (node-datachannel, no decoding). */
export const RTP_WORKER_MAIN_URL: URL = new URL("./rtp/worker_main.ts", import.meta.url);

/** The project root (where deno.json is), for the workers' command line. */
const PROJECT_ROOT: URL = new URL("../../", import.meta.url);

/** Default deadline of a worker call, in ms: offers and answers take tens of ms. */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

/** A worker that dies sooner than this after its start is not replaced until needed, in ms. */
const EARLY_DEATH_MS = 2_000;

/** Default time a lazy engine's workers stay up with no peer, in ms. */
export const DEFAULT_IDLE_STOP_MS = 60_000;

/** Settings of {@link createMediaEngine}. */
export interface MediaEngineOptions {
  /** Worker processes kept ready (default 1). */
  workers?: number;
  /** Peers a worker creates before it is recycled (0 or absent = never). */
  maxPeersPerWorker?: number;
  /** Resident memory above which a worker is recycled, in bytes (0 or absent = never). */
  maxWorkerRssBytes?: number;
  /** Only candidates whose address starts with (or whose interface is) one of these. */
  iceEnforceList?: string[];
  /** Candidates whose address starts with (or whose interface is) one of these are dropped. */
  iceIgnoreList?: string[];
  /** Public IP written into our host candidates (Janus `nat_1_1_mapping`). */
  nat1to1?: string;
  /** Ports ICE binds to (wrtc's `portRange`); a candidate outside it is still dropped. */
  rtpPortRange?: { min: number; max: number };
  /** Offer and accept ICE-TCP candidates (default false: UDP only, as Janus's `ice_tcp`). */
  iceTcp?: boolean;
  /** Lost packets per second that make `onSlowLink`; 0 = off (default). */
  slowLinkThreshold?: number;
  /** Silence after which `onMedia({receiving:false})` fires, in ms (default 1000; 0 = off). */
  noMediaMs?: number;
  /**
   * Longest wait for a worker to answer a call, in ms (default 5000; 0 = none). A worker that
   * misses it is killed and its peers end with "Worker gone". Offers and answers get
   * `gatherTimeoutMs` more: they may wait that long for ICE gathering.
   */
  callTimeoutMs?: number;
  /** Longest wait for ICE gathering before an SDP is returned, in ms (default 2000). */
  gatherTimeoutMs?: number;
  /**
   * Start workers only when a peer is asked for, and stop them all once no peer has been live
   * for `idleStopMs` (default false: `workers` are kept ready from the start).
   */
  lazy?: boolean;
  /** How long a lazy engine's workers stay up with no peer, in ms (default 60000). */
  idleStopMs?: number;
  /** The worker entry (default {@link WORKER_MAIN_URL}, wrtc); used by the default command. */
  workerMain?: URL;
  /** How to start a worker (default: this Deno running `workerMain` with all permissions). */
  workerCommand?: WorkerCommand;
  /**
   * Keep each worker on one CPU, the engine's workers on consecutive CPUs from a random one
   * (default false; only the RTP worker acts on it: `rtp/cpu_pin.ts`).
   */
  pinCpus?: boolean;
}

/**
 * V8 flags of every media worker: a young generation of a fixed 2+2 MiB. Left to V8, it grows
 * towards 32 MiB as it likes, and an idle worker (a heartbeat ping every 2.5 s) touches its
 * pages so slowly that its RSS crept up for many minutes (`deno task soak`).
 */
export const WORKER_V8_FLAGS = "--min-semi-space-size=2,--max-semi-space-size=2";

/**
 * glibc malloc settings of RTP engine workers, each unless the gateway's environment sets it.
 * Left dynamic, glibc raises its mmap threshold to the size of each large block freed, after
 * which such blocks come from the main heap and fragment it: under churn (`deno task soak`)
 * the worker's heap grew 5.9 → 14 MiB in two minutes. Fixed thresholds keep blocks of 64 KiB
 * and more in their own mappings, returned when freed, and the heap trimmed. Its packets are
 * small, so this costs no syscalls per packet; the wrtc worker, whose video frames are large,
 * keeps glibc's defaults.
 */
export const RTP_WORKER_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: "65536",
  MALLOC_TRIM_THRESHOLD_: "131072",
};

/** `env` without the variables the gateway's environment sets (all of it if unreadable). */
function unlessSet(env: Readonly<Record<string, string>>): Record<string, string> {
  const isSet = (name: string) => {
    try {
      return Deno.env.get(name) !== undefined;
    } catch {
      return false; // no env permission: the worker gets ours
    }
  };
  return Object.fromEntries(Object.entries(env).filter(([name]) => !isSet(name)));
}

/**
 * The default command: `deno run --allow-all --v8-flags=… [--config deno.json] <entry>`, with
 * {@link RTP_WORKER_MALLOC_ENV} for the RTP engine's entry.
 */
export function defaultWorkerCommand(entry: URL = WORKER_MAIN_URL): WorkerCommand {
  const args = ["run", "--allow-all", `--v8-flags=${WORKER_V8_FLAGS}`];
  let cwd: string | undefined;
  if (entry.protocol === "file:") {
    const config = new URL("deno.json", PROJECT_ROOT);
    try {
      Deno.statSync(config);
      args.push("--config", decodeURIComponent(config.pathname));
      cwd = decodeURIComponent(PROJECT_ROOT.pathname);
    } catch {
      // No project config beside us: rely on the worker's own resolution.
    }
  }
  args.push(entry.href);
  const env = entry.href === RTP_WORKER_MAIN_URL.href ? unlessSet(RTP_WORKER_MALLOC_ENV) : {};
  return {
    command: Deno.execPath(),
    args,
    ...(cwd !== undefined ? { cwd } : {}),
    ...(Object.keys(env).length > 0 ? { env } : {}),
  };
}

class WorkerMediaEngine implements MediaEngine {
  #size: number;
  #maxPeers: number;
  #maxRss: number;
  #config: WorkerConfig;
  #command: WorkerCommand;
  #callTimeoutMs: number;
  #workers: MediaWorker[] = [];
  #startedAt = new Map<MediaWorker, number>();
  #affinity = new Map<string, MediaWorker>();
  #pinCpus: boolean;
  /**
   * Where this engine's CPU slots start: at random, so that gateways sharing a host without
   * cpusets (each seeing every CPU) do not all pin their first worker to CPU 0.
   */
  #pinBase = Math.floor(Math.random() * 1024);
  /** Each live worker's CPU slot, when pinning: a replacement takes the lowest free one. */
  #slots = new Map<MediaWorker, number>();
  #nextWorker = 0;
  #nextPeer = 0;
  #closed = false;
  #lazy: boolean;
  #idleStopMs: number;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  #sources = new Map<string, SourceProxy>();
  #nextSource = 0;
  #mixers = new Map<string, MixerProxy>();
  /** Last totals of workers that are gone: counters never go down. */
  #retiredTotals: MediaCounters | undefined;

  constructor(options: MediaEngineOptions) {
    this.#size = Math.max(1, Math.floor(options.workers ?? 1));
    this.#maxPeers = Math.max(0, Math.floor(options.maxPeersPerWorker ?? 0));
    this.#maxRss = Math.max(0, options.maxWorkerRssBytes ?? 0);
    this.#command = options.workerCommand ?? defaultWorkerCommand(options.workerMain);
    this.#callTimeoutMs = Math.max(0, options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
    this.#lazy = options.lazy ?? false;
    this.#idleStopMs = Math.max(0, options.idleStopMs ?? DEFAULT_IDLE_STOP_MS);
    this.#pinCpus = options.pinCpus ?? false;
    this.#config = {
      iceEnforceList: options.iceEnforceList ?? [],
      iceIgnoreList: options.iceIgnoreList ?? [],
      ...(options.nat1to1 ? { nat1to1: options.nat1to1 } : {}),
      ...(options.rtpPortRange ? { rtpPortRange: options.rtpPortRange } : {}),
      iceTcp: options.iceTcp ?? false,
      slowLinkThreshold: options.slowLinkThreshold ?? 0,
      noMediaMs: options.noMediaMs ?? 1000,
      gatherTimeoutMs: options.gatherTimeoutMs ?? 2000,
      logLevel: logLevel(),
    };
  }

  async start(): Promise<void> {
    if (this.#lazy) return;
    this.#ensureWorkers();
    await Promise.all(this.#workers.map((w) => w.ready));
  }

  async createPeer(options: { affinity?: string; listener: PeerListener }): Promise<Peer> {
    if (this.#closed) throw new Error("Media engine is closed");
    const { affinity, listener } = options;
    this.#cancelIdleStop();
    const worker = this.#place(affinity);
    const id = `w${worker.index}-p${++this.#nextPeer}`;
    const peer = new PeerProxy({ id, worker, listener, affinity });
    worker.addPeer(peer);
    if (affinity !== undefined) this.#affinity.set(affinity, worker);
    if (this.#maxPeers > 0 && worker.created >= this.#maxPeers && !worker.draining) {
      worker.draining = true;
      log.verbose(`media worker ${worker.index} reached ${this.#maxPeers} peers, draining`);
      this.#ensureWorkers();
    }
    try {
      await worker.ready;
      await worker.request("createPeer", { peerId: id });
    } catch (e) {
      peer.forget();
      worker.removePeer(peer);
      throw e;
    }
    if (peer.closed) throw new Error("Worker gone");
    peer.announce();
    return peer;
  }

  /** Binds an RTP source's ports in the worker of its affinity key (the rtp worker only). */
  async createRtpSource(options: RtpSourceOptions): Promise<RtpSource> {
    if (this.#closed) throw new Error("Media engine is closed");
    this.#cancelIdleStop();
    const worker = this.#place(options.affinity);
    if (options.affinity !== undefined) this.#affinity.set(options.affinity, worker);
    await worker.ready;
    const id = `w${worker.index}-s${++this.#nextSource}`;
    const { host, portRange, streams } = options;
    const { ports, rtcpPorts, layerPorts } = await worker.request("createSource", {
      sourceId: id,
      host,
      portRange,
      streams,
    });
    const source = new SourceProxy({
      id,
      ports,
      rtcpPorts,
      layerPorts,
      worker,
      ...(options.affinity !== undefined ? { affinity: options.affinity } : {}),
      onGone: (s) => {
        this.#sources.delete(s.id);
        this.#idleStopSoon();
      },
      ...(options.onClosed ? { onClosed: options.onClosed } : {}),
    });
    this.#sources.set(id, source);
    if (!worker.alive) source.lost();
    return source;
  }

  sourceCount(): number {
    return this.#sources.size;
  }

  /** Makes (or adopts) a plugin-owned mixer in the worker of its affinity key. */
  async createMixer(options: MixerOptions): Promise<RoomMixer> {
    if (this.#closed) throw new Error("Media engine is closed");
    if (this.#mixers.has(options.key)) throw new Error(`Mixer ${options.key} exists`);
    this.#cancelIdleStop();
    const worker = this.#place(options.affinity);
    if (options.affinity !== undefined) this.#affinity.set(options.affinity, worker);
    const mixer = new MixerProxy({
      key: options.key,
      worker,
      onGone: (m) => {
        if (this.#mixers.get(m.key) === m) this.#mixers.delete(m.key);
        this.#idleStopSoon();
      },
      ...(options.onClosed ? { onClosed: options.onClosed } : {}),
    });
    // Counted from now: a second create of the key fails at once.
    this.#mixers.set(options.key, mixer);
    try {
      await worker.ready;
      await worker.request("createMixer", {
        key: options.key,
        sampleRate: options.sampleRate,
        stereo: options.stereo === true,
      });
    } catch (e) {
      this.#mixers.delete(options.key);
      this.#idleStopSoon();
      throw e;
    }
    if (!worker.alive) mixer.lost();
    return mixer;
  }

  mixerCount(): number {
    return this.#mixers.size;
  }

  async mixerMembers(): Promise<number> {
    const counts = await Promise.all(
      this.#workers.filter((w) => w.alive).map((w) =>
        w.request("mixerCounts", {}).then((c) => c.members, () => 0)
      ),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  counts(): { peers: number; workers: number } {
    let peers = 0;
    for (const w of this.#workers) peers += w.load;
    return { peers, workers: this.#workers.length };
  }

  workerPids(): number[] {
    return this.#workers.filter((w) => w.alive).map((w) => w.pid);
  }

  workerFailures(): number {
    return this.#failures;
  }

  /**
   * Media totals (live workers' replies, else their last ones, plus gone workers'), keyed by
   * this engine's kind, and with `peers` each live peer's streams; waits `deadlineMs` at most.
   */
  async mediaStats(options: { peers: boolean; deadlineMs: number }): Promise<EngineMediaStats> {
    const live = this.#workers.filter((w) => w.alive);
    const replies = await Promise.all(
      live.map((w) => w.mediaStats(options.peers, options.deadlineMs)),
    );
    const peers = new Map<string, StreamStats[]>();
    for (const r of replies) for (const [id, s] of Object.entries(r?.peers ?? {})) peers.set(id, s);
    let totals = this.#retiredTotals
      ? addCounters(emptyCounters(), this.#retiredTotals)
      : undefined;
    for (const w of live) {
      if (w.lastTotals) totals = addCounters(totals ?? emptyCounters(), w.lastTotals);
    }
    const name = this.capabilities()?.rtp ? "rtp" : "wrtc";
    return { totals: totals ? { [name]: totals } : {}, peers };
  }

  capabilities(): EngineCapabilities | undefined {
    for (const w of this.#workers) if (w.capabilities) return w.capabilities;
    return undefined;
  }

  workerPidOf(peer: Peer): number | undefined {
    return peer instanceof PeerProxy && !peer.closed ? peer.worker.pid : undefined;
  }

  /**
   * Applies `settings` to every worker (their live peers included) and to workers started
   * later; resolves with what each live worker then reports.
   */
  async updateSettings(settings: Partial<MediaSettings>): Promise<MediaSettings[]> {
    if (settings.noMediaMs !== undefined) this.#config.noMediaMs = settings.noMediaMs;
    if (settings.slowLinkThreshold !== undefined) {
      this.#config.slowLinkThreshold = settings.slowLinkThreshold;
    }
    const live = this.#workers.filter((w) => w.alive);
    const reports = await Promise.all(live.map(async (w) => {
      try {
        // A worker still starting gets the new values with its configuration.
        await w.ready;
        return await w.request("settings", settings);
      } catch {
        return undefined; // Gone meanwhile: its replacement starts with the new values.
      }
    }));
    return reports.filter((r) => r !== undefined);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#cancelIdleStop();
    this.#sources.clear();
    this.#mixers.clear();
    await Promise.all(this.#workers.map((w) => w.retire()));
  }

  #place(affinity: string | undefined): MediaWorker {
    if (affinity !== undefined) {
      const bound = this.#affinity.get(affinity);
      if (bound?.alive && (!bound.draining || this.#holds(bound, affinity))) return bound;
      this.#affinity.delete(affinity);
    }
    this.#ensureWorkers();
    if (this.#maxRss > 0) {
      for (const w of this.#workers) {
        if (!w.alive || w.draining) continue;
        const rss = residentBytes(w.pid);
        if (rss !== undefined && rss > this.#maxRss) {
          w.draining = true;
          log.info(`media worker ${w.index} uses ${rss} bytes (over ${this.#maxRss}), draining`);
        }
      }
      this.#ensureWorkers();
    }
    const active = this.#workers.filter((w) => w.alive && !w.draining);
    let best = active[0];
    for (const w of active) if (best && w.load < best.load) best = w;
    if (!best) throw new Error("No media worker available");
    return best;
  }

  /**
   * Whether a live peer, mixer or source placed with `key` is on `worker` (a source's viewers
   * must be where its ports are; it moves when the drained worker exits, see README).
   */
  #holds(worker: MediaWorker, key: string): boolean {
    if (worker.hasAffinity(key)) return true;
    for (const s of this.#sources.values()) {
      if (s.worker === worker && s.affinity === key) return true;
    }
    for (const m of this.#mixers.values()) if (m.worker === worker) return true;
    return false;
  }

  /** A lazy engine with no peer left stops its workers after `idleStopMs`. */
  #idleStopSoon(): void {
    if (!this.#lazy || this.#closed || this.#idleTimer !== undefined) return;
    if (this.#busy() || this.#workers.length === 0) return;
    const timer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#closed || this.#busy()) return;
      log.verbose(`media engine idle for ${this.#idleStopMs} ms: stopping its workers`);
      for (const w of this.#workers) w.retire().catch(() => {});
    }, this.#idleStopMs);
    // Never what keeps the gateway alive.
    Deno.unrefTimer(timer);
    this.#idleTimer = timer;
  }

  /** Peers, sources or mixers live: the workers are needed. */
  #busy(): boolean {
    return this.counts().peers > 0 || this.#sources.size > 0 || this.#mixers.size > 0;
  }

  #cancelIdleStop(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }

  #ensureWorkers(): void {
    if (this.#closed) return;
    let active = this.#workers.filter((w) => w.alive && !w.draining).length;
    while (active < this.#size) {
      this.#spawn();
      active++;
    }
  }

  #spawn(): MediaWorker {
    const slot = this.#pinCpus ? this.#freeSlot() : undefined;
    const worker = new MediaWorker({
      index: this.#nextWorker++,
      command: this.#command,
      config: slot !== undefined
        ? { ...this.#config, pinSlot: this.#pinBase + slot }
        : this.#config,
      callTimeoutMs: this.#callTimeoutMs,
      onExit: (w, expected) => this.#exited(w, expected),
      onIdle: () => this.#idleStopSoon(),
      onMixerLevels: ({ key, levels }) => this.#mixers.get(key)?.levels(levels),
      onSourceLayer: ({ sourceId, ...change }) => this.#sources.get(sourceId)?.layerChanged(change),
    });
    this.#workers.push(worker);
    if (slot !== undefined) this.#slots.set(worker, slot);
    this.#startedAt.set(worker, Date.now());
    log.verbose(`media worker ${worker.index} started (pid ${worker.pid})`);
    return worker;
  }

  /** The lowest CPU slot no live worker holds. */
  #freeSlot(): number {
    const taken = new Set(this.#slots.values());
    let slot = 0;
    while (taken.has(slot)) slot++;
    return slot;
  }

  #exited(worker: MediaWorker, expected: boolean): void {
    this.#workers = this.#workers.filter((w) => w !== worker);
    this.#slots.delete(worker);
    for (const s of [...this.#sources.values()]) if (s.worker === worker) s.lost();
    for (const m of [...this.#mixers.values()]) if (m.worker === worker) m.lost();
    for (const [key, w] of this.#affinity) if (w === worker) this.#affinity.delete(key);
    if (worker.lastTotals) {
      this.#retiredTotals = addCounters(this.#retiredTotals ?? emptyCounters(), worker.lastTotals);
    }
    const started = this.#startedAt.get(worker) ?? 0;
    this.#startedAt.delete(worker);
    if (this.#closed) return;
    if (!expected) this.#failures++;
    // A worker that cannot even start is replaced on demand, not in a tight loop; a lazy
    // engine replaces none (the next peer starts one).
    if (this.#lazy) return;
    if (expected || Date.now() - started > EARLY_DEATH_MS) this.#ensureWorkers();
  }
}

/** A process's resident memory from /proc (Linux); undefined where it cannot be read. */
export function residentBytes(pid: number): number | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Starts the media workers and resolves once they are ready.
 *
 * @throws {Error} when a worker cannot start
 */
export async function createMediaEngine(options: MediaEngineOptions = {}): Promise<MediaEngine> {
  const engine = new WorkerMediaEngine(options);
  try {
    await engine.start();
  } catch (e) {
    await engine.close();
    throw e;
  }
  return engine;
}
