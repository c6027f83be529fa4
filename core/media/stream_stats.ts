/**
 * One PeerConnection's per-m-line statistics in the shape of Janus's periodic media `stats`
 * event (type 32, subtype 3; ice.c `janus_ice_outgoing_stats_handle`), from stats entries with
 * the W3C fields both engines report (inbound-rtp, outbound-rtp, remote-inbound-rtp,
 * data-channel) and the local SDP (m-line order, codec, clock rate). Pure.
 *
 * @module
 */
import type { Stat } from "./stats.ts";

/** One m-line's counters as the event carries them (keys in the reference's order). */
export type StreamStats = Record<string, string | number>;

interface Section {
  kind: string;
  mid: string;
  mindex: number;
  codec: string | undefined;
  base: number;
}

/** The m-lines of `sdp` that carry something (port not 0), with their first codec. */
function sections(sdp: string): Section[] {
  const out: Section[] = [];
  const parts = sdp.split(/\r?\nm=/).slice(1);
  parts.forEach((part, mindex) => {
    const lines = ("m=" + part).split(/\r?\n/);
    const m = /^m=(\w+) (\d+) \S+ ?(.*)$/.exec(lines[0] ?? "");
    if (!m || m[2] === "0") return;
    const mid = lines.find((l) => l.startsWith("a=mid:"))?.slice(6).trim() ?? String(mindex);
    const pt = (m[3] ?? "").split(" ")[0];
    const rtpmap = lines.map((l) => /^a=rtpmap:(\d+) ([^/]+)\/(\d+)/.exec(l))
      .find((r) => r && r[1] === pt);
    out.push({
      kind: m[1] === "application" ? "data" : m[1] ?? "",
      mid,
      mindex,
      codec: rtpmap?.[2]?.toLowerCase(),
      base: Number(rtpmap?.[3] ?? 0),
    });
  });
  return out;
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** Share of packets that arrived, in percent (0 before any). */
function quality(arrived: number, lost: number): number {
  return arrived > 0 ? Math.round((100 * arrived) / (arrived + Math.max(0, lost))) : 0;
}

/** Sums one numeric field over the entries of `type` on `mid`. */
function sum(entries: readonly Stat[], type: string, mid: string, field: string): number {
  let n = 0;
  for (const s of entries) if (s.type === type && s.mid === mid) n += num(s[field]);
  return n;
}

/**
 * The event bodies of one peer, one per m-line. `bytes-*-lastsec` are 0 here: whoever keeps
 * the previous sample fills them in ({@link withRates}).
 */
export function streamStats(entries: readonly Stat[], localSdp: string | undefined): StreamStats[] {
  const byId = new Map(entries.map((s) => [s.id, s]));
  const out: StreamStats[] = [];
  for (const sec of sections(localSdp ?? "")) {
    const { mid } = sec;
    if (sec.kind === "data") {
      const channels = entries.filter((s) => s.type === "data-channel");
      if (channels.length === 0) continue;
      const total = (field: string) => channels.reduce((n, s) => n + num(s[field]), 0);
      out.push({
        mid,
        mindex: sec.mindex,
        media: "data",
        "packets-received": total("messagesReceived"),
        "packets-sent": total("messagesSent"),
        "bytes-received": total("bytesReceived"),
        "bytes-sent": total("bytesSent"),
      });
      continue;
    }
    if (sec.kind !== "audio" && sec.kind !== "video") continue;
    const inb = (field: string) => sum(entries, "inbound-rtp", mid, field);
    const outb = (field: string) => sum(entries, "outbound-rtp", mid, field);
    let rtt = 0;
    let lostByRemote = 0;
    let jitterRemote = 0;
    for (const s of entries) {
      if (s.type !== "remote-inbound-rtp" || typeof s.localId !== "string") continue;
      if (byId.get(s.localId)?.mid !== mid) continue;
      rtt = Math.max(rtt, num(s.roundTripTime));
      lostByRemote += num(s.packetsLost);
      jitterRemote = Math.max(jitterRemote, num(s.jitter));
    }
    const received = inb("packetsReceived");
    const sent = outb("packetsSent");
    const lost = inb("packetsLost");
    const bytesIn = inb("bytesReceived");
    const bytesOut = outb("bytesSent");
    const jitterLocal = entries.reduce(
      (j, s) => s.type === "inbound-rtp" && s.mid === mid ? Math.max(j, num(s.jitter)) : j,
      0,
    );
    const body: StreamStats = { mid, mindex: sec.mindex, media: sec.kind };
    // The reference names the codec once media flowed on the m-line.
    if (sec.codec !== undefined && received + sent > 0) body.codec = sec.codec;
    Object.assign(body, {
      base: sec.base,
      rtt: Math.round(rtt * 1000),
      lost,
      "lost-by-remote": lostByRemote,
      // Seconds in the stats entries, milliseconds in the event.
      "jitter-local": Math.round(jitterLocal * 1000),
      "jitter-remote": Math.round(jitterRemote * 1000),
      "in-link-quality": quality(received, lost),
      "in-media-link-quality": quality(received, lost),
      "out-link-quality": quality(sent, lostByRemote),
      "out-media-link-quality": quality(sent, lostByRemote),
      "packets-received": received,
      "packets-sent": sent,
      "bytes-received": bytesIn,
      "bytes-sent": bytesOut,
      "bytes-received-lastsec": 0,
      "bytes-sent-lastsec": 0,
      // nackCount: NACKs the remote side sent (outbound) / we sent (inbound).
      "nacks-received": outb("nackCount"),
      "nacks-sent": inb("nackCount"),
      "retransmissions-received": inb("retransmittedPacketsReceived"),
    });
    out.push(body);
  }
  return out;
}

/** Byte counts of one peer's m-lines at one time, for the next sample's rates. */
export interface RateSample {
  atMs: number;
  bytes: Map<string, { in: number; out: number }>;
}

/**
 * Fills `bytes-*-lastsec` of `streams` (sampled at `nowMs`) as bytes per second since
 * `previous`; returns this sample for the next call.
 */
export function withRates(
  streams: StreamStats[],
  nowMs: number,
  previous: RateSample | undefined,
): RateSample {
  const bytes = new Map<string, { in: number; out: number }>();
  const seconds = previous ? Math.max(0.001, (nowMs - previous.atMs) / 1000) : 0;
  for (const s of streams) {
    if (s.media === "data") continue;
    const mid = String(s.mid);
    const now = { in: num(s["bytes-received"]), out: num(s["bytes-sent"]) };
    bytes.set(mid, now);
    const before = previous?.bytes.get(mid);
    if (!before || seconds === 0) continue;
    s["bytes-received-lastsec"] = Math.max(0, Math.round((now.in - before.in) / seconds));
    s["bytes-sent-lastsec"] = Math.max(0, Math.round((now.out - before.out) / seconds));
  }
  return { atMs: nowMs, bytes };
}
