/**
 * The root object: sessions, plugins, tokens, configuration, the watchdog.
 * Transports call `dispatch` / `dispatchAdmin`; nothing else changes state.
 *
 * @module
 */
import { type Clock, SYSTEM_CLOCK } from "./clock.ts";
import type { Config } from "./config.ts";
import { updatePluginSection } from "./config_file.ts";
import { JanusError } from "./errors.ts";
import { Handle } from "./handle.ts";
import { randomId } from "./ids.ts";
import { createLogger, setLogLevel } from "./log.ts";
import type { EventBus } from "./events/bus.ts";
import { transportInstanceId } from "./events/ids.ts";
import { EVENT_SUBTYPE, EVENT_TYPE } from "./events/types.ts";
import { createEventBus } from "./events/start.ts";
import { MediaStatsReporter } from "./events/media_stats.ts";
import type { Owner } from "./owner.ts";
import type { Plugin } from "./plugin.ts";
import { JANUS_ERROR, type JsonObject } from "./protocol.ts";
import { serverInfo } from "./server_info.ts";
import { Session } from "./session.ts";
import { TokenStore } from "./tokens.ts";
import type { MediaEngine } from "./media/types.ts";
import { GatewayMetrics } from "./metrics/gateway_metrics.ts";
import { createPluginMedia } from "./plugin_media.ts";

const log = createLogger("gateway");

/**
 * Why a session ends. `timeout` tells the client; `overflow` (its event queue passed
 * `limits.event_queue_bytes`) leaves a `timeout` for the owner's next long poll.
 */
export type SessionEnd =
  | "destroy"
  | "timeout"
  | "transport"
  | "reclaim"
  | "admin"
  | "shutdown"
  | "overflow";

/** The last event of a session that ended while its long-poll owner was away. */
interface Farewell {
  owner: Owner;
  event: JsonObject;
  at: number;
}

/** Live object counts, asserted to return to zero after every test. */
export interface GatewayCounts {
  sessions: number;
  handles: number;
  peers: number;
  /** Plugin-owned RTP sources (Streaming mountpoints, the stock ones included). */
  sources: number;
  /** Plugin-owned audio mixers (AudioBridge rooms that want one). */
  mixers: number;
  timers: number;
}

/** The gateway. */
export class Gateway {
  readonly config: Config;
  readonly clock: Clock;
  readonly plugins: Map<string, Plugin> = new Map();
  readonly sessions: Map<number, Session> = new Map();
  readonly tokens: TokenStore = new TokenStore();
  /**
   * The admin API's `query_transport` handlers, by transport package: each transport
   * registers its own (the core knows transports only through this).
   */
  readonly transports: Map<string, (request: JsonObject | undefined) => JsonObject> = new Map();
  readonly media: MediaEngine | undefined;
  /** Where event handlers get their events (builds nothing when none is configured). */
  readonly events: EventBus;
  readonly startedAt: number;
  acceptingNewSessions = true;
  sessionTimeout: number;
  /** Sessions ended because their event queue passed `limits.event_queue_bytes`. */
  queueOverflows = 0;
  /** Counters, histograms and gauges for `/metrics`. */
  readonly metrics: GatewayMetrics;
  #farewells: Map<number, Farewell> = new Map();
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #handleCount = 0;
  #stopping = false;
  #pluginMedia = new Map<string, { closeAll(): Promise<void> }>();
  /** Periodic media `stats` events (events.stats_period). */
  readonly #mediaStats: MediaStatsReporter;

  constructor(options: { config: Config; clock?: Clock; media?: MediaEngine }) {
    this.config = options.config;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.media = options.media;
    this.sessionTimeout = options.config.general.session_timeout;
    this.startedAt = this.clock.now();
    this.metrics = new GatewayMetrics(this);
    this.events = createEventBus(options.config.general.server_name, options.config.events);
    this.#mediaStats = new MediaStatsReporter(this, options.config.events.stats_period);
    setLogLevel(options.config.general.log_level);
  }

  /** Loads a plugin with its section of the configuration. */
  async addPlugin(plugin: Plugin): Promise<void> {
    const file = this.config.config_file;
    const id = plugin.info.id;
    const media = this.media ? createPluginMedia(this.media, id) : undefined;
    if (media) this.#pluginMedia.set(id, media);
    await plugin.init(this.config.plugins[id] ?? {}, {
      ...(file === undefined
        ? {}
        : { updateConfig: (update) => updatePluginSection(file, id, update) }),
      ...(media ? { media } : {}),
    });
    this.plugins.set(plugin.info.id, plugin);
  }

  /**
   * Tells event handlers the gateway is up (core `started`, with the server info), and starts
   * their periodic media stats.
   */
  announceStarted(): void {
    this.#mediaStats.start();
    if (!this.events.wants(EVENT_TYPE.core)) return;
    const { transaction: _, ...info } = serverInfo(this, "");
    this.events.emit(EVENT_TYPE.core, EVENT_SUBTYPE.coreStartup, {}, { status: "started", info });
  }

  /** Starts the watchdog. Tests with a manual clock call `sweep()` themselves. */
  startWatchdog(): void {
    if (this.#watchdog !== undefined) return;
    this.#watchdog = setInterval(
      () => void this.sweep(),
      this.config.general.watchdog_interval * 1000,
    );
  }

  counts(): GatewayCounts {
    return {
      sessions: this.sessions.size,
      handles: this.#handleCount,
      peers: this.media?.counts().peers ?? 0,
      sources: this.media?.sourceCount?.() ?? 0,
      mixers: this.media?.mixerCount?.() ?? 0,
      timers: this.#watchdog === undefined ? 0 : 1,
    };
  }

  /** Creates a session owned by `owner`. */
  createSession(options: { id?: number | undefined; owner: Owner }): Session {
    if (this.#stopping || !this.acceptingNewSessions) {
      throw new JanusError(
        JANUS_ERROR.NOT_ACCEPTING_SESSIONS,
        "Currently not accepting new sessions",
      );
    }
    if (this.sessions.size >= this.config.limits.max_sessions) {
      throw new JanusError(JANUS_ERROR.UNKNOWN, "Too many sessions (limits.max_sessions)");
    }
    let id = options.id;
    if (id && this.sessions.has(id)) {
      throw new JanusError(JANUS_ERROR.SESSION_CONFLICT, "Session ID already in use");
    }
    if (!id) { do id = randomId(); while (this.sessions.has(id)); }
    const session = new Session({
      id,
      now: this.clock.now(),
      queueBytes: this.config.limits.event_queue_bytes,
      owner: options.owner,
      onQueueOverflow: (s, info) => this.#queueOverflowed(s, info),
    });
    this.sessions.set(id, session);
    this.#farewells.delete(id);
    this.events.session(id, "created", {
      transport: options.owner.transport,
      id: transportInstanceId(options.owner),
    });
    log.verbose(`[${id}] created`);
    return session;
  }

  /** Attaches a plugin to a session. */
  async attach(
    session: Session,
    options: { plugin: Plugin; opaqueId?: string | undefined; token?: string | undefined },
  ): Promise<Handle> {
    if (session.handles.size >= this.config.limits.max_handles_per_session) {
      throw new JanusError(
        JANUS_ERROR.PLUGIN_ATTACH,
        "Couldn't attach to plugin: too many handles (limits.max_handles_per_session)",
      );
    }
    let id: number;
    do id = randomId(); while (session.handles.has(id));
    const handle = new Handle({
      id,
      session,
      plugin: options.plugin,
      opaqueId: options.opaqueId,
      now: this.clock.now(),
      engine: this.media,
      events: this.events,
      fullTrickle: this.config.general.full_trickle,
      metrics: this.metrics,
      onEnd: (h) => {
        if (session.handles.get(h.id) === h) session.handles.delete(h.id);
        this.#handleCount--;
      },
    });
    session.handles.set(id, handle);
    this.#handleCount++;
    try {
      await handle.start();
    } catch (e) {
      await handle.sessionClosed();
      throw new JanusError(
        JANUS_ERROR.PLUGIN_ATTACH,
        `Couldn't attach to plugin: ${(e as Error).message}`,
      );
    }
    if (session.closed) {
      await handle.sessionClosed();
      throw new JanusError(JANUS_ERROR.SESSION_NOT_FOUND, `No such session ${session.id}`);
    }
    handle.attached(options.token);
    return handle;
  }

  /** Ends a session and everything it owns. Only `timeout` and `overflow` tell the client. */
  async destroySession(session: Session, why: SessionEnd): Promise<void> {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    if (why === "timeout") session.push({ janus: "timeout", session_id: session.id });
    this.events.session(session.id, why === "timeout" ? "timeout" : "destroyed");
    const owner = session.owner;
    if (why === "overflow" && owner && !owner.push) {
      // Its queue is gone: the owner's next long poll gets this instead of a bare 404.
      const event = { janus: "timeout", session_id: session.id };
      this.#farewells.set(session.id, { owner, event, at: this.clock.now() });
    }
    log.verbose(`[${session.id}] destroyed (${why})`);
    await session.close();
  }

  /**
   * The `timeout` left for the long-poll owner of a session ended by `overflow`; given once.
   * Transports ask for it when a poll names a session that no longer exists.
   */
  takeFarewell(sessionId: number, owner: Owner): JsonObject | undefined {
    const farewell = this.#farewells.get(sessionId);
    if (farewell?.owner !== owner) return undefined;
    this.#farewells.delete(sessionId);
    return farewell.event;
  }

  /** Farewells not yet polled, for leak checks. */
  get farewells(): number {
    return this.#farewells.size;
  }

  #queueOverflowed(session: Session, info: { bytes: number; events: number }): void {
    this.queueOverflows++;
    log.warn(
      `[${session.id}] ${info.events} unpolled events (${info.bytes} bytes) would pass ` +
        `limits.event_queue_bytes (${this.config.limits.event_queue_bytes}): ending the session`,
    );
    // Later, not inside the plugin call that pushed the event.
    queueMicrotask(() => void this.destroySession(session, "overflow"));
  }

  /** A transport connection went away: destroy its sessions, or start their reclaim window. */
  async transportGone(owner: Owner): Promise<void> {
    const ids = [...owner.sessions];
    owner.sessions.clear();
    const reclaim = this.config.general.reclaim_session_timeout;
    const now = this.clock.now();
    await Promise.all(ids.map(async (id) => {
      const session = this.sessions.get(id);
      if (!session || session.owner !== owner) return;
      if (reclaim > 0) {
        session.setOwner(undefined);
        session.orphanedAt = now;
      } else {
        await this.destroySession(session, "transport");
      }
    }));
  }

  /** The effective timeout of a session, in seconds (0 = never). */
  timeoutOf(session: Session): number {
    return session.timeoutOverride ?? this.sessionTimeout;
  }

  /** Expires idle sessions and unclaimed orphans. */
  async sweep(): Promise<void> {
    const now = this.clock.now();
    const reclaimMs = this.config.general.reclaim_session_timeout * 1000;
    const ends: Promise<void>[] = [];
    // A farewell waits as long as an idle session would (60 s when timeouts are off).
    const farewellMs = (this.sessionTimeout || 60) * 1000;
    for (const [id, farewell] of this.#farewells) {
      if (now - farewell.at >= farewellMs) this.#farewells.delete(id);
    }
    for (const session of this.sessions.values()) {
      if (session.orphanedAt !== undefined && now - session.orphanedAt >= reclaimMs) {
        ends.push(this.destroySession(session, "reclaim"));
        continue;
      }
      const timeout = this.timeoutOf(session);
      if (timeout > 0 && now - session.lastActivity >= timeout * 1000) {
        ends.push(this.destroySession(session, "timeout"));
      }
    }
    await Promise.all(ends);
  }

  /** True once `shutdown` began. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Refuses new sessions, hangs up and destroys every session, stops plugins. */
  async shutdown(signum?: number): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    this.#mediaStats.stop();
    if (this.events.wants(EVENT_TYPE.core)) {
      const body = signum === undefined ? { status: "shutdown" } : { status: "shutdown", signum };
      this.events.emit(EVENT_TYPE.core, EVENT_SUBTYPE.coreShutdown, {}, body);
    }
    await Promise.all([...this.sessions.values()].map((s) => this.destroySession(s, "shutdown")));
    this.#farewells.clear();
    for (const plugin of this.plugins.values()) {
      await plugin.destroy().catch((e) => log.warn(`plugin ${plugin.info.id}: ${e}`));
      // What the plugin left open of its own media goes with it.
      await this.#pluginMedia.get(plugin.info.id)?.closeAll();
    }
    await this.media?.close();
    // Last, so that the events of the shutdown itself still go out (within their grace).
    await this.events.close();
  }
}
