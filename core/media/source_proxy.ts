/**
 * The core's `RtpSource`: a proxy whose calls are RPCs to the media worker holding the
 * source's sockets. Peers it forwards to must live in the same worker (same affinity key).
 *
 * @module
 */
import type { MediaWorker } from "./media_worker.ts";
import { WorkerObject, type WorkerObjectHooks } from "./worker_object.ts";
import { PeerProxy } from "./peer_proxy.ts";
import type { LayerChange, LayerTargets, RtpSource, RtpSourceStreamStats } from "./source_types.ts";
import type { ForwardTarget, Peer } from "./types.ts";

/** A source living in a media worker. */
export class SourceProxy extends WorkerObject<SourceProxy> implements RtpSource {
  readonly id: string;
  readonly ports: readonly number[];
  readonly rtcpPorts: readonly number[];
  readonly layerPorts: readonly (readonly number[])[];
  /** Layer listeners of the lines fed by a simulcast stream, by `peerId/mid`. */
  readonly #onLayer = new Map<string, (change: LayerChange) => void>();
  /** The placement key it was made with: a draining worker keeps the key while it lives. */
  readonly affinity: string | undefined;

  constructor(
    options: {
      id: string;
      ports: readonly number[];
      rtcpPorts: readonly number[];
      layerPorts: readonly (readonly number[])[];
      worker: MediaWorker;
      affinity?: string;
    } & WorkerObjectHooks<SourceProxy>,
  ) {
    super(options.worker, options);
    this.id = options.id;
    this.ports = options.ports;
    this.rtcpPorts = options.rtcpPorts;
    this.layerPorts = options.layerPorts;
    this.affinity = options.affinity;
  }

  protected self(): SourceProxy {
    return this;
  }

  async forward(options: {
    to: Peer;
    fromMid: string;
    toMid?: string;
    newMid?: string;
    active?: boolean;
    onLayer?: (change: LayerChange) => void;
  }): Promise<string> {
    const { to, fromMid, toMid, newMid, active, onLayer } = options;
    const target = this.#sibling(to);
    const { mid } = await this.#call("sourceForward", {
      sourceId: this.id,
      target,
      fromMid,
      ...(toMid !== undefined ? { toMid } : {}),
      ...(newMid !== undefined ? { newMid } : {}),
      ...(active !== undefined ? { active } : {}),
    });
    if (onLayer) this.#onLayer.set(`${target}/${mid}`, onLayer);
    else this.#onLayer.delete(`${target}/${mid}`);
    return mid;
  }

  async setLayers(
    options: ForwardTarget & LayerTargets,
  ): Promise<{ substream: number; temporal: number }> {
    const { to, toMid, ...targets } = options;
    return await this.#call("sourceSetLayers", {
      sourceId: this.id,
      target: this.#sibling(to),
      toMid,
      ...targets,
    });
  }

  /** The worker told that a viewer's line changed layer. */
  layerChanged(event: { target: string; mid: string } & LayerChange): void {
    const { target, mid, ...change } = event;
    this.#onLayer.get(`${target}/${mid}`)?.(change as LayerChange);
  }

  async setForwarding(options: ForwardTarget & { active: boolean }): Promise<void> {
    await this.#call("sourceSetForwarding", {
      sourceId: this.id,
      target: this.#sibling(options.to),
      toMid: options.toMid,
      active: options.active,
    });
  }

  async stopForward(options: ForwardTarget): Promise<void> {
    if (this.closed) return;
    const target = this.#sibling(options.to);
    this.#onLayer.delete(`${target}/${options.toMid}`);
    await this.#call("sourceStopForward", { sourceId: this.id, target, toMid: options.toMid });
  }

  async stats(): Promise<RtpSourceStreamStats[]> {
    return await this.#call("sourceStats", { sourceId: this.id });
  }

  async startRecording(options: { mid: string; path: string; codec: string }): Promise<void> {
    await this.#call("sourceStartRecording", { sourceId: this.id, ...options });
  }

  async stopRecording(mid: string): Promise<void> {
    if (this.closed) return;
    await this.#call("sourceStopRecording", { sourceId: this.id, mid });
  }

  async close(): Promise<void> {
    await this.closeWith(() => this.worker.request("closeSource", { sourceId: this.id }));
  }

  #sibling(target: Peer): string {
    if (!(target instanceof PeerProxy) || target.worker !== this.worker) {
      throw new TypeError("A source forwards to peers of its media worker (same affinity key)");
    }
    return target.id;
  }

  #call: MediaWorker["request"] = (method, params) => {
    if (this.closed) return Promise.reject(new Error("Source closed"));
    return this.worker.request(method, params);
  };
}
