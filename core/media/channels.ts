/**
 * The data channels of one worker peer, by label: incoming messages go to a callback (binary
 * ones as bytes), sends go to the named channel (opened first when there is none, as Janus's
 * SCTP stack does) or the first open one.
 *
 * @module
 */
import type { WrtcDataChannel } from "./wrtc.ts";

/**
 * Messages kept for a channel while it connects (an RTT once SCTP is up); more are dropped, so
 * a channel that never opens holds no more than this.
 */
const MAX_WAITING_MESSAGES = 256;

/** The data channels of one PeerConnection. */
export class DataChannels {
  #channels = new Map<string, WrtcDataChannel>();
  /** What was sent on channels still connecting, in order. */
  #waiting = new Map<WrtcDataChannel, (string | Uint8Array)[]>();
  #onMessage: (label: string, data: string | Uint8Array) => void;
  #open: (label: string) => WrtcDataChannel | undefined;

  /**
   * @param open makes a channel of ours named `label`, or undefined when none can open (no
   *   data m-line negotiated)
   */
  constructor(
    onMessage: (label: string, data: string | Uint8Array) => void,
    open: (label: string) => WrtcDataChannel | undefined = () => undefined,
  ) {
    this.#onMessage = onMessage;
    this.#open = open;
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
    channel.onopen = () => {
      const waiting = this.#waiting.get(channel) ?? [];
      this.#waiting.delete(channel);
      for (const data of waiting) channel.send(data);
    };
    channel.onclose = () => {
      this.#waiting.delete(channel);
      if (this.#channels.get(channel.label) === channel) this.#channels.delete(channel.label);
    };
  }

  /**
   * Sends on the channel `label` (opened first when there is none; what is sent while it
   * connects goes once it is open), or on the first open one.
   *
   * @throws {Error} when there is no such channel or it is closed
   */
  send(label: string | undefined, data: string | Uint8Array): void {
    const channel = label !== undefined
      ? this.#channels.get(label) ?? this.#opened(label)
      : [...this.#channels.values()].find((c) => c.readyState === "open");
    if (channel?.readyState === "connecting") {
      const waiting = this.#waiting.get(channel) ?? [];
      this.#waiting.set(channel, waiting);
      if (waiting.length < MAX_WAITING_MESSAGES) waiting.push(data);
      return;
    }
    if (!channel || channel.readyState !== "open") {
      throw new Error(`No open data channel${label !== undefined ? ` "${label}"` : ""}`);
    }
    channel.send(data);
  }

  #opened(label: string): WrtcDataChannel | undefined {
    const channel = this.#open(label);
    if (channel) this.add(channel);
    return channel;
  }

  /** Closes every channel (they stay referenced until `clear`). */
  close(): void {
    for (const c of this.#channels.values()) c.close();
  }

  /** Drops the references, once the PeerConnection is closed. */
  clear(): void {
    this.#channels.clear();
    this.#waiting.clear();
  }
}
