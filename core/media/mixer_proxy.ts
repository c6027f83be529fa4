/**
 * The core's `RoomMixer`: a proxy whose calls are RPCs to the media worker holding the mixer.
 *
 * @module
 */
import type { MediaWorker } from "./media_worker.ts";
import type { RoomMixer, RtpMemberRequest } from "./mixer_types.ts";
import type { MixRoomRequest } from "./types.ts";

/** A mixer living in a media worker. */
export class MixerProxy implements RoomMixer {
  readonly key: string;
  readonly worker: MediaWorker;
  #closed = false;
  readonly #onGone: (mixer: MixerProxy) => void;
  readonly #onClosed: (() => void) | undefined;

  constructor(options: {
    key: string;
    worker: MediaWorker;
    /** The engine forgets the mixer (closed by us or lost with its worker). */
    onGone: (mixer: MixerProxy) => void;
    /** The owner's callback when the mixer is lost. */
    onClosed?: () => void;
  }) {
    this.key = options.key;
    this.worker = options.worker;
    this.#onGone = options.onGone;
    this.#onClosed = options.onClosed;
  }

  get closed(): boolean {
    return this.#closed;
  }

  async work(request: MixRoomRequest): Promise<void> {
    if (this.#closed) throw new Error("Mixer closed");
    await this.worker.request("mixerWork", { key: this.key, request });
  }

  async rtp(request: RtpMemberRequest): Promise<number> {
    if (this.#closed) throw new Error("Mixer closed");
    return (await this.worker.request("mixerRtp", { key: this.key, request })).port;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onGone(this);
    try {
      await this.worker.request("closeMixer", { key: this.key });
    } catch {
      // The worker is gone: so is the mixer.
    }
  }

  /** The worker died: the mixer went with it. */
  lost(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onGone(this);
    this.#onClosed?.();
  }
}
