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
import type { Owner } from "./owner.ts";
import type { Plugin } from "./plugin.ts";
import { JANUS_ERROR } from "./protocol.ts";
import { Session } from "./session.ts";
import { TokenStore } from "./tokens.ts";
import type { MediaEngine } from "./media/types.ts";

const log = createLogger("gateway");

/** Why a session ends. Only `timeout` tells the client anything. */
export type SessionEnd = "destroy" | "timeout" | "transport" | "reclaim" | "admin" | "shutdown";

/** Live object counts, asserted to return to zero after every test. */
export interface GatewayCounts {
  sessions: number;
  handles: number;
  peers: number;
  timers: number;
}

/** The gateway. */
export class Gateway {
  readonly config: Config;
  readonly clock: Clock;
  readonly plugins: Map<string, Plugin> = new Map();
  readonly sessions: Map<number, Session> = new Map();
  readonly tokens: TokenStore = new TokenStore();
  readonly media: MediaEngine | undefined;
  readonly startedAt: number;
  acceptingNewSessions = true;
  sessionTimeout: number;
  #watchdog: ReturnType<typeof setInterval> | undefined;
  #handleCount = 0;
  #stopping = false;

  constructor(options: { config: Config; clock?: Clock; media?: MediaEngine }) {
    this.config = options.config;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.media = options.media;
    this.sessionTimeout = options.config.general.session_timeout;
    this.startedAt = this.clock.now();
    setLogLevel(options.config.general.log_level);
  }

  /** Loads a plugin with its section of the configuration. */
  async addPlugin(plugin: Plugin): Promise<void> {
    const file = this.config.config_file;
    const id = plugin.info.id;
    await plugin.init(
      this.config.plugins[id] ?? {},
      file === undefined ? {} : { updateConfig: (update) => updatePluginSection(file, id, update) },
    );
    this.plugins.set(plugin.info.id, plugin);
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
      queueLimit: this.config.limits.event_queue_size,
      owner: options.owner,
    });
    this.sessions.set(id, session);
    log.verbose(`[${id}] created`);
    return session;
  }

  /** Attaches a plugin to a session. */
  async attach(
    session: Session,
    options: { plugin: Plugin; opaqueId?: string | undefined },
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
      fullTrickle: this.config.general.full_trickle,
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
    return handle;
  }

  /** Ends a session and everything it owns. Only `timeout` sends an event. */
  async destroySession(session: Session, why: SessionEnd): Promise<void> {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    if (why === "timeout") session.push({ janus: "timeout", session_id: session.id });
    log.verbose(`[${session.id}] destroyed (${why})`);
    await session.close();
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
  async shutdown(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#watchdog !== undefined) clearInterval(this.#watchdog);
    this.#watchdog = undefined;
    await Promise.all([...this.sessions.values()].map((s) => this.destroySession(s, "shutdown")));
    for (const plugin of this.plugins.values()) {
      await plugin.destroy().catch((e) => log.warn(`plugin ${plugin.info.id}: ${e}`));
    }
    await this.media?.close();
  }
}
