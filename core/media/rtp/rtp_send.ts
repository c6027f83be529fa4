/**
 * Small helpers the RTP engine's senders share: random SSRCs, sending a packet on a
 * node-datachannel track, and deduplicating RTCP (libdatachannel delivers a compound packet
 * once per SSRC it mentions, mostly on the video track).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Track } from "node-datachannel";

/** Identical RTCP within this window is one packet delivered on several tracks. */
const RTCP_DEDUP_MS = 50;

/** Random odd SSRC (never 0). */
export function randomSsrc(): number {
  return (crypto.getRandomValues(new Uint32Array(1))[0]! | 1) >>> 0;
}

/** Sends a packet on a track; the binding takes Buffers, a view of the same bytes is one. */
export function sendTo(track: Track, packet: Uint8Array): boolean {
  if (!track.isOpen()) return false;
  const buffer = Buffer.isBuffer(packet)
    ? packet
    : Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  try {
    return track.sendMessageBinary(buffer);
  } catch {
    return false;
  }
}

function rtcpKey(buf: Uint8Array): string {
  // FNV-1a over the bytes: RTCP is small and rare, a string key is fine here.
  let h = 0x811c9dc5;
  for (let i = 0; i < buf.length; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return `${buf.length}:${h >>> 0}`;
}

/** Remembers recent RTCP compound packets to act on each once. */
export class RtcpDeduper {
  #recent = new Map<string, number>();

  /** True when the same bytes were seen within the window (then skip them). */
  seen(buf: Uint8Array, nowMs: number): boolean {
    const key = rtcpKey(buf);
    const at = this.#recent.get(key);
    if (at !== undefined && nowMs - at < RTCP_DEDUP_MS) return true;
    this.#recent.set(key, nowMs);
    return false;
  }

  /** Forgets entries past the window (from a timer). */
  prune(nowMs: number): void {
    for (const [key, at] of this.#recent) if (nowMs - at > RTCP_DEDUP_MS) this.#recent.delete(key);
  }
}
