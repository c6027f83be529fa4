/**
 * A simulcast video stream of an RTP source (a Streaming mountpoint with `simulcast`: one port
 * per substream) as one forward source: each viewer's line gets one substream at a time,
 * chosen per viewer (`SimulcastContext`), with its PictureIDs kept continuous across switches
 * and the sequence numbers of temporal layers it skips closed up. Changes of substream or
 * temporal layer are told through `onLayer`, as the reference tells its viewers.
 *
 * @module
 */
import type { LayerChange, LayerTargets } from "../source_types.ts";
import { headerLength, paddingLength } from "./header.ts";
import type { ForwardSource, SendLine } from "./send_lines.ts";
import { SimulcastContext } from "./simulcast_context.ts";
import type { PacketSink } from "./source_feedback.ts";
import { Vp8PictureContext } from "./vp8.ts";

/** No packet relayed for this long: the source is asked for a keyframe (as the reference). */
const STALL_KEYFRAME_MS = 1000;

/** One substream's packets: where a viewer's selector listens. */
export interface LayerOutputs {
  readonly outputs: PacketSink[];
}

/** One viewer's line fed from the substream it is on. */
class LayerSelector {
  readonly context = new SimulcastContext();
  readonly sinks: PacketSink[];
  readonly #line: SendLine;
  readonly #picture = new Vp8PictureContext();
  readonly #saved = new Uint8Array(6);
  readonly #base: ForwardSource;
  readonly #onLayer: (line: SendLine, change: LayerChange) => void;

  constructor(
    line: SendLine,
    layers: number,
    base: ForwardSource,
    onLayer: (line: SendLine, change: LayerChange) => void,
  ) {
    this.#line = line;
    this.#base = base;
    this.#onLayer = onLayer;
    this.sinks = Array.from({ length: layers }, (_, i) => ({
      send: (buf: Uint8Array, length: number, nowMs: number) => this.#packet(i, buf, length, nowMs),
      detach: () => line.detach(),
    }));
  }

  #packet(layer: number, buf: Uint8Array, length: number, nowMs: number): void {
    // As the reference, a viewer not started or paused takes no part (no layer events).
    if (!this.#line.active || !this.#line.track?.isOpen()) return;
    const payload = headerLength(buf, length);
    if (payload < 0) return;
    const end = length - paddingLength(buf, length);
    const ctx = this.context;
    const verdict = ctx.process(layer, buf, payload, end, nowMs);
    if (!verdict.relay) {
      // A packet of the substream we are on, dropped for its temporal layer: no gap for it.
      if (verdict.aboveTemporal) this.#line.skipSequence();
      if (verdict.needKeyframe || nowMs - ctx.lastRelayed >= STALL_KEYFRAME_MS) {
        this.#base.requestKeyframe(nowMs);
      }
      return;
    }
    if (verdict.needKeyframe) this.#base.requestKeyframe(nowMs);
    if (verdict.changedSubstream) {
      this.#line.newEpoch();
      this.#onLayer(this.#line, { substream: ctx.substream });
    }
    if (verdict.changedTemporal) this.#onLayer(this.#line, { temporal: ctx.templayer });
    const d = verdict.descriptor;
    if (!d) {
      this.#line.send(buf, length, nowMs);
      return;
    }
    // The descriptor is rewritten for this line only: the next line sees the source's.
    const saved = Math.min(this.#saved.length, end - payload);
    this.#saved.set(buf.subarray(payload, payload + saved));
    this.#picture.update(buf, d, verdict.changedSubstream);
    this.#line.send(buf, length, nowMs);
    buf.set(this.#saved.subarray(0, saved), payload);
  }
}

/** The substreams of one simulcast stream, forwarded as one source. */
export class SimulcastForward {
  readonly forward: ForwardSource;
  readonly #selectors = new Map<SendLine, LayerSelector>();

  /**
   * `base`: substream 0's forward source (codec, payload types, keyframe requests and
   * estimates go to it); `layers`: every substream's outputs, lowest first.
   */
  constructor(
    base: ForwardSource,
    layers: readonly LayerOutputs[],
    onLayer: (line: SendLine, change: LayerChange) => void,
  ) {
    this.forward = {
      kind: base.kind,
      ...(base.codec !== undefined ? { codec: base.codec } : {}),
      payloadType: base.payloadType,
      rtxPayloadType: base.rtxPayloadType,
      clockRate: base.clockRate,
      extensions: base.extensions,
      requestKeyframe: (nowMs) => base.requestKeyframe(nowMs),
      keyframeReceived: () => base.keyframeReceived(),
      receiverEstimate: (bps, nowMs) => base.receiverEstimate(bps, nowMs),
      addOutput: (line) => {
        if (this.#selectors.has(line)) return;
        const selector = new LayerSelector(line, layers.length, base, onLayer);
        this.#selectors.set(line, selector);
        layers.forEach((l, i) => l.outputs.push(selector.sinks[i]!));
      },
      removeOutput: (line) => {
        const selector = this.#selectors.get(line);
        if (!selector) return;
        this.#selectors.delete(line);
        layers.forEach((l, i) => {
          const at = l.outputs.indexOf(selector.sinks[i]!);
          if (at >= 0) l.outputs.splice(at, 1);
        });
      },
    };
  }

  /**
   * Sets what `line`'s viewer aims at; returns where it is now (-1: nothing relayed yet). A
   * change of substream asks the source for a keyframe.
   *
   * @throws {Error} when `line` is not fed by this stream
   */
  setTargets(
    line: SendLine,
    targets: LayerTargets,
    nowMs: number,
  ): { substream: number; temporal: number } {
    const selector = this.#selectors.get(line);
    if (!selector) throw new Error(`m-line ${line.mid} is not fed by this simulcast stream`);
    const ctx = selector.context;
    if (targets.substream !== undefined) {
      ctx.substreamTarget = targets.substream;
      if (ctx.substreamTarget !== ctx.substream) this.forward.requestKeyframe(nowMs);
    }
    if (targets.temporal !== undefined) ctx.templayerTarget = targets.temporal;
    if (targets.fallbackMs !== undefined) ctx.fallbackMs = targets.fallbackMs;
    return { substream: ctx.substream, temporal: ctx.templayer };
  }

  /** Lines fed now, for `close`. */
  lines(): SendLine[] {
    return [...this.#selectors.keys()];
  }
}
