/**
 * A subscriber: a handle that joined as `ptype: "subscriber"` and receives streams of one or
 * more feeds on its own PeerConnection. We offer (`sendonly`), the client answers in `start`.
 *
 * Each subscriber m-line (`Slot`, see `slots.ts`) is fed by one per-stream forward from its
 * publisher's PC, so `pause`, `send:false`, moderation and `switch` act on exactly that
 * m-line. Unsubscribed m-lines stay, offered `inactive`, and are reused first (as the
 * reference does). Publishers' data goes on one data m-line, relayed by the plugin (`slots.ts`).
 *
 * @module
 */
import { type Jsep, type JsonObject, PluginError, type PluginHandle } from "../../core/plugin.ts";
import { missing, noSuchFeed, unauthorized, VIDEOROOM_ERROR } from "./errors.ts";
import type { FeedStream, Member, Room, Watcher } from "./room.ts";
import {
  check,
  checkEach,
  entryObject,
  FEED_FIELD,
  STREAM_FIELDS,
  SUBSCRIBE_STREAM_FIELDS,
  SUBSCRIBER_JOIN_FIELDS,
} from "./schemas.ts";
import { mediaSections } from "../_shared/media_lines.ts";
import { type Slot, Slots } from "./slots.ts";

/** A requested feed stream. */
interface Want {
  member: Member;
  stream: FeedStream;
}

/** A subscriber handle. */
export class Subscriber implements Watcher {
  readonly room: Room;
  #handle: PluginHandle;
  #maxStreams: number;
  #slots: Slots;
  /** The m-lines active in the last offer (the answer makes them ready). */
  #offered = new Set<{ ready: boolean }>();
  #awaitingAnswer = false;
  /** An offer of ours was answered (the reference's `answered`). */
  #answered = false;
  #pending = false;
  #autoupdate: boolean;
  /** A feed went without an offer: the next `update` renegotiates even with no change. */
  #skippedUpdate = false;
  #left = false;
  /** The `private_id` it joined with (0 without), told to event handlers. */
  #privateId: number;

  private constructor(handle: PluginHandle, room: Room, options: {
    maxStreams: number;
    autoupdate: boolean;
    privateId: number;
  }) {
    this.#handle = handle;
    this.#privateId = options.privateId;
    this.room = room;
    this.#maxStreams = options.maxStreams;
    this.#autoupdate = options.autoupdate;
    this.#slots = new Slots(handle.webrtc, this);
  }

  /**
   * `join` as subscriber: resolves the streams, wires the media and makes the offer.
   *
   * @returns the subscriber and the `attached` event (with the offer)
   */
  static async join(
    handle: PluginHandle,
    room: Room,
    body: JsonObject,
    options: { maxStreams: number },
  ): Promise<{ subscriber: Subscriber; data: JsonObject; jsep: Jsep }> {
    check(body, SUBSCRIBER_JOIN_FIELDS);
    if (room.props.require_pvtid) {
      const owner = typeof body.private_id === "number"
        ? room.byPrivateId(body.private_id)
        : undefined;
      if (!owner) throw unauthorized("this room requires a valid private_id");
    }
    // An empty `streams` falls back to the legacy `feed`, as in the reference.
    const entries = Array.isArray(body.streams) ? body.streams : [];
    const legacy = entries.length === 0;
    if (legacy) check(body, FEED_FIELD);
    const sub = new Subscriber(handle, room, {
      maxStreams: options.maxStreams,
      autoupdate: body.autoupdate !== false,
      privateId: typeof body.private_id === "number" ? body.private_id : 0,
    });
    let wants = legacy ? sub.#resolve([{ feed: body.feed }]) : entries.flatMap((item) => {
      const entry = entryObject(item);
      check(entry, SUBSCRIBE_STREAM_FIELDS);
      check(entry, FEED_FIELD);
      return sub.#resolve([entry]);
    });
    // The legacy `offer_audio` / `offer_video` / `offer_data` (measured: not `audio`...).
    if (legacy) wants = wants.filter((w) => body[`offer_${w.stream.type}`] !== false);
    handle.webrtc.useAffinity(room.mediaKey);
    room.watchers.add(sub);
    try {
      await sub.#add(wants);
      const jsep = await sub.#offer();
      const data: JsonObject = { videoroom: "attached", room: room.id };
      const first = wants[0]?.member;
      if (legacy && first) {
        data.id = first.id;
        data.warning = "deprecated_api";
        if (first.display !== undefined) data.display = first.display;
      }
      data.streams = sub.#slots.json();
      return { subscriber: sub, data, jsep };
    } catch (e) {
      for (const slot of sub.#slots.list) await sub.#slots.detach(slot, false);
      sub.destroy();
      throw e;
    }
  }

  get left(): boolean {
    return this.#left;
  }

  /** Active (forwarded) streams, for admission control. */
  get forwarded(): number {
    return this.#slots.forwarded;
  }

  /** 428s for unknown feeds or mids; every stream of the feed when no mid is given. */
  #resolve(requests: readonly JsonObject[]): Want[] {
    const out: Want[] = [];
    for (const r of requests) {
      if (typeof r.feed !== "number") throw missing("feed");
      const member = this.room.members.get(r.feed);
      if (!member?.active) throw noSuchFeed(r.feed);
      const mid = typeof r.mid === "string" ? r.mid : undefined;
      const streams = member.streams.filter((s) => mid === undefined || s.mid === mid);
      if (mid !== undefined && streams.length === 0) {
        throw new PluginError(
          VIDEOROOM_ERROR.NO_SUCH_FEED,
          `No such mid '${mid}' in feed (${r.feed})`,
        );
      }
      for (const stream of streams) out.push({ member, stream });
    }
    return out;
  }

  /**
   * Forwards each new stream to a slot (reusing inactive ones), in the order asked; data goes
   * on the data m-line.
   */
  async #add(wants: readonly Want[]): Promise<number> {
    let data = 0;
    for (const w of wants) if (w.stream.type === "data" && this.#slots.attachData(w.member)) data++;
    const fresh = wants.filter((w, i) =>
      w.stream.type !== "data" &&
      !this.#slots.list.some((s) => s.feed === w.member && s.stream === w.stream) &&
      wants.findIndex((o) => o.member === w.member && o.stream === w.stream) === i
    );
    const total = this.room.forwardedStreams() + fresh.length;
    if (total > this.#maxStreams) {
      throw new PluginError(
        VIDEOROOM_ERROR.UNKNOWN,
        `Too many forwarded streams in room ${this.room.id} (max_streams_per_room is ${this.#maxStreams})`,
      );
    }
    for (const w of fresh) {
      if (this.#handle.signal.aborted) {
        throw new PluginError(VIDEOROOM_ERROR.UNKNOWN, "Handle gone");
      }
      await this.#slots.attach(w.member, w.stream, false);
    }
    return fresh.length + data;
  }

  /** Our offer: each fed m-line with its feed's codec only, the free ones `inactive`. */
  async #offer(iceRestart = false): Promise<Jsep> {
    const list = this.#slots.list;
    const codecs: Record<string, string> = {};
    for (const slot of list) if (slot.stream?.codec) codecs[slot.mid] = slot.stream.codec;
    const inactive = list.filter((s) => s.feed === undefined).map((s) => s.mid);
    const data = this.#slots.data;
    const offer = await this.#handle.webrtc.createOffer({
      ...(iceRestart ? { iceRestart } : {}),
      codecs,
      inactive,
      ...(data ? { data: true } : {}),
    });
    const sections = mediaSections(offer.sdp);
    for (const slot of list) {
      const at = sections.findIndex((s) => s.mid === slot.mid);
      if (at >= 0) slot.mindex = at;
    }
    const application = sections.find((s) => s.kind === "application");
    if (data && application) {
      Object.assign(data, { mid: application.mid, mindex: application.mindex });
    }
    this.#offered = new Set<{ ready: boolean }>(list.filter((s) => s.feed !== undefined));
    if (data && data.sources.length > 0) this.#offered.add(data);
    this.#awaitingAnswer = true;
    return offer;
  }

  /**
   * `start`: with the answer (applied by the core) the streams are ready; without one it
   * resumes after `pause`. A renegotiation held back meanwhile is offered right after.
   */
  async start(jsep: Jsep | undefined): Promise<{ data: JsonObject; follow: boolean }> {
    if (jsep?.type === "answer") {
      this.#awaitingAnswer = false;
      this.#answered = true;
      // The m-lines active in the offer answered, even those whose stream left meanwhile:
      // Janus 1.1.2 lists them ready: true in the offer that follows.
      for (const s of this.#offered) s.ready = true;
    }
    await this.#slots.setPaused(false);
    const follow = this.#pending && !this.#awaitingAnswer;
    if (follow) this.#pending = false;
    return { data: { videoroom: "event", room: this.room.id, started: "ok" }, follow };
  }

  /** `pause`: every forward to this PC stops until `start`. */
  async pause(): Promise<JsonObject> {
    await this.#slots.setPaused(true);
    return { videoroom: "event", room: this.room.id, paused: "ok" };
  }

  /** `configure`: per-mid `send` flags (also the legacy top-level `mid`), `restart`. */
  async configure(body: JsonObject): Promise<{ data: JsonObject; jsep?: Jsep }> {
    const entries = Array.isArray(body.streams)
      ? checkEach(body.streams, STREAM_FIELDS)
      : typeof body.mid === "string"
      ? [body]
      : [];
    const dataSlot = this.#slots.data;
    const isData = (mid: unknown) =>
      dataSlot !== undefined && dataSlot.mid !== "" && mid === dataSlot.mid;
    for (const e of entries) {
      if (typeof e.mid === "string" && !this.#slots.byMid(e.mid) && !isData(e.mid)) {
        throw new PluginError(
          VIDEOROOM_ERROR.NO_SUCH_FEED,
          `No such mid '${e.mid}' in subscription`,
        );
      }
    }
    for (const e of entries) {
      // The data m-line's `send` is read as each message is relayed.
      if (dataSlot && isData(e.mid) && typeof e.send === "boolean") dataSlot.send = e.send;
      const slot = typeof e.mid === "string" ? this.#slots.byMid(e.mid) : undefined;
      if (!slot || typeof e.send !== "boolean") continue;
      slot.send = e.send;
      await this.#slots.sync(slot);
    }
    const data: JsonObject = { videoroom: "event", room: this.room.id, configured: "ok" };
    if (body.restart === true) return { data, jsep: await this.#offer(true) };
    return { data };
  }

  /** `subscribe` / `unsubscribe` / `update`: the new layout and an offer (or `updating`). */
  async update(
    subscribe: readonly JsonObject[],
    unsubscribe: readonly JsonObject[],
  ): Promise<{ data: JsonObject; jsep?: Jsep }> {
    const wants = this.#resolve(subscribe);
    let changed = 0;
    for (const u of unsubscribe) {
      for (const slot of this.#slots.list) {
        if (!slot.feed || !slot.stream) continue;
        const hit = typeof u.sub_mid === "string"
          ? slot.mid === u.sub_mid
          : slot.feed.id === u.feed && (u.mid === undefined || slot.stream.mid === u.mid);
        if (!hit) continue;
        await this.#slots.detach(slot, slot.send);
        changed++;
      }
      // A publisher's data stops at once; the data m-line stays, so no new offer for it (as
      // the reference: `updated` alone when nothing else changed).
      for (const member of [...this.#slots.data?.sources ?? []]) {
        const stream = member.streams.find((st) => st.type === "data");
        const hit = typeof u.sub_mid === "string"
          ? this.#slots.data?.mid === u.sub_mid
          : member.id === u.feed && (u.mid === undefined || stream?.mid === u.mid);
        if (hit) this.#slots.detachData(member);
      }
    }
    changed += await this.#add(wants);
    if (this.#skippedUpdate) {
      this.#skippedUpdate = false;
      changed++;
    }
    // Nothing to change and nothing pending: the bare `updated` of the reference, no offer.
    if (changed === 0 && !this.#awaitingAnswer) {
      return { data: { videoroom: "updated", room: this.room.id } };
    }
    return await this.#renegotiate();
  }

  /** A new offer (or `updating` while one is unanswered); `by` tells event handlers of it. */
  async #renegotiate(by = this.#handle): Promise<{ data: JsonObject; jsep?: Jsep }> {
    if (this.#awaitingAnswer) {
      this.#pending = true;
      return { data: { videoroom: "updating", room: this.room.id } };
    }
    const jsep = await this.#offer();
    by.notifyEvent?.({
      event: "updated",
      room: this.room.id,
      streams: this.#slots.json(),
      private_id: this.#privateId,
    });
    return {
      data: { videoroom: "updated", room: this.room.id, streams: this.#slots.json() },
      jsep,
    };
  }

  /** The offer that was held back while an answer was awaited. */
  async followUp(): Promise<{ data: JsonObject; jsep?: Jsep }> {
    return await this.#renegotiate();
  }

  /** `switch`: new sources for existing m-lines, no renegotiation. */
  async switchFeeds(body: JsonObject): Promise<JsonObject> {
    const changes: { slot: Slot; member: Member; stream: FeedStream }[] = [];
    // As on the reference: an empty `streams` is the legacy form, whose missing feed is
    // "No such feed (0)"; an unknown `sub_mid`, another kind or codec is skipped, not refused.
    if (Array.isArray(body.streams) && body.streams.length > 0) {
      for (const e of checkEach(body.streams, STREAM_FIELDS)) {
        if (typeof e.feed !== "number") throw missing("feed");
        if (typeof e.mid !== "string") throw missing("mid");
        if (typeof e.sub_mid !== "string") throw missing("sub_mid");
        const [want] = this.#resolve([{ feed: e.feed, mid: e.mid }]);
        const slot = this.#slots.byMid(e.sub_mid);
        if (slot && want && slot.kind === want.stream.type && slot.codec === want.stream.codec) {
          changes.push({ slot, ...want });
        }
      }
    } else {
      const feed = typeof body.feed === "number" ? body.feed : 0;
      const wants = this.#resolve([{ feed }]);
      for (const slot of this.#slots.list) {
        const want = wants.find((w) =>
          w.stream.type === slot.kind && w.stream.codec === slot.codec
        );
        if (want && slot.feed) changes.push({ slot, ...want });
      }
    }
    let count = 0;
    for (const c of changes) {
      if (c.slot.feed === c.member && c.slot.stream === c.stream) continue;
      await this.#slots.switchTo(c.slot, c.member, c.stream, !this.#awaitingAnswer);
      count++;
    }
    return {
      videoroom: "event",
      switched: "ok",
      room: this.room.id,
      changes: count,
      streams: this.#slots.json(),
    };
  }

  /** A watched publisher is gone: its m-lines go inactive and a new offer follows. */
  async feedGone(
    member: Member,
    options: { update: boolean; by?: PluginHandle },
  ): Promise<void> {
    const hit = this.#slots.list.filter((slot) => slot.feed === member);
    // Its data stops; the data m-line stays, so that alone makes no new offer (measured).
    this.#slots.detachData(member);
    if (hit.length === 0) return;
    await Promise.all(hit.map((slot) => this.#slots.detach(slot, slot.send)));
    // The client may detach this handle meanwhile: no new offer then, which would make a
    // PeerConnection nobody closes. While an earlier offer is unanswered, the new one waits
    // for `start` (followUp) and, as on the reference, nothing is pushed meanwhile.
    if (!options.update || !this.#autoupdate) {
      this.#skippedUpdate = true;
      return;
    }
    if (!this.#live()) return;
    const r = await this.#renegotiate(options.by).catch(() => undefined);
    if (r?.jsep && this.#live()) this.#handle.pushEvent({ data: r.data, jsep: r.jsep });
  }

  /** Still subscribed, on a live handle with its PeerConnection. */
  #live(): boolean {
    return !this.#left && !this.#handle.signal.aborted && this.#handle.webrtc.active;
  }

  /** A data-channel message of a publisher we may relay data of. */
  relayData(member: Member, data: string | Uint8Array): void {
    if (!this.#left) this.#slots.relayData(member, data);
  }

  /** Moderation or the publisher's `send` changed: the slots fed by `member` follow. */
  streamsChanged(member: Member): void {
    for (const slot of this.#slots.list) {
      if (slot.feed === member) void this.#slots.sync(slot);
    }
  }

  /** `leave`: `left`, then the core's `hangup`. */
  leave(transaction: string): void {
    this.destroy();
    this.#handle.pushEvent({
      transaction,
      data: { videoroom: "event", room: this.room.id, left: "ok" },
    });
    if (this.#handle.webrtc.active) this.#handle.closePeer();
  }

  /** The room is gone; the PC stays up, as the reference leaves subscriber PCs alone. */
  roomDestroyed(): void {
    this.destroy();
  }

  /** The PC is gone: nothing is forwarded any more. */
  hangupMedia(): void {
    this.#slots.clear();
    this.#awaitingAnswer = false;
    this.#pending = false;
    this.#skippedUpdate = false;
  }

  /** Forgets every feed and leaves the room's subscriber list. */
  destroy(): void {
    this.#left = true;
    this.hangupMedia();
    this.room.watchers.delete(this);
  }

  takes(member: Member, mid: string, type: string): boolean {
    return this.#slots.takes(member, mid, type);
  }

  /** State for admin `handle_info`, as the reference's. */
  query(): JsonObject {
    return {
      type: "subscriber",
      room: this.room.id,
      private_id: this.#privateId,
      answered: this.#answered && !this.#awaitingAnswer,
      pending_offer: this.#pending,
      // ICE restarts are refused here, so none is ever pending.
      pending_restart: false,
      paused: this.#slots.paused,
      streams: this.#slots.json(),
    };
  }
}
