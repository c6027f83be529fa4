/**
 * A handle: one attachment of a session to a plugin, with its plugin session
 * and its PeerConnection.
 *
 * @module
 */
import type { EventBus, EventScope } from "./events/bus.ts";
import { createLogger } from "./log.ts";
import type { Plugin, PluginEvent, PluginHandle, PluginSession } from "./plugin.ts";
import type { JsonObject } from "./protocol.ts";
import type { Session } from "./session.ts";
import { HandleWebRTC } from "./webrtc.ts";
import type { MediaEngine, PeerCloseReason } from "./media/types.ts";

/** What a handle reports for `/metrics`. */
export interface HandleMetrics {
  webrtcUp(seconds: number): void;
  peerLost(reason: PeerCloseReason): void;
}

const log = createLogger("handle");

/** The abort reason of a handle's signal. */
const HANDLE_GONE = "handle closed";

/** How a handle ends: by itself (events) or with its session (silent). */
export type HandleEnd = "detach" | "session";

/** One plugin attachment. Created by `Gateway.attach`. */
export class Handle {
  readonly id: number;
  readonly session: Session;
  readonly plugin: Plugin;
  readonly opaqueId: string | undefined;
  readonly createdAt: number;
  readonly webrtc: HandleWebRTC;
  readonly #events: EventBus | undefined;
  #token: string | undefined;
  #abort = new AbortController();
  #pluginSession: PluginSession | undefined;
  #closed = false;
  #onEnd: (handle: Handle) => void;
  #metrics: HandleMetrics | undefined;
  /** When the first offer of the coming PeerConnection went by (ms); cleared at webrtcup. */
  #offerAt: number | undefined;
  #up = false;
  /** Messages with an SDP on their way to the plugin; `webrtcup` waits for them. */
  #holds = 0;
  /** The PeerConnection came up while held: `webrtcup` is owed at release. */
  #upOwed = false;

  constructor(options: {
    id: number;
    session: Session;
    plugin: Plugin;
    opaqueId: string | undefined;
    now: number;
    engine: MediaEngine | undefined;
    /** The gateway's event bus (absent in unit tests that build handles alone). */
    events?: EventBus;
    fullTrickle: boolean;
    metrics?: HandleMetrics;
    /** Called once when the handle is gone, to drop it from its session. */
    onEnd: (handle: Handle) => void;
  }) {
    this.id = options.id;
    this.session = options.session;
    this.plugin = options.plugin;
    this.opaqueId = options.opaqueId;
    this.createdAt = options.now;
    this.#onEnd = options.onEnd;
    this.#metrics = options.metrics;
    this.#events = options.events;
    this.webrtc = new HandleWebRTC({
      engine: options.engine,
      plugin: options.plugin.info.id,
      fullTrickle: options.fullTrickle,
      events: {
        emit: (event) => this.emit(event),
        connected: () => {
          if (this.#holds > 0) this.#upOwed = true;
          else this.#connected();
        },
        data: (data, label) => this.#pluginSession?.onData?.(data, label),
        lost: (reason) => this.#lost(reason),
      },
      ...(options.events ? { reporter: { bus: options.events, scope: this.eventScope() } } : {}),
    });
  }

  /** The ids event handlers see for this handle. */
  eventScope(): EventScope {
    return { sessionId: this.session.id, handleId: this.id, opaqueId: this.opaqueId };
  }

  /** Tells event handlers the handle exists (once its plugin session does). */
  attached(token: string | undefined): void {
    this.#token = token;
    this.#events?.handle(this.eventScope(), "attached", this.plugin.info.id, token);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get pluginSession(): PluginSession | undefined {
    return this.#pluginSession;
  }

  /** Creates the plugin session; the handle is not usable before. */
  async start(): Promise<void> {
    this.#pluginSession = await this.plugin.createSession(this.#pluginView());
  }

  /** Pushes a core event for this handle (`session_id` and `sender` in Janus's key order). */
  emit(event: JsonObject): void {
    if (this.#closed) return;
    const { janus, transaction, ...rest } = event;
    const ordered: JsonObject = { janus, session_id: this.session.id };
    if (transaction !== undefined) ordered.transaction = transaction;
    ordered.sender = this.id;
    this.session.push(Object.assign(ordered, rest));
  }

  /** An offer (the client's or the plugin's) went by: the clock of the setup time starts. */
  noteOffer(): void {
    if (!this.#up) this.#offerAt ??= performance.now();
  }

  /** Pushes a plugin event. */
  pushPluginEvent(event: PluginEvent): void {
    if (event.jsep?.type === "offer") this.noteOffer();
    const message: JsonObject = { janus: "event" };
    if (event.transaction !== undefined) message.transaction = event.transaction;
    message.plugindata = { plugin: this.plugin.info.id, data: event.data };
    if (event.jsep) {
      message.jsep = { type: event.jsep.type, sdp: event.jsep.sdp };
      if (!this.#closed) {
        this.#events?.jsep(this.eventScope(), "local", event.jsep.type, event.jsep.sdp);
      }
    }
    this.emit(message);
  }

  #pluginView(): PluginHandle {
    return {
      id: this.id,
      opaqueId: this.opaqueId,
      signal: this.#abort.signal,
      webrtc: this.webrtc,
      pushEvent: (event) => this.pushPluginEvent(event),
      notifyEvent: (data, scoped = true) => {
        // An unscoped event names no handle: a plugin may still tell it while detaching.
        if (this.#closed && scoped) return;
        this.#events?.plugin(scoped ? this.eventScope() : {}, this.plugin.info.id, data);
      },
      closePeer: () => void this.hangup("Close PC"),
      end: () => void this.detach(),
    };
  }

  #connected(): void {
    if (this.#offerAt !== undefined) {
      this.#metrics?.webrtcUp((performance.now() - this.#offerAt) / 1000);
    }
    this.#offerAt = undefined;
    this.#up = true;
    this.emit({ janus: "webrtcup" });
    this.#pluginSession?.setupMedia();
  }

  /**
   * Holds `webrtcup` (and the plugin's `setupMedia`) until the returned release: a message
   * carrying an answer reaches its plugin before the PeerConnection it completes is announced,
   * as on the reference (where ICE starts only once the plugin has the message).
   */
  holdUp(): () => void {
    this.#holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#holds--;
      if (this.#holds > 0 || !this.#upOwed) return;
      this.#upOwed = false;
      if (!this.#closed) this.#connected();
    };
  }

  #lost(reason: PeerCloseReason): void {
    this.#metrics?.peerLost(reason);
    this.#offerAt = undefined;
    this.#upOwed = false;
    this.#up = false;
    this.#pluginSession?.hangupMedia();
    this.emit({ janus: "hangup", reason });
    this.webrtc.reportHangup(reason);
  }

  /** Hangup: the plugin hears it (its event comes first), then `hangup` if a peer existed. */
  async hangup(reason: string): Promise<void> {
    if (this.#closed) return;
    this.#pluginSession?.hangupMedia();
    const hadPeer = await this.webrtc.close();
    this.#offerAt = undefined;
    this.#upOwed = false;
    this.#up = false;
    if (hadPeer) {
      this.emit({ janus: "hangup", reason });
      this.webrtc.reportHangup(reason);
    }
  }

  /** Detach by request: `detached` and nothing else, even with a live peer (as the reference). */
  async detach(): Promise<void> {
    if (this.#closed) return;
    await this.#close();
    this.session.push({ janus: "detached", session_id: this.session.id, sender: this.id });
  }

  /** The session is going away: close silently. */
  async sessionClosed(): Promise<void> {
    await this.#close();
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // A plain reason: aborting without one builds a DOMException with a stack each time.
    this.#abort.abort(HANDLE_GONE);
    this.#onEnd(this);
    await this.webrtc.end();
    const pluginSession = this.#pluginSession;
    this.#pluginSession = undefined;
    try {
      await pluginSession?.destroy();
    } catch (e) {
      log.warn(`[${this.session.id}][${this.id}] plugin destroy failed: ${(e as Error).message}`);
    }
    // After the plugin's own events of the detach (e.g. AudioBridge's `left`), as ice.c does.
    this.#events?.handle(this.eventScope(), "detached", this.plugin.info.id, this.#token);
  }
}
