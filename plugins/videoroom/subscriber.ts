/**
 * A subscriber: a handle that joined as `ptype: "subscriber"` and receives streams of one or
 * more feeds on its own PeerConnection. We offer (`sendonly`), the client answers in `start`.
 *
 * The media engine forwards a publisher's received tracks per kind onto the subscriber's peer,
 * taking the first free sender of that kind or adding one; `#slots` mirrors that placement so
 * that each subscriber m-line (mid) is known to carry a given feed stream. Unsubscribed m-lines
 * stay, offered `inactive`, and are reused first (as the reference does).
 *
 * @module
 */
import { type Jsep, type JsonObject, PluginError, type PluginHandle } from "../../core/plugin.ts";
import { missing, noSuchFeed, unauthorized, VIDEOROOM_ERROR } from "./errors.ts";
import type { FeedStream, Member, Room, Watcher } from "./room.ts";
import { check, checkEach, STREAM_FIELDS, SUBSCRIBER_JOIN_FIELDS } from "./schemas.ts";
import { markInactive, mediaSections, pickCodecs } from "./sdp.ts";

type Kind = "audio" | "video";

/** One m-line of the subscriber PC. */
interface Slot {
  mindex: number;
  mid: string;
  kind: Kind;
  feed: Member | undefined;
  stream: FeedStream | undefined;
  send: boolean;
  ready: boolean;
}

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
  #slots: Slot[] = [];
  #awaitingAnswer = false;
  #pending = false;
  #paused = false;
  #autoupdate: boolean;
  #left = false;

  private constructor(handle: PluginHandle, room: Room, options: {
    maxStreams: number;
    autoupdate: boolean;
  }) {
    this.#handle = handle;
    this.room = room;
    this.#maxStreams = options.maxStreams;
    this.#autoupdate = options.autoupdate;
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
    const legacy = !Array.isArray(body.streams);
    let requests: JsonObject[];
    if (legacy) {
      if (typeof body.feed !== "number") throw missing("feed");
      requests = [{ feed: body.feed }];
    } else {
      requests = checkEach(body.streams as unknown[], STREAM_FIELDS);
      if (requests.length === 0) throw missing("feed");
    }
    const sub = new Subscriber(handle, room, {
      maxStreams: options.maxStreams,
      autoupdate: body.autoupdate !== false,
    });
    let wants = sub.#resolve(requests);
    if (legacy) {
      wants = wants.filter((w) =>
        (w.stream.type !== "audio" || body.audio !== false) &&
        (w.stream.type !== "video" || body.video !== false)
      );
    }
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
      data.streams = sub.#streamsJson();
      return { subscriber: sub, data, jsep };
    } catch (e) {
      sub.destroy();
      throw e;
    }
  }

  get left(): boolean {
    return this.#left;
  }

  /** Active (forwarded) streams, for admission control. */
  get forwarded(): number {
    return this.#slots.filter((s) => s.feed !== undefined).length;
  }

  /** 428s for unknown feeds or mids; every stream of the feed when no mid is given. */
  #resolve(requests: readonly JsonObject[]): Want[] {
    const out: Want[] = [];
    for (const r of requests) {
      if (typeof r.feed !== "number") throw missing("feed");
      const member = this.room.members.get(r.feed);
      if (!member?.active) throw noSuchFeed(r.feed);
      const mid = typeof r.mid === "string" ? r.mid : undefined;
      const streams = member.streams.filter((s) =>
        (s.type === "audio" || s.type === "video") && (mid === undefined || s.mid === mid)
      );
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

  /** Places new streams on slots (reusing inactive ones) and forwards their tracks. */
  async #add(wants: readonly Want[]): Promise<void> {
    const members: Member[] = [];
    for (const w of wants) if (!members.includes(w.member)) members.push(w.member);
    const before = this.#slots.length;
    const placed: Slot[] = [];
    for (const member of members) {
      // The engine forwards a member's tracks audio first, then video, in its m-line order.
      for (const kind of ["audio", "video"] as const) {
        if (!wants.some((w) => w.member === member && w.stream.type === kind)) continue;
        if (this.#slots.some((s) => s.feed === member && s.kind === kind)) continue;
        for (const stream of member.streams.filter((s) => s.type === kind)) {
          placed.push(this.#place(member, stream, kind));
        }
      }
    }
    const total = this.room.forwardedStreams();
    if (total > this.#maxStreams) {
      for (const slot of placed) this.#clear(slot, false);
      this.#slots.length = before;
      throw new PluginError(
        VIDEOROOM_ERROR.UNKNOWN,
        `Too many forwarded streams in room ${this.room.id} (max_streams_per_room is ${this.#maxStreams})`,
      );
    }
    for (const member of members) {
      member.subscribers.add(this);
      await this.#forward(member);
    }
  }

  #place(member: Member, stream: FeedStream, kind: Kind): Slot {
    let slot = this.#slots.find((s) => s.kind === kind && s.feed === undefined);
    if (!slot) {
      const mindex = this.#slots.length;
      slot = {
        mindex,
        mid: String(mindex),
        kind,
        feed: undefined,
        stream: undefined,
        send: true,
        ready: false,
      };
      this.#slots.push(slot);
    }
    slot.feed = member;
    slot.stream = stream;
    slot.send = true;
    slot.ready = false;
    return slot;
  }

  #clear(slot: Slot, send: boolean): void {
    slot.feed = undefined;
    slot.stream = undefined;
    slot.ready = false;
    slot.send = send;
  }

  /** Makes the engine's forwards from `member` match the slots that take it. */
  async #forward(member: Member): Promise<void> {
    const audio = this.#slots.some((s) => s.feed === member && s.kind === "audio");
    const video = this.#slots.some((s) => s.feed === member && s.kind === "video");
    if (!audio && !video) member.subscribers.delete(this);
    try {
      await member.webrtc.forwardTo(this.#handle.webrtc, { audio, video });
    } catch (e) {
      // A publisher whose PC is gone has nothing left to forward.
      if (audio || video) throw new PluginError(VIDEOROOM_ERROR.UNKNOWN, (e as Error).message);
    }
  }

  async #offer(iceRestart = false): Promise<Jsep> {
    const offer = await this.#handle.webrtc.createOffer(iceRestart ? { iceRestart } : {});
    const sections = mediaSections(offer.sdp);
    for (const slot of this.#slots) {
      const s = sections[slot.mindex];
      if (s) slot.mid = s.mid;
    }
    const idle = new Set(this.#slots.filter((s) => s.feed === undefined).map((s) => s.mindex));
    this.#awaitingAnswer = true;
    const codecs = new Map<number, string>();
    for (const slot of this.#slots) {
      if (slot.stream?.codec) codecs.set(slot.mindex, slot.stream.codec);
    }
    const narrowed = pickCodecs(offer.sdp, { audio: [], video: [] }, codecs).sdp;
    return { type: "offer", sdp: markInactive(narrowed, idle) };
  }

  #streamsJson(): JsonObject[] {
    return this.#slots.map((s) => {
      const out: JsonObject = {
        type: s.kind,
        active: s.feed !== undefined,
        mindex: s.mindex,
        mid: s.mid,
      };
      out.ready = s.ready;
      out.send = s.send;
      if (s.feed && s.stream) {
        out.feed_id = s.feed.id;
        if (s.feed.display !== undefined) out.feed_display = s.feed.display;
        out.feed_mid = s.stream.mid;
        if (s.stream.description !== undefined) out.feed_description = s.stream.description;
        if (s.stream.codec !== undefined) out.codec = s.stream.codec;
      }
      return out;
    });
  }

  /**
   * `start`: with the answer (applied by the core) the streams are ready; without one it
   * resumes after `pause`. A renegotiation held back meanwhile is offered right after.
   */
  start(jsep: Jsep | undefined): { data: JsonObject; follow: boolean } {
    this.#paused = false;
    if (jsep?.type === "answer") {
      this.#awaitingAnswer = false;
      for (const s of this.#slots) s.ready = s.feed !== undefined;
    }
    const follow = this.#pending && !this.#awaitingAnswer;
    if (follow) this.#pending = false;
    return { data: { videoroom: "event", room: this.room.id, started: "ok" }, follow };
  }

  /** `pause` (signalling only: the engine has no per-sender pause yet). */
  pause(): JsonObject {
    this.#paused = true;
    return { videoroom: "event", room: this.room.id, paused: "ok" };
  }

  /** `configure`: per-mid `send` flags (also the legacy top-level `mid`), `restart`. */
  async configure(body: JsonObject): Promise<{ data: JsonObject; jsep?: Jsep }> {
    const entries = Array.isArray(body.streams)
      ? checkEach(body.streams, STREAM_FIELDS)
      : typeof body.mid === "string"
      ? [body]
      : [];
    for (const e of entries) {
      const slot = this.#slots.find((s) => s.mid === e.mid);
      if (slot && typeof e.send === "boolean") slot.send = e.send;
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
    const touched = new Set<Member>();
    for (const u of unsubscribe) {
      for (const slot of this.#slots) {
        if (!slot.feed || !slot.stream) continue;
        const hit = typeof u.sub_mid === "string"
          ? slot.mid === u.sub_mid
          : slot.feed.id === u.feed && (u.mid === undefined || slot.stream.mid === u.mid);
        if (!hit) continue;
        touched.add(slot.feed);
        this.#clear(slot, false);
      }
    }
    for (const member of touched) await this.#forward(member);
    await this.#add(wants);
    return await this.#renegotiate();
  }

  async #renegotiate(): Promise<{ data: JsonObject; jsep?: Jsep }> {
    if (this.#awaitingAnswer) {
      this.#pending = true;
      return { data: { videoroom: "updating", room: this.room.id } };
    }
    const jsep = await this.#offer();
    return {
      data: { videoroom: "updated", room: this.room.id, streams: this.#streamsJson() },
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
    if (Array.isArray(body.streams)) {
      for (const e of checkEach(body.streams, STREAM_FIELDS)) {
        if (typeof e.feed !== "number") throw missing("feed");
        if (typeof e.mid !== "string") throw missing("mid");
        if (typeof e.sub_mid !== "string") throw missing("sub_mid");
        const [want] = this.#resolve([{ feed: e.feed, mid: e.mid }]);
        const slot = this.#slots.find((s) => s.mid === e.sub_mid);
        if (!slot) {
          throw new PluginError(
            VIDEOROOM_ERROR.NO_SUCH_FEED,
            `No such subscription (${e.sub_mid})`,
          );
        }
        if (want && slot.kind === want.stream.type) changes.push({ slot, ...want });
      }
    } else {
      if (typeof body.feed !== "number") throw missing("feed");
      const wants = this.#resolve([{ feed: body.feed }]);
      for (const slot of this.#slots) {
        const want = wants.find((w) => w.stream.type === slot.kind);
        if (want && slot.feed) changes.push({ slot, ...want });
      }
    }
    let count = 0;
    const old = new Set<Member>();
    for (const c of changes) {
      if (c.slot.feed === c.member && c.slot.stream === c.stream) continue;
      if (c.slot.feed) old.add(c.slot.feed);
      c.slot.feed = undefined;
      count++;
    }
    for (const member of old) await this.#forward(member);
    for (const c of changes) {
      if (c.slot.feed !== undefined) continue;
      c.slot.feed = c.member;
      c.slot.stream = c.stream;
      c.slot.ready = !this.#awaitingAnswer;
      c.member.subscribers.add(this);
    }
    for (const member of new Set(changes.map((c) => c.member))) await this.#forward(member);
    return {
      videoroom: "event",
      switched: "ok",
      room: this.room.id,
      changes: count,
      streams: this.#streamsJson(),
    };
  }

  /** A watched publisher is gone: its m-lines go inactive and a new offer follows. */
  feedGone(member: Member): void {
    let hit = false;
    for (const slot of this.#slots) {
      if (slot.feed !== member) continue;
      this.#clear(slot, slot.send);
      hit = true;
    }
    if (!hit || this.#left || !this.#autoupdate || !this.#handle.webrtc.active) return;
    void member.webrtc.forwardTo(this.#handle.webrtc, { audio: false, video: false }).catch(
      () => {},
    ).then(() => this.#renegotiate()).then(
      (r) => this.#handle.pushEvent(r.jsep ? { data: r.data, jsep: r.jsep } : { data: r.data }),
      () => {},
    );
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
    for (const slot of this.#slots) slot.feed?.subscribers.delete(this);
    this.#slots = [];
    this.#awaitingAnswer = false;
    this.#pending = false;
  }

  /** Forgets every feed and leaves the room's subscriber list. */
  destroy(): void {
    this.#left = true;
    this.hangupMedia();
    this.room.watchers.delete(this);
  }

  /** State for admin `handle_info`. */
  query(): JsonObject {
    return {
      type: "subscriber",
      room: this.room.id,
      paused: this.#paused,
      streams: this.#streamsJson(),
    };
  }
}
