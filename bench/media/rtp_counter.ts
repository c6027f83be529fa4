/**
 * Counts what a subscriber receives from the RTP packets themselves, without decoding: VP8
 * packets, bytes and frames (a marker bit ends a frame), keyframes and their size (the VP8
 * keyframe header carries width and height), Opus packets. RTCP and other payload types
 * (RTX resends) are not counted.
 *
 * @module
 */
import { headerLength, isRtcp, marker, payloadType } from "../../core/media/rtp/header.ts";
import { vp8KeyframeSize } from "../../core/media/rtp/vp8.ts";
import { noCounts, type PeerCounts } from "./protocol.ts";

/** Payload types of `codec` (e.g. "VP8", "opus") in an SDP's rtpmap lines. */
export function payloadTypesOf(sdp: string, codec: string): Set<number> {
  const out = new Set<number>();
  const pattern = new RegExp(`^a=rtpmap:(\\d+) ${codec}/`, "gim");
  for (const m of sdp.matchAll(pattern)) out.add(Number(m[1]));
  return out;
}

/** Counters of one subscriber. */
export class RtpCounter {
  readonly counts: PeerCounts = noCounts("new");
  readonly #vp8: ReadonlySet<number>;
  readonly #opus: ReadonlySet<number>;
  #askedAt = -Infinity;

  /** `offer`: the server's offer, which names the payload types. */
  constructor(offer: string) {
    this.#vp8 = payloadTypesOf(offer, "VP8");
    this.#opus = payloadTypesOf(offer, "opus");
  }

  /**
   * Whether to ask for a keyframe now: video flows but none came yet (a decoder could not
   * start), and the last ask is a second old.
   */
  wantsKeyframe(nowMs: number): boolean {
    if (this.counts.videoPackets === 0 || this.counts.keyframes > 0) return false;
    if (nowMs - this.#askedAt < 1000) return false;
    this.#askedAt = nowMs;
    return true;
  }

  /** One packet as the track hands it over (SRTP already removed). */
  onPacket(buf: Uint8Array): void {
    if (buf.length < 12 || isRtcp(buf)) return;
    const pt = payloadType(buf);
    const c = this.counts;
    if (this.#opus.has(pt)) {
      c.audioPackets++;
      return;
    }
    if (!this.#vp8.has(pt)) return;
    c.videoPackets++;
    c.videoBytes += buf.length;
    if (marker(buf)) c.frames++;
    const at = headerLength(buf);
    const size = at > 0 ? vp8KeyframeSize(buf, at, buf.length) : null;
    if (size) {
      c.keyframes++;
      c.width = size.width;
      c.height = size.height;
    }
  }
}
