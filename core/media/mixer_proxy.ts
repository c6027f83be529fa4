/**
 * The core's `RoomMixer`: a proxy whose calls are RPCs to the media worker holding the mixer.
 *
 * @module
 */
import type { MediaWorker } from "./media_worker.ts";
import { WorkerObject, type WorkerObjectHooks } from "./worker_object.ts";
import type { RoomMixer, RtpLevel, RtpMemberRequest } from "./mixer_types.ts";
import type { MixRoomRequest } from "./types.ts";

/** A mixer living in a media worker. */
export class MixerProxy extends WorkerObject<MixerProxy> implements RoomMixer {
  readonly key: string;
  #onRtpLevel: ((level: RtpLevel) => void) | undefined;

  constructor(options: { key: string; worker: MediaWorker } & WorkerObjectHooks<MixerProxy>) {
    super(options.worker, options);
    this.key = options.key;
  }

  protected self(): MixerProxy {
    return this;
  }

  onRtpLevel(listener: ((level: RtpLevel) => void) | undefined): void {
    this.#onRtpLevel = listener;
  }

  /** Its worker reported levels of its plain-RTP members. */
  levels(levels: readonly RtpLevel[]): void {
    if (this.closed) return;
    for (const level of levels) this.#onRtpLevel?.(level);
  }

  async work(request: MixRoomRequest): Promise<void> {
    if (this.closed) throw new Error("Mixer closed");
    await this.worker.request("mixerWork", { key: this.key, request });
  }

  async rtp(request: RtpMemberRequest): Promise<number> {
    if (this.closed) throw new Error("Mixer closed");
    return (await this.worker.request("mixerRtp", { key: this.key, request })).port;
  }

  async close(): Promise<void> {
    await this.closeWith(() => this.worker.request("closeMixer", { key: this.key }));
  }
}
