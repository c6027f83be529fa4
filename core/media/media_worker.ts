/**
 * The core's handle on one media worker process: spawn, RPC, its peers, draining and exit.
 *
 * @module
 */
import { createLogger } from "../log.ts";
import type { WorkerConfig, WorkerEvents, WorkerMethods } from "./protocol.ts";
import { type EventMessage, RpcClient, RpcClosedError, RpcTimeoutError } from "./rpc.ts";
import type { PeerProxy } from "./peer_proxy.ts";
import type { EngineCapabilities } from "./types.ts";
import type { MediaCounters, MediaStatsReport } from "./media_counters.ts";

const log = createLogger("media");

/** How to start a worker process. */
export interface WorkerCommand {
  command: string;
  args: string[];
  cwd?: string;
  /** Environment variables added to the gateway's own (which the worker inherits). */
  env?: Record<string, string>;
}

/** Longest wait for a new worker to say `ready`, in ms. */
const READY_TIMEOUT_MS = 20_000;
/** Longest wait for a retiring worker to exit before it is killed, in ms. */
const EXIT_TIMEOUT_MS = 5_000;

/** Calls that may wait up to `gatherTimeoutMs` for ICE gathering before they answer. */
const GATHERING: ReadonlySet<string> = new Set(["acceptOffer", "createOffer"]);

/** One worker process. */
export class MediaWorker {
  readonly index: number;
  /** Peers created here so far (for recycling). */
  created = 0;
  /** No new peers go here; the worker exits once its last peer is gone. */
  draining = false;
  /** The media totals of its last `mediaStats` reply (kept once it is gone). */
  lastTotals: MediaCounters | undefined;
  #child: Deno.ChildProcess;
  #rpc: RpcClient<WorkerMethods, WorkerEvents>;
  #peers = new Map<string, PeerProxy>();
  #ready: Promise<void>;
  #capabilities: EngineCapabilities | undefined;
  #exited: Promise<Deno.CommandStatus>;
  #alive = true;
  /** Set once a call missed its deadline: the worker counts as gone from then on. */
  #hung = false;
  #retiring = false;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #gatherTimeoutMs: number;
  #onExit: (worker: MediaWorker, expected: boolean) => void;
  #onIdle: (() => void) | undefined;
  #onMixerLevels: ((params: WorkerEvents["mixerLevels"]) => void) | undefined;
  #onSourceLayer: ((params: WorkerEvents["sourceLayer"]) => void) | undefined;

  constructor(options: {
    index: number;
    command: WorkerCommand;
    config: WorkerConfig;
    /** Longest wait for the reply to any call, in ms (0 = none). */
    callTimeoutMs: number;
    onExit: (worker: MediaWorker, expected: boolean) => void;
    /** Called each time the worker's last peer is gone. */
    onIdle?: () => void;
    /** Levels of a mixer's plain-RTP members (events that belong to no peer). */
    onMixerLevels?: (params: WorkerEvents["mixerLevels"]) => void;
    /** A simulcast source's viewer changed layer (events that belong to a source). */
    onSourceLayer?: (params: WorkerEvents["sourceLayer"]) => void;
  }) {
    this.index = options.index;
    this.#gatherTimeoutMs = options.config.gatherTimeoutMs;
    this.#onExit = options.onExit;
    this.#onIdle = options.onIdle;
    this.#onMixerLevels = options.onMixerLevels;
    this.#onSourceLayer = options.onSourceLayer;
    const { command, args, cwd, env } = options.command;
    this.#child = new Deno.Command(command, {
      args,
      ...(cwd !== undefined ? { cwd } : {}),
      ...(env !== undefined ? { env } : {}),
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const ready = Promise.withResolvers<void>();
    this.#rpc = new RpcClient<WorkerMethods, WorkerEvents>(
      { readable: this.#child.stdout, writable: this.#child.stdin },
      (message) => {
        if (message.event === "ready") ready.resolve();
        else this.#route(message);
      },
      {
        timeoutMs: options.callTimeoutMs,
        onTimeout: (method) => this.#hang(method, options.callTimeoutMs),
      },
    );
    const timer = setTimeout(
      () => ready.reject(new Error("Media worker did not start in time")),
      READY_TIMEOUT_MS,
    );
    this.#exited = this.#child.status.then(async (status) => {
      clearTimeout(timer);
      ready.reject(new Error(`Media worker exited before ready (code ${status.code})`));
      await this.#rpc.done;
      this.#died(status);
      return status;
    });
    this.#ready = ready.promise.then(async () => {
      clearTimeout(timer);
      const { capabilities } = await this.#rpc.request("configure", options.config);
      this.#capabilities = capabilities;
      this.#startHeartbeat(options.callTimeoutMs);
    });
    this.#ready.catch(() => {}); // observed by whoever awaits `ready`
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Until the process is gone, or a call to it missed its deadline. */
  get alive(): boolean {
    return this.#alive && !this.#hung;
  }

  /** Live peers, including those being created. */
  get load(): number {
    return this.#peers.size;
  }

  /** What the worker reported it can do, once configured. */
  get capabilities(): EngineCapabilities | undefined {
    return this.#capabilities;
  }

  /** Resolves once the worker is configured; rejects if it fails to start. */
  get ready(): Promise<void> {
    return this.#ready;
  }

  /** Resolves with the exit status. */
  get exited(): Promise<Deno.CommandStatus> {
    return this.#exited;
  }

  /** Registers a peer being created here (it counts for recycling from now on). */
  addPeer(peer: PeerProxy): void {
    this.created++;
    this.#peers.set(peer.id, peer);
  }

  /** Calls a worker method; rejects with "Worker gone" once the worker is gone or hung. */
  request<K extends keyof WorkerMethods & string>(
    method: K,
    params: WorkerMethods[K]["params"],
  ): Promise<WorkerMethods[K]["result"]> {
    if (!this.alive) return Promise.reject(new RpcClosedError("Worker gone"));
    // An offer or answer may first wait for ICE gathering: that wait is not a hang.
    const extraMs = GATHERING.has(method) ? this.#gatherTimeoutMs : 0;
    return this.#rpc.request(method, params, { extraMs }).catch((e: unknown) => {
      if (e instanceof RpcTimeoutError) throw new RpcClosedError(`Worker gone (${e.message})`);
      throw e instanceof RpcClosedError ? new RpcClosedError("Worker gone") : e;
    });
  }

  /**
   * Asks for the worker's media stats, waiting at most `deadlineMs` (a late reply still
   * updates `lastTotals`); undefined when it did not answer in time or is gone.
   */
  async mediaStats(peers: boolean, deadlineMs: number): Promise<MediaStatsReport | undefined> {
    if (!this.alive) return undefined;
    const reply = this.ready.then(() => this.request("mediaStats", { peers })).then((r) => {
      if (r.totals) this.lastTotals = r.totals;
      return r;
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), deadlineMs);
    });
    try {
      return await Promise.race([reply, late]);
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
      reply.catch(() => {});
    }
  }

  /** Whether a live peer placed with `key` is here. */
  hasAffinity(key: string): boolean {
    for (const p of this.#peers.values()) if (p.affinity === key) return true;
    return false;
  }

  /** Drops a closed peer; a draining worker retires when its last one goes. */
  removePeer(peer: PeerProxy): void {
    if (this.#peers.get(peer.id) === peer) this.#peers.delete(peer.id);
    this.#maybeRetire();
    if (this.#peers.size === 0) this.#onIdle?.();
  }

  /**
   * Asks the worker to exit: stdin is closed, the worker closes its peers and calls
   * `Deno.exit(0)`; killed if it has not exited in time. Resolves when it has exited.
   */
  async retire(): Promise<void> {
    if (!this.#retiring) {
      this.#retiring = true;
      this.#stopHeartbeat();
      for (const p of this.#peers.values()) p.forget();
      this.#peers.clear();
      // Armed first: closing the pipe of a worker that stopped reading may never finish.
      const timer = setTimeout(() => this.kill(), EXIT_TIMEOUT_MS);
      this.#exited.finally(() => clearTimeout(timer)).catch(() => {});
      this.#rpc.close().catch(() => {});
    }
    await this.#exited;
  }

  /** Kills the process at once. */
  kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }

  /**
   * Pings the worker every half deadline: a hung worker is found even while no call is made
   * (live calls only move media), within one and a half deadlines.
   */
  #startHeartbeat(timeoutMs: number): void {
    if (timeoutMs <= 0 || !this.alive || this.#retiring) return;
    this.#heartbeat = setInterval(() => {
      this.#rpc.request("ping", null).catch(() => {}); // a miss is handled by #hang
    }, Math.max(1, Math.floor(timeoutMs / 2)));
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #maybeRetire(): void {
    if (this.draining && this.alive && this.load === 0) {
      log.verbose(`media worker ${this.index} (pid ${this.pid}) drained, retiring`);
      this.retire().catch(() => {});
    }
  }

  #route(message: EventMessage<WorkerEvents>): void {
    if (message.event === "ready") return;
    if (message.event === "mixerLevels") return this.#onMixerLevels?.(message.params);
    if (message.event === "sourceLayer") return this.#onSourceLayer?.(message.params);
    const peer = this.#peers.get(message.params.peerId);
    peer?.handleEvent(message);
  }

  /**
   * A call missed its deadline: the worker is alive but silent (stopped, stuck in native
   * code). It counts as gone at once: every call fails, its peers end with "Worker gone", and
   * the process is killed; `onExit` follows when it is reaped.
   */
  #hang(method: string, timeoutMs: number): void {
    if (this.#hung || !this.#alive || this.#retiring) return;
    this.#hung = true;
    this.#stopHeartbeat();
    log.error(
      `media worker ${this.index} (pid ${this.pid}) did not answer ${method} in ${timeoutMs} ms: ` +
        `killing it, ${this.#peers.size} peer(s) lost`,
    );
    this.#rpc.abort(new RpcClosedError("Worker gone"));
    this.kill();
    this.#losePeers();
  }

  #losePeers(): void {
    const peers = [...this.#peers.values()];
    this.#peers.clear();
    for (const p of peers) p.lost("Worker gone");
  }

  #died(status: Deno.CommandStatus): void {
    this.#alive = false;
    this.#stopHeartbeat();
    const expected = this.#retiring && !this.#hung;
    if (!expected && !this.#hung) {
      log.error(
        `media worker ${this.index} (pid ${this.pid}) died: code ${status.code}` +
          (status.signal ? ` signal ${status.signal}` : "") + `, ${this.#peers.size} peer(s) lost`,
      );
    }
    this.#losePeers();
    this.#onExit(this, expected);
  }
}
