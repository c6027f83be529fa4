/**
 * Turns periodic getStats() samples into Janus `media` and `slowlink` happenings and a
 * per-mid summary. Pure: the worker feeds it samples and the time.
 *
 * @module
 */
import type { MediaStateChange, SlowLinkReport } from "./types.ts";

/** One stats entry (fields vary with `type`). */
export type Stat = Record<string, unknown> & { id: string; type: string };

/** Per-mid counters for `info()`. */
export interface MidStats {
  kind: string;
  inboundPackets: number;
  inboundBytes: number;
  inboundLost: number;
  outboundPackets: number;
  outboundBytes: number;
}

interface MidState {
  kind: "audio" | "video";
  packets: number;
  lastGrowth: number;
  receiving: boolean;
  lostIn: number;
  lostOut: number;
  windowStart: number;
  windowLostIn: number;
  windowLostOut: number;
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function kindOf(stat: Stat): "audio" | "video" | undefined {
  const kind = stat.kind ?? stat.mediaType;
  return kind === "audio" || kind === "video" ? kind : undefined;
}

/** Options of {@link MediaMonitor}. */
export interface MediaMonitorOptions {
  /** Silence after which a mid is reported as not receiving, in ms; 0 = never (Janus). */
  noMediaMs: number;
  /** Lost packets per second that make a slow-link report; 0 = off. */
  slowLinkThreshold: number;
}

/** Tracks media flow per mid across samples; the options are read on every sample. */
export class MediaMonitor {
  #options: MediaMonitorOptions;
  #mids = new Map<string, MidState>();
  #summary: Record<string, MidStats> = {};

  constructor(options: MediaMonitorOptions) {
    this.#options = options;
  }

  /** The per-mid counters of the last sample. */
  get summary(): Record<string, MidStats> {
    return this.#summary;
  }

  /** Feeds one sample taken at `now` (ms); returns what changed. */
  update(
    stats: Iterable<Stat>,
    now: number,
  ): { media: MediaStateChange[]; slowLinks: SlowLinkReport[] } {
    const entries = [...stats];
    const byId = new Map(entries.map((s) => [s.id, s]));
    const summary: Record<string, MidStats> = {};
    const row = (mid: string, kind: string): MidStats =>
      summary[mid] ??= {
        kind,
        inboundPackets: 0,
        inboundBytes: 0,
        inboundLost: 0,
        outboundPackets: 0,
        outboundBytes: 0,
      };
    const inbound = new Map<string, { kind: "audio" | "video"; packets: number; lost: number }>();
    const lostOut = new Map<string, number>();
    for (const s of entries) {
      const kind = kindOf(s);
      if (!kind) continue;
      if (s.type === "inbound-rtp" && typeof s.mid === "string") {
        const r = row(s.mid, kind);
        r.inboundPackets += num(s.packetsReceived);
        r.inboundBytes += num(s.bytesReceived);
        r.inboundLost += num(s.packetsLost);
        const prev = inbound.get(s.mid);
        inbound.set(s.mid, {
          kind,
          packets: (prev?.packets ?? 0) + num(s.packetsReceived),
          lost: (prev?.lost ?? 0) + num(s.packetsLost),
        });
      } else if (s.type === "outbound-rtp" && typeof s.mid === "string") {
        const r = row(s.mid, kind);
        r.outboundPackets += num(s.packetsSent);
        r.outboundBytes += num(s.bytesSent);
      } else if (s.type === "remote-inbound-rtp") {
        const local = typeof s.localId === "string" ? byId.get(s.localId) : undefined;
        const mid = local?.mid;
        if (typeof mid === "string") lostOut.set(mid, (lostOut.get(mid) ?? 0) + num(s.packetsLost));
      }
    }
    this.#summary = summary;
    const media: MediaStateChange[] = [];
    const slowLinks: SlowLinkReport[] = [];
    for (const [mid, inb] of inbound) {
      const st = this.#state(mid, inb.kind, now);
      if (inb.packets > st.packets) {
        st.packets = inb.packets;
        st.lastGrowth = now;
        if (!st.receiving) {
          st.receiving = true;
          media.push({ mid, kind: inb.kind, receiving: true });
        }
      } else if (st.receiving && this.#noMediaAfter(st, now)) {
        st.receiving = false;
        const seconds = Math.round(this.#options.noMediaMs / 1000);
        media.push({ mid, kind: inb.kind, receiving: false, ...(seconds > 1 ? { seconds } : {}) });
      }
      st.lostIn = inb.lost;
      st.lostOut = lostOut.get(mid) ?? st.lostOut;
      slowLinks.push(...this.#slowLink(mid, st, now));
    }
    return { media, slowLinks };
  }

  #noMediaAfter(st: MidState, now: number): boolean {
    const limit = this.#options.noMediaMs;
    return limit > 0 && now - st.lastGrowth >= limit;
  }

  #state(mid: string, kind: "audio" | "video", now: number): MidState {
    let st = this.#mids.get(mid);
    if (!st) {
      st = {
        kind,
        packets: 0,
        lastGrowth: now,
        receiving: false,
        lostIn: 0,
        lostOut: 0,
        windowStart: now,
        windowLostIn: 0,
        windowLostOut: 0,
      };
      this.#mids.set(mid, st);
    }
    return st;
  }

  #slowLink(mid: string, st: MidState, now: number): SlowLinkReport[] {
    const threshold = this.#options.slowLinkThreshold;
    if (now - st.windowStart < 1000) return [];
    const lostIn = st.lostIn - st.windowLostIn;
    const lostOut = st.lostOut - st.windowLostOut;
    st.windowStart = now;
    st.windowLostIn = st.lostIn;
    st.windowLostOut = st.lostOut;
    if (threshold <= 0) return [];
    const out: SlowLinkReport[] = [];
    // uplink:false = loss on what the client sends us; uplink:true = loss on what we send.
    if (lostIn >= threshold) out.push({ mid, kind: st.kind, uplink: false, lost: lostIn });
    if (lostOut >= threshold) out.push({ mid, kind: st.kind, uplink: true, lost: lostOut });
    return out;
  }
}

function describeCandidate(stat: Stat | undefined): string {
  if (!stat) return "?";
  const address = String(stat.address ?? stat.ip ?? "?");
  return `${address}:${num(stat.port)} [${String(stat.candidateType ?? "?")},${
    String(stat.protocol ?? "?")
  }]`;
}

/** The selected candidate pair as `local <-> remote`, or undefined before ICE selects one. */
export function selectedPair(stats: Iterable<Stat>): string | undefined {
  const entries = [...stats];
  const byId = new Map(entries.map((s) => [s.id, s]));
  const transport = entries.find((s) =>
    s.type === "transport" && typeof s.selectedCandidatePairId === "string"
  );
  const pairId = transport?.selectedCandidatePairId;
  const pair = typeof pairId === "string"
    ? byId.get(pairId)
    : entries.find((s) => s.type === "candidate-pair" && s.nominated === true);
  if (!pair) return undefined;
  const local = byId.get(String(pair.localCandidateId));
  const remote = byId.get(String(pair.remoteCandidateId));
  return `${describeCandidate(local)} <-> ${describeCandidate(remote)}`;
}

/** The DTLS state reported in a transport stats entry. */
export function dtlsStateOf(stats: Iterable<Stat>): string | undefined {
  for (const s of stats) {
    if (s.type === "transport" && typeof s.dtlsState === "string") return s.dtlsState;
  }
  return undefined;
}
