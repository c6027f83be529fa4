/**
 * The core's `Peer`: a proxy whose every call is an RPC to the media worker holding the real
 * PeerConnection, and whose listener is fed by that worker's events.
 *
 * @module
 */
import { createLogger } from "../log.ts";
import { fromWire, toWire, type WorkerEvents, type WorkerMethods } from "./protocol.ts";
import type { EventMessage } from "./rpc.ts";
import type {
  AnswerOptions,
  ForwardOptions,
  ForwardTarget,
  IceCandidate,
  MixRequest,
  OfferOptions,
  Peer,
  PeerCloseReason,
  PeerInfo,
  PeerListener,
  PlayoutOptions,
  PlayoutStream,
  RecordingOptions,
  RecordingUpdate,
  RtpForwardOptions,
  RtpForwardResult,
} from "./types.ts";
import type { MediaWorker } from "./media_worker.ts";

const log = createLogger("media");

/** A peer living in a media worker. */
export class PeerProxy implements Peer {
  readonly id: string;
  /** The affinity key it was placed with, if any. */
  readonly affinity: string | undefined;
  #worker: MediaWorker;
  #listener: PeerListener;
  #closed = false;
  #announced = false;

  constructor(options: {
    id: string;
    worker: MediaWorker;
    listener: PeerListener;
    affinity: string | undefined;
  }) {
    this.id = options.id;
    this.#worker = options.worker;
    this.#listener = options.listener;
    this.affinity = options.affinity;
  }

  /** The worker holding this peer. */
  get worker(): MediaWorker {
    return this.#worker;
  }

  /** Whether the peer is gone (closed by us, by the remote side, or with its worker). */
  get closed(): boolean {
    return this.#closed;
  }

  async acceptOffer(sdp: string, options: AnswerOptions = {}): Promise<string> {
    const { bitrateCap, codecs, direction, opusMaxPlaybackRate } = options;
    const { sdp: answer } = await this.#call("acceptOffer", {
      peerId: this.id,
      sdp,
      ...(bitrateCap !== undefined ? { bitrateCap } : {}),
      ...(codecs !== undefined ? { codecs } : {}),
      ...(direction !== undefined ? { direction } : {}),
      ...(opusMaxPlaybackRate !== undefined ? { opusMaxPlaybackRate } : {}),
    });
    return answer;
  }

  /** Also takes `data: true` to offer a data channel. */
  async createOffer(options?: OfferOptions): Promise<string> {
    const { sdp } = await this.#call("createOffer", { peerId: this.id, ...options });
    return sdp;
  }

  async acceptAnswer(sdp: string): Promise<void> {
    await this.#call("acceptAnswer", { peerId: this.id, sdp });
  }

  async addRemoteCandidate(candidate: IceCandidate | null): Promise<void> {
    await this.#call("addRemoteCandidate", { peerId: this.id, candidate });
  }

  async setBitrateCap(bitsPerSecond: number): Promise<void> {
    await this.#call("setBitrateCap", { peerId: this.id, bitsPerSecond });
  }

  /**
   * @throws {TypeError} when `to` is not a live peer of the same worker (use the same affinity
   * key for peers whose media must meet)
   */
  async forward(options: ForwardOptions): Promise<string> {
    const { to, fromMid, toMid, active } = options;
    const { mid } = await this.#call("forward", {
      peerId: this.id,
      target: this.#sibling(to),
      fromMid,
      ...(toMid !== undefined ? { toMid } : {}),
      ...(active !== undefined ? { active } : {}),
    });
    return mid;
  }

  /** @throws {TypeError} as `forward` */
  async setForwarding(options: ForwardTarget & { active: boolean }): Promise<void> {
    const { to, toMid, active } = options;
    await this.#call("setForwarding", {
      peerId: this.id,
      target: this.#sibling(to),
      toMid,
      active,
    });
  }

  /** @throws {TypeError} as `forward` */
  async stopForward(options: ForwardTarget): Promise<void> {
    const { to, toMid } = options;
    await this.#call("stopForward", { peerId: this.id, target: this.#sibling(to), toMid });
  }

  async requestKeyframe(mid: string): Promise<void> {
    await this.#call("requestKeyframe", { peerId: this.id, mid });
  }

  async setAudioLevels(enabled: boolean): Promise<void> {
    await this.#call("setAudioLevels", { peerId: this.id, enabled });
  }

  async mix(request: MixRequest): Promise<void> {
    await this.#call("mix", { peerId: this.id, ...request });
  }

  async startRecording(options: RecordingOptions): Promise<void> {
    await this.#call("startRecording", { peerId: this.id, ...options });
  }

  async stopRecording(mid: string): Promise<void> {
    await this.#call("stopRecording", { peerId: this.id, mid });
  }

  async updateRecording(update: RecordingUpdate): Promise<void> {
    await this.#call("updateRecording", { peerId: this.id, ...update });
  }

  async rtpForward(options: RtpForwardOptions): Promise<RtpForwardResult> {
    return await this.#call("rtpForward", { peerId: this.id, ...options });
  }

  async stopRtpForward(id: string): Promise<void> {
    await this.#call("stopRtpForward", { peerId: this.id, id });
  }

  async play(options: PlayoutOptions): Promise<PlayoutStream[]> {
    const { streams } = await this.#call("play", { peerId: this.id, files: options.files });
    return streams;
  }

  async stopPlay(): Promise<void> {
    await this.#call("stopPlay", { peerId: this.id });
  }

  /** The id of `target`, which must be a peer of our worker. */
  #sibling(target: Peer): string {
    if (!(target instanceof PeerProxy) || target.worker !== this.#worker) {
      throw new TypeError("Forwarding needs a peer of the same media worker (same affinity key)");
    }
    return target.id;
  }

  async sendData(message: { label?: string; data: string | Uint8Array }): Promise<void> {
    await this.#call("sendData", {
      peerId: this.id,
      data: toWire(message.data),
      ...(message.label !== undefined ? { label: message.label } : {}),
    });
  }

  async info(): Promise<PeerInfo> {
    return await this.#call("info", { peerId: this.id });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#worker.request("closePeer", { peerId: this.id });
    } catch {
      // The worker is gone: so is the PeerConnection.
    } finally {
      this.#worker.removePeer(this);
    }
  }

  /** Called once the peer was handed to its owner: from then on `onClosed` is told. */
  announce(): void {
    this.#announced = true;
  }

  /** Ends the peer because of something outside it; calls `onClosed` once (if announced). */
  lost(reason: PeerCloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.removePeer(this);
    if (this.#announced) this.#emit(() => this.#listener.onClosed?.(reason));
  }

  /** Marks the peer closed without telling the listener (engine shutdown). */
  forget(): void {
    this.#closed = true;
  }

  /** Routes one worker event to the listener. */
  handleEvent(message: EventMessage<WorkerEvents>): void {
    if (this.#closed) return;
    const l = this.#listener;
    switch (message.event) {
      case "localCandidate":
        return this.#emit(() => l.onLocalCandidate?.(message.params.candidate));
      case "iceConnected":
        return this.#emit(() => l.onIceConnected?.());
      case "connected":
        return this.#emit(() => l.onConnected?.());
      case "media":
        return this.#emit(() => l.onMedia?.(message.params.change));
      case "slowLink":
        return this.#emit(() => l.onSlowLink?.(message.params.report));
      case "audioLevel":
        return this.#emit(() => l.onAudioLevel?.(message.params.report));
      case "data": {
        const { label, data } = message.params;
        return this.#emit(() => l.onData?.({ label, data: fromWire(data) }));
      }
      case "closed":
        return this.lost(message.params.reason);
      case "playoutEnded":
        return this.#emit(() => l.onPlayoutEnded?.());
    }
  }

  /** A throwing listener is logged, never breaks the worker's event loop. */
  #emit(call: () => void): void {
    try {
      call();
    } catch (e) {
      log.error(`[${this.id}] listener threw: ${e instanceof Error ? e.stack : String(e)}`);
    }
  }

  #call<K extends keyof WorkerMethods & string>(
    method: K,
    params: WorkerMethods[K]["params"],
  ): Promise<WorkerMethods[K]["result"]> {
    if (this.#closed) return Promise.reject(new Error(`Peer ${this.id} is closed`));
    return this.#worker.request(method, params);
  }
}
