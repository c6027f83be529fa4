/**
 * Janus's periodic media `stats` events (type 32, subtype 3): every `events.stats_period`
 * seconds, while some handler wants media events, one event per m-line of each handle whose
 * PeerConnection is up, from one `mediaStats` call per media worker (ice.c sends them from
 * each handle's loop; here one timer serves the gateway).
 *
 * @module
 */
import type { Handle } from "../handle.ts";
import type { MediaEngine } from "../media/types.ts";
import { type RateSample, withRates } from "../media/stream_stats.ts";
import type { EventBus } from "./bus.ts";
import { EVENT_SUBTYPE, EVENT_TYPE } from "./types.ts";

/** Longest wait for the workers' stats, in ms (a late worker's peers are skipped this time). */
const STATS_DEADLINE_MS = 1000;

/** What the reporter reads of the gateway. */
export interface MediaStatsSource {
  readonly events: EventBus;
  readonly media: MediaEngine | undefined;
  readonly sessions: ReadonlyMap<number, { readonly handles: ReadonlyMap<number, Handle> }>;
}

/** The timer of the periodic media stats events. */
export class MediaStatsReporter {
  readonly #gateway: MediaStatsSource;
  readonly #periodMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #busy = false;
  /** Each peer's byte counts at its last event, for `bytes-*-lastsec`. */
  #previous = new Map<string, RateSample>();

  constructor(gateway: MediaStatsSource, periodSeconds: number) {
    this.#gateway = gateway;
    this.#periodMs = periodSeconds * 1000;
  }

  /** Starts the timer (not when the period is 0, media is off or no handler is configured). */
  start(): void {
    const g = this.#gateway;
    if (this.#timer !== undefined || this.#periodMs <= 0 || !g.media || !g.events.enabled) return;
    this.#timer = setInterval(() => void this.tick(), this.#periodMs);
    // Never what keeps the gateway alive.
    Deno.unrefTimer(this.#timer);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#previous.clear();
  }

  /** One round of events (the timer's; tests may call it). */
  async tick(): Promise<void> {
    const { events, media, sessions } = this.#gateway;
    if (this.#busy || !media?.mediaStats || !events.wants(EVENT_TYPE.media)) return;
    this.#busy = true;
    try {
      const stats = await media.mediaStats({ peers: true, deadlineMs: STATS_DEADLINE_MS });
      const now = performance.now();
      const seen = new Set<string>();
      for (const session of sessions.values()) {
        for (const handle of session.handles.values()) {
          const peer = handle.webrtc.livePeer;
          if (!peer || handle.webrtc.flags().ready !== true) continue;
          const streams = stats.peers.get(peer.id);
          if (!streams) continue;
          seen.add(peer.id);
          this.#previous.set(peer.id, withRates(streams, now, this.#previous.get(peer.id)));
          const scope = handle.eventScope();
          for (const body of streams) {
            events.emit(EVENT_TYPE.media, EVENT_SUBTYPE.mediaStats, scope, body);
          }
        }
      }
      for (const id of this.#previous.keys()) if (!seen.has(id)) this.#previous.delete(id);
    } finally {
      this.#busy = false;
    }
  }
}
