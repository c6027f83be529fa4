/**
 * Media totals from getStats() samples, for an engine whose counters live in each
 * PeerConnection (wrtc): each peer feeds its samples, and what grew since its previous one is
 * added to the worker's totals by kind, so a closed peer's packets stay counted. Pure.
 *
 * @module
 */
import type { KindCounters, MediaCounters } from "./media_counters.ts";
import type { Stat } from "./stats.ts";

/** Which W3C field of which entry type adds to which counter (both directions). */
const FIELDS: readonly { type: string; field: string; counter: keyof KindCounters }[] = [
  { type: "inbound-rtp", field: "packetsReceived", counter: "packetsReceived" },
  { type: "inbound-rtp", field: "bytesReceived", counter: "bytesReceived" },
  // On an inbound stream, NACKs and PLIs/FIRs are the ones we sent.
  { type: "inbound-rtp", field: "nackCount", counter: "nacksSent" },
  { type: "inbound-rtp", field: "pliCount", counter: "plisSent" },
  { type: "inbound-rtp", field: "firCount", counter: "plisSent" },
  { type: "outbound-rtp", field: "packetsSent", counter: "packetsSent" },
  { type: "outbound-rtp", field: "bytesSent", counter: "bytesSent" },
  { type: "outbound-rtp", field: "nackCount", counter: "nacksReceived" },
  { type: "outbound-rtp", field: "pliCount", counter: "plisReceived" },
  { type: "outbound-rtp", field: "firCount", counter: "plisReceived" },
  { type: "outbound-rtp", field: "retransmittedPacketsSent", counter: "rtxSent" },
];

function kindOf(stat: Stat): "audio" | "video" | undefined {
  const kind = stat.kind ?? stat.mediaType;
  return kind === "audio" || kind === "video" ? kind : undefined;
}

/** One peer's share of the totals: the highest value seen of each counter of each entry. */
export class StatsTotals {
  readonly #totals: MediaCounters;
  readonly #seen = new Map<string, number>();

  constructor(totals: MediaCounters) {
    this.#totals = totals;
  }

  /**
   * Adds what grew since the last sample. Samples may resolve out of order (a poll and a
   * scrape at once): a value below the highest seen adds nothing.
   */
  update(entries: Iterable<Stat>): void {
    for (const s of entries) {
      const kind = kindOf(s);
      if (!kind) continue;
      for (const f of FIELDS) {
        if (s.type !== f.type) continue;
        const value = s[f.field];
        if (typeof value !== "number" || !Number.isFinite(value)) continue;
        const key = `${s.id}/${f.field}`;
        const grew = value - (this.#seen.get(key) ?? 0);
        if (grew <= 0) continue;
        this.#seen.set(key, value);
        this.#totals[kind][f.counter] += grew;
      }
    }
  }
}
