/**
 * The m-lines of a subscriber PeerConnection and the publisher stream each one carries. Every
 * slot is fed by one per-stream forward (`PluginWebRTC.forward`) from its publisher's PC; the
 * forward runs only while the slot is wanted (`send`), the subscriber is not paused, and the
 * publisher stream is neither moderated nor switched off by its publisher.
 *
 * Data is not forwarded by the media engine but relayed here, as the reference has it: a
 * subscriber PC has one data m-line (`DataSlot`) carrying the data of every publisher it
 * subscribed to, each publisher's messages on a channel named after its id.
 *
 * @module
 */
import { type JsonObject, PluginError, type PluginWebRTC } from "../../core/plugin.ts";
import { VIDEOROOM_ERROR } from "./errors.ts";
import type { FeedStream, Member, Watcher } from "./room.ts";

/** One m-line of the subscriber PC. */
export interface Slot {
  mindex: number;
  mid: string;
  kind: "audio" | "video";
  /** The codec the m-line was offered with: only a stream in it can feed the slot later. */
  codec: string | undefined;
  feed: Member | undefined;
  stream: FeedStream | undefined;
  send: boolean;
  ready: boolean;
}

/** The one data m-line of a subscriber PC; it stays once made, as the reference's. */
export interface DataSlot {
  mindex: number;
  /** Known once offered. */
  mid: string;
  send: boolean;
  ready: boolean;
  /** The publishers whose data it relays, in the order subscribed. */
  sources: Member[];
}

/** The slots of one subscriber and the forwards feeding them. */
export class Slots {
  readonly list: Slot[] = [];
  /** The data m-line, once a publisher's data was subscribed to. */
  data: DataSlot | undefined;
  #webrtc: PluginWebRTC;
  /** The subscriber these slots belong to, as publishers list it in `subscribers`. */
  #owner: Watcher;
  #paused = false;

  constructor(webrtc: PluginWebRTC, owner: Watcher) {
    this.#webrtc = webrtc;
    this.#owner = owner;
  }

  /** Whether media flows to `slot` now. */
  flowing(slot: Slot): boolean {
    const s = slot.stream;
    return slot.feed !== undefined && s !== undefined && slot.send && !this.#paused &&
      s.moderated !== true && s.send !== false;
  }

  /** The slot whose mid is `mid`. */
  byMid(mid: string): Slot | undefined {
    return this.list.find((s) => s.mid === mid);
  }

  /** Streams being forwarded (admission control). */
  get forwarded(): number {
    return this.list.filter((s) => s.feed !== undefined).length;
  }

  /** Whether some slot carries a stream of `member`. */
  watches(member: Member): boolean {
    return this.list.some((s) => s.feed === member) || this.data?.sources.includes(member) === true;
  }

  /** Whether `member`'s stream `mid` (of `type`) is one this subscriber takes. */
  takes(member: Member, mid: string, type: string): boolean {
    if (type === "data") return this.data?.sources.includes(member) === true;
    return this.list.some((s) => s.feed === member && s.stream?.mid === mid);
  }

  /**
   * Relays `member`'s data on the data m-line (made on first use, after the m-lines there are);
   * false when it was relayed already.
   */
  attachData(member: Member): boolean {
    this.data ??= { mindex: this.list.length, mid: "", send: true, ready: false, sources: [] };
    if (this.data.sources.includes(member)) return false;
    this.data.sources.push(member);
    // As the reference lists it until the answer to the offer that adds it.
    this.data.ready = false;
    member.subscribers.add(this.#owner);
    return true;
  }

  /** Stops relaying `member`'s data; false when it was not relayed. */
  detachData(member: Member): boolean {
    const data = this.data;
    const at = data?.sources.indexOf(member) ?? -1;
    if (!data || at < 0) return false;
    data.sources.splice(at, 1);
    if (data.sources.length === 0) data.ready = false;
    this.#forgetIfUnused(member);
    return true;
  }

  /**
   * A data-channel message of `member` (which checked that its data flows): to the client on
   * the channel named after it, while the data m-line wants it (`send`) and we are not paused.
   */
  relayData(member: Member, message: string | Uint8Array): void {
    const data = this.data;
    if (!data?.send || this.#paused || !data.sources.includes(member)) return;
    void this.#webrtc.sendData(message, String(member.id)).catch(() => {});
  }

  /**
   * Puts `stream` of `member` on a free slot of its kind and codec (an m-line kept
   * `inactive`), or on a new one, and starts its forward.
   *
   * @throws {PluginError} 499 when the publisher's PC cannot forward
   */
  async attach(member: Member, stream: FeedStream, ready: boolean): Promise<Slot> {
    const kind = stream.type === "audio" ? "audio" : "video";
    const free = this.list.find((s) =>
      s.kind === kind && s.feed === undefined && s.codec === stream.codec
    );
    const slot: Slot = free ?? {
      mindex: this.list.length,
      mid: "",
      kind,
      codec: stream.codec,
      feed: undefined,
      stream: undefined,
      send: true,
      ready: false,
    };
    Object.assign(slot, { feed: member, stream, send: true, ready });
    try {
      slot.mid = await member.webrtc.forward({
        to: this.#webrtc,
        fromMid: stream.mid,
        ...(free ? { toMid: free.mid } : {}),
        active: this.flowing(slot),
      });
    } catch (e) {
      Object.assign(slot, { feed: undefined, stream: undefined, ready: false });
      throw new PluginError(VIDEOROOM_ERROR.UNKNOWN, (e as Error).message);
    }
    if (!free) this.list.push(slot);
    member.subscribers.add(this.#owner);
    return slot;
  }

  /**
   * Feeds an existing slot from another publisher stream (`switch`): the target m-line keeps
   * its mid, no renegotiation.
   *
   * @throws {PluginError} 499 when the new publisher's PC cannot forward
   */
  async switchTo(slot: Slot, member: Member, stream: FeedStream, ready: boolean): Promise<void> {
    const old = slot.feed;
    Object.assign(slot, { feed: member, stream, ready });
    try {
      await member.webrtc.forward({
        to: this.#webrtc,
        fromMid: stream.mid,
        toMid: slot.mid,
        active: this.flowing(slot),
      });
    } catch (e) {
      Object.assign(slot, { feed: undefined, stream: undefined, ready: false });
      if (old) this.#forgetIfUnused(old);
      throw new PluginError(VIDEOROOM_ERROR.UNKNOWN, (e as Error).message);
    }
    member.subscribers.add(this.#owner);
    if (old && old !== member) this.#forgetIfUnused(old);
  }

  /** Stops the forward to `slot` and marks it free (`send` as given). */
  async detach(slot: Slot, send: boolean): Promise<void> {
    const member = slot.feed;
    Object.assign(slot, { feed: undefined, stream: undefined, ready: false, send });
    if (!member) return;
    this.#forgetIfUnused(member);
    await member.webrtc.stopForward({ to: this.#webrtc, toMid: slot.mid }).catch(() => {});
  }

  /** Applies whether `slot` should flow now. */
  async sync(slot: Slot): Promise<void> {
    if (!slot.feed) return;
    await slot.feed.webrtc.setForwarding({
      to: this.#webrtc,
      toMid: slot.mid,
      active: this.flowing(slot),
    }).catch(() => {});
  }

  /** `pause` / `start`: every slot follows. */
  async setPaused(paused: boolean): Promise<void> {
    if (this.#paused === paused) return;
    this.#paused = paused;
    for (const slot of this.list) await this.sync(slot);
  }

  /** Whether the subscriber is paused. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Forgets every slot (the PC is gone, and its forwards with it). */
  clear(): void {
    for (const slot of this.list) slot.feed?.subscribers.delete(this.#owner);
    for (const member of this.data?.sources ?? []) member.subscribers.delete(this.#owner);
    this.list.length = 0;
    this.data = undefined;
  }

  /** The subscriber `streams` entries, in m-line order. */
  json(): JsonObject[] {
    const entries = this.list.map((s) => {
      const out: JsonObject = {
        type: s.kind,
        active: s.feed !== undefined,
        mindex: s.mindex,
        mid: s.mid,
        ready: s.ready,
        send: s.send,
      };
      if (s.feed && s.stream) {
        out.feed_id = s.feed.id;
        if (s.feed.display !== undefined) out.feed_display = s.feed.display;
        out.feed_mid = s.stream.mid;
        if (s.stream.description !== undefined) out.feed_description = s.stream.description;
        if (s.stream.codec !== undefined) out.codec = s.stream.codec;
      }
      return out;
    });
    const data = this.data;
    if (!data) return entries;
    // The reference's data entry: always active, its sources only while it has some.
    const out: JsonObject = {
      type: "data",
      active: true,
      mindex: data.mindex,
      mid: data.mid,
      ready: data.ready,
      send: data.send,
    };
    if (data.sources.length > 0) {
      out.sources = data.sources.length;
      out.source_ids = data.sources.map((m) => m.id);
    }
    const at = entries.findIndex((e) => (e.mindex as number) > data.mindex);
    entries.splice(at < 0 ? entries.length : at, 0, out);
    return entries;
  }

  #forgetIfUnused(member: Member): void {
    if (!this.watches(member)) member.subscribers.delete(this.#owner);
  }
}
