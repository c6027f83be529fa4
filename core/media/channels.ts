/**
 * The data channels of one worker peer, by label: incoming messages go to a callback (binary
 * ones as bytes), sends go to the named channel or the first open one.
 *
 * @module
 */
import type { WrtcDataChannel } from "./wrtc.ts";

/** The data channels of one PeerConnection. */
export class DataChannels {
  #channels = new Map<string, WrtcDataChannel>();
  #onMessage: (label: string, data: string | Uint8Array) => void;

  constructor(onMessage: (label: string, data: string | Uint8Array) => void) {
    this.#onMessage = onMessage;
  }

  /** Channels open or opening. */
  get size(): number {
    return this.#channels.size;
  }

  /** Takes a channel (ours or the remote side's). */
  add(channel: WrtcDataChannel): void {
    channel.binaryType = "arraybuffer";
    this.#channels.set(channel.label, channel);
    channel.onmessage = ({ data }) => {
      this.#onMessage(channel.label, typeof data === "string" ? data : new Uint8Array(data));
    };
    channel.onclose = () => {
      if (this.#channels.get(channel.label) === channel) this.#channels.delete(channel.label);
    };
  }

  /**
   * Sends on the channel `label`, or on the first open one.
   *
   * @throws {Error} when there is no such open channel
   */
  send(label: string | undefined, data: string | Uint8Array): void {
    const channel = label !== undefined
      ? this.#channels.get(label)
      : [...this.#channels.values()].find((c) => c.readyState === "open");
    if (!channel || channel.readyState !== "open") {
      throw new Error(`No open data channel${label !== undefined ? ` "${label}"` : ""}`);
    }
    channel.send(data);
  }

  /** Closes every channel (they stay referenced until `clear`). */
  close(): void {
    for (const c of this.#channels.values()) c.close();
  }

  /** Drops the references, once the PeerConnection is closed. */
  clear(): void {
    this.#channels.clear();
  }
}
