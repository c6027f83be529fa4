/**
 * Which layer of a simulcast VP8 stream one viewer gets (Janus's
 * `janus_rtp_simulcasting_context_process_rtp`, 1.1.2): a viewer aims at a substream (0-2,
 * the port the packets came in on) and a temporal layer; it starts on a keyframe, switches
 * substream only on a keyframe of a layer towards its target, falls back one substream when
 * the one it is on sends nothing for `fallback` ms, and drops VP8 packets above its temporal
 * layer.
 *
 * @module
 */
import { emptyVp8Descriptor, isVp8Keyframe, type Vp8Descriptor, vp8Descriptor } from "./vp8.ts";

/** No packet relayed for this long on a substream above 0: drop to the one below (ms). */
export const DEFAULT_FALLBACK_MS = 250;

/** What became of one packet. */
export interface LayerVerdict {
  relay: boolean;
  /** The viewer moved to another substream with this packet. */
  changedSubstream: boolean;
  /** The viewer moved to its target temporal layer with this packet. */
  changedTemporal: boolean;
  /** The source should be asked for a keyframe. */
  needKeyframe: boolean;
  /** Dropped for its temporal layer, on the substream relayed: its sequence number is skipped. */
  aboveTemporal: boolean;
  /** The packet's VP8 descriptor (when relayed), for PictureID rewriting. */
  descriptor: Vp8Descriptor | null;
}

/** One viewer's simulcast state. */
export class SimulcastContext {
  /** The substream relayed now, -1 before the first keyframe. */
  substream = -1;
  substreamTarget = 2;
  /** The temporal layer relayed now, -1 until a packet of the target layer came. */
  templayer = -1;
  templayerTarget = 2;
  /** `fallback` in ms (0: the default). */
  fallbackMs = 0;
  /** A lower target we fell back to while the wanted substream is silent, -1: none. */
  #targetTemp = -1;
  #lastRelayed = 0;
  /** Reused for every packet (this runs per packet and viewer): valid until the next call. */
  readonly #verdict: LayerVerdict = {
    relay: false,
    changedSubstream: false,
    changedTemporal: false,
    needKeyframe: false,
    aboveTemporal: false,
    descriptor: null,
  };
  readonly #descriptor: Vp8Descriptor = emptyVp8Descriptor();

  /** The monotonic ms of the last packet relayed (0: none yet). */
  get lastRelayed(): number {
    return this.#lastRelayed;
  }

  /**
   * Decides on the packet that came on `substream` (its VP8 payload in `buf[payload, end)`)
   * at `nowMs`. The verdict is reused: read it before the next call.
   */
  process(
    substream: number,
    buf: Uint8Array,
    payload: number,
    end: number,
    nowMs: number,
  ): LayerVerdict {
    const verdict = this.#verdict;
    verdict.relay = false;
    verdict.changedSubstream = false;
    verdict.changedTemporal = false;
    verdict.needKeyframe = false;
    verdict.aboveTemporal = false;
    verdict.descriptor = null;
    if (
      this.#targetTemp !== -1 &&
      (substream > this.#targetTemp || this.substreamTarget <= this.#targetTemp)
    ) {
      // The substream we fell back from flows again, or a lower target was asked meanwhile.
      this.#targetTemp = -1;
    }
    const target = this.#targetTemp === -1 ? this.substreamTarget : this.#targetTemp;
    if (this.substream === -1) {
      if (!isVp8Keyframe(buf, payload, end)) return verdict;
      this.substream = substream;
      verdict.changedSubstream = true;
      this.#lastRelayed = nowMs;
    } else if (this.substream !== target) {
      const towards = (this.substream < target && substream > this.substream) ||
        (this.substream > target && substream < this.substream);
      if (towards && isVp8Keyframe(buf, payload, end)) {
        this.substream = substream;
        verdict.changedSubstream = true;
        this.#lastRelayed = nowMs;
      }
    }
    if (this.#lastRelayed === 0) {
      this.#lastRelayed = nowMs;
    } else if (this.substream > 0) {
      const silent = nowMs - this.#lastRelayed;
      if (silent > (this.fallbackMs || DEFAULT_FALLBACK_MS)) {
        this.#lastRelayed = nowMs;
        if (
          this.substream !== substream && this.#targetTemp !== 0 &&
          this.substreamTarget > substream
        ) {
          const previous = this.#targetTemp;
          this.#targetTemp = Math.max(
            0,
            this.#targetTemp === -1 ? this.substreamTarget - 1 : this.#targetTemp - 1,
          );
          if (this.#targetTemp !== previous) verdict.needKeyframe = true;
        }
      }
    }
    if (this.substream < 0 || substream !== this.substream) return verdict;
    this.#lastRelayed = nowMs;
    const descriptor = vp8Descriptor(buf, payload, end, this.#descriptor);
    if (descriptor) {
      if (this.templayer !== this.templayerTarget && descriptor.tid === this.templayerTarget) {
        this.templayer = this.templayerTarget;
        verdict.changedTemporal = true;
      }
      // Above the temporal layer: dropped (the caller closes the sequence number gap).
      if (this.templayer !== -1 && descriptor.tid > this.templayer) {
        verdict.aboveTemporal = true;
        return verdict;
      }
    }
    verdict.relay = true;
    verdict.descriptor = descriptor;
    return verdict;
  }
}
