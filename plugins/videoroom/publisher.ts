/**
 * A participant: a handle that joined a room as `ptype: "publisher"`. It may publish one
 * PeerConnection (the client offers, we answer `recvonly`); once that PC is up it is a feed
 * that subscribers can take.
 *
 * @module
 */
import {
  type Jsep,
  type JsonObject,
  PluginError,
  type PluginHandle,
  type PluginWebRTC,
} from "../../core/plugin.ts";
import { VIDEOROOM_ERROR } from "./errors.ts";
import {
  codecList,
  type FeedStream,
  type Member,
  randomId,
  randomPrivateId,
  type Room,
  type Watcher,
} from "./room.ts";
import { check, PUBLISHER_JOIN_FIELDS } from "./schemas.ts";
import { answerRecvonly, mediaSections, pickCodecs } from "./sdp.ts";

/** Codecs the media engine can decode and re-encode (wrtc: no H264/H265). */
const ENGINE_CODECS = {
  audio: new Set(["opus", "g722", "pcmu", "pcma"]),
  video: new Set(["vp8", "vp9", "av1"]),
};

/** A publisher handle in a room. */
export class Publisher implements Member {
  readonly id: number;
  readonly privateId: number;
  readonly room: Room;
  readonly subscribers: Set<Watcher> = new Set();
  #display: string | undefined;
  #handle: PluginHandle;
  #publishing = false;
  #active = false;
  #streams: FeedStream[] = [];
  #audioCodec: string | undefined;
  #videoCodec: string | undefined;
  #bitrate: number;
  #left = false;

  private constructor(handle: PluginHandle, room: Room, id: number, display?: string) {
    this.#handle = handle;
    this.room = room;
    this.id = id;
    this.#display = display;
    this.privateId = randomPrivateId();
    this.#bitrate = room.props.bitrate;
  }

  /**
   * Joins `room` (pin and token already checked): 436 when `id` is taken. The others hear
   * `joining` when the room has `notify_joining`.
   *
   * @returns the participant and its `joined` event data
   */
  static join(
    handle: PluginHandle,
    room: Room,
    body: JsonObject,
  ): { publisher: Publisher; joined: JsonObject } {
    check(body, PUBLISHER_JOIN_FIELDS);
    let id = typeof body.id === "number" && body.id > 0 ? body.id : undefined;
    if (id !== undefined && room.members.has(id)) {
      throw new PluginError(VIDEOROOM_ERROR.ID_EXISTS, `User ID ${id} already exists`);
    }
    while (id === undefined || room.members.has(id)) id = randomId();
    const display = typeof body.display === "string" ? body.display : undefined;
    const publisher = new Publisher(handle, room, id, display);
    const others = [...room.members.values()];
    room.members.set(id, publisher);
    if (room.props.notify_joining) {
      const who: JsonObject = { id };
      if (display !== undefined) who.display = display;
      room.notify({ videoroom: "event", room: room.id, joining: who }, publisher);
    }
    const joined: JsonObject = {
      videoroom: "joined",
      room: room.id,
      description: room.props.description,
      id,
      private_id: publisher.privateId,
      publishers: others.filter((m) => m.active).map((m) => m.feedEntry({ talking: true })),
    };
    if (room.props.notify_joining) {
      joined.attendees = others.filter((m) => !m.active).map((m) => {
        const a: JsonObject = { id: m.id };
        if (m.display !== undefined) a.display = m.display;
        return a;
      });
    }
    return { publisher, joined };
  }

  get display(): string | undefined {
    return this.#display;
  }
  get publishing(): boolean {
    return this.#publishing;
  }
  get active(): boolean {
    return this.#active;
  }
  get left(): boolean {
    return this.#left;
  }
  get streams(): readonly FeedStream[] {
    return this.#streams;
  }
  get webrtc(): PluginWebRTC {
    return this.#handle.webrtc;
  }

  /** The `publishers` entry (with `talking` flags in `joined`, as the reference). */
  feedEntry(options: { talking?: boolean } = {}): JsonObject {
    const talking = options.talking === true && this.room.props.audiolevel_ext;
    const entry: JsonObject = { id: this.id };
    if (this.#display !== undefined) entry.display = this.#display;
    if (this.#audioCodec) entry.audio_codec = this.#audioCodec;
    if (this.#videoCodec) entry.video_codec = this.#videoCodec;
    entry.streams = this.#streams.map((s) => streamJson(s, talking));
    if (talking && this.#streams.some((s) => s.type === "audio")) entry.talking = false;
    return entry;
  }

  push(data: JsonObject, transaction?: string): void {
    this.#handle.pushEvent(transaction === undefined ? { data } : { transaction, data });
  }

  /**
   * `configure` / `publish` (and the publish half of `joinandconfigure`). With an offer it
   * publishes or renegotiates; without one it only updates settings.
   *
   * @returns the extra fields of the reply (`audio_codec`, `video_codec`, `streams`) and the answer
   */
  async configure(
    body: JsonObject,
    jsep: Jsep | undefined,
    request: string,
  ): Promise<{ fields: JsonObject; jsep?: Jsep }> {
    if (this.#left) throw new PluginError(VIDEOROOM_ERROR.NO_SUCH_ROOM, "No such room");
    if (typeof body.bitrate === "number") this.#bitrate = body.bitrate;
    const display = typeof body.display === "string" ? body.display : undefined;
    const descriptions = readDescriptions(body.descriptions);
    if (display !== undefined && display !== this.#display) {
      this.#display = display;
      this.room.notify({ videoroom: "event", id: this.id, display }, this);
    }
    for (const s of this.#streams) {
      const d = descriptions.get(s.mid);
      if (d !== undefined) s.description = d;
    }
    if (jsep?.type !== "offer") return { fields: {} };
    if (request === "publish" && this.#publishing && this.#active) {
      throw new PluginError(VIDEOROOM_ERROR.ALREADY_PUBLISHED, "Can't publish, already published");
    }
    const max = this.room.props.publishers;
    if (!this.#publishing && this.room.publishingCount(this) >= max) {
      throw new PluginError(
        VIDEOROOM_ERROR.PUBLISHERS_FULL,
        `Maximum number of publishers (${max}) already reached`,
      );
    }
    const allowed = {
      audio: body.audio === false ? [] : this.#codecs("audio", body.audiocodec),
      video: body.video === false ? [] : this.#codecs("video", body.videocodec),
    };
    const offer = pickCodecs(jsep.sdp, allowed);
    this.webrtc.useAffinity(this.room.mediaKey);
    let answer: Jsep;
    try {
      const cap = this.#bitrate > 0 ? { bitrateCap: this.#bitrate } : {};
      answer = await this.webrtc.acceptOffer({ type: "offer", sdp: offer.sdp }, cap);
    } catch (e) {
      if (e instanceof PluginError) throw e;
      throw new PluginError(VIDEOROOM_ERROR.UNKNOWN, (e as Error).message);
    }
    if (this.#left) throw new PluginError(VIDEOROOM_ERROR.NO_SUCH_ROOM, "No such room");
    this.#streams = [];
    for (const s of mediaSections(offer.sdp)) {
      if (s.port === 0) continue;
      const type = s.kind === "application" ? "data" : s.kind;
      if (type !== "audio" && type !== "video" && type !== "data") continue;
      const stream: FeedStream = { type, mindex: s.mindex, mid: s.mid };
      const description = descriptions.get(s.mid);
      if (description !== undefined) stream.description = description;
      const codec = offer.codecs[s.mindex];
      if (type !== "data" && codec) stream.codec = codec;
      if (codec === "opus" && this.room.props.opus_fec) stream.fec = true;
      this.#streams.push(stream);
    }
    this.#audioCodec = this.#streams.find((s) => s.type === "audio")?.codec;
    this.#videoCodec = this.#streams.find((s) => s.type === "video")?.codec;
    this.#publishing = true;
    if (this.#active) this.#announce();
    const fields: JsonObject = {};
    if (this.#audioCodec) fields.audio_codec = this.#audioCodec;
    if (this.#videoCodec) fields.video_codec = this.#videoCodec;
    fields.streams = this.#streams.map((s) => streamJson(s, false));
    return { fields, jsep: { type: "answer", sdp: answerRecvonly(answer.sdp) } };
  }

  #codecs(kind: "audio" | "video", forced: unknown): string[] {
    const room = codecList(
      kind === "audio" ? this.room.props.audiocodec : this.room.props.videocodec,
    )
      .filter((c) => ENGINE_CODECS[kind].has(c));
    if (typeof forced === "string" && room.includes(forced.toLowerCase())) {
      return [forced.toLowerCase()];
    }
    return room;
  }

  /** The PC is up: this publisher becomes a feed and the others hear of it. */
  setupMedia(): void {
    if (!this.#publishing || this.#active || this.#left) return;
    this.#active = true;
    this.#announce();
  }

  #announce(): void {
    this.room.notify(
      { videoroom: "event", room: this.room.id, publishers: [this.feedEntry()] },
      this,
    );
  }

  /** `unpublish`: 435 when nothing is published; else the reply, then core `hangup`. */
  unpublish(transaction: string): void {
    if (this.#left) throw new PluginError(VIDEOROOM_ERROR.NO_SUCH_ROOM, "No such room");
    if (!this.#publishing) {
      throw new PluginError(VIDEOROOM_ERROR.NOT_PUBLISHED, "Can't unpublish, not published");
    }
    this.#stopPublishing();
    this.push({ videoroom: "event", room: this.room.id, unpublished: "ok" }, transaction);
    // The reference announces it a second time when the PC is closed (measured).
    this.#notifyUnpublished();
    this.#handle.closePeer();
  }

  /** `leave`: unpublish, leave the room, then close the PC. */
  leave(transaction: string): void {
    if (this.#left) throw new PluginError(VIDEOROOM_ERROR.NO_SUCH_ROOM, "No such room");
    if (this.#publishing) this.#stopPublishing();
    this.#removeFromRoom();
    this.room.notify({ videoroom: "event", room: this.room.id, leaving: this.id });
    this.push({ videoroom: "event", room: this.room.id, leaving: "ok" }, transaction);
    if (this.webrtc.active) this.#handle.closePeer();
  }

  /** The PC went away (hangup, ICE failure, `unpublish` closing it). */
  hangupMedia(): void {
    if (this.#publishing) this.#stopPublishing();
  }

  /** The handle is detached: the others hear `unpublished` (twice, as measured) and `leaving`. */
  destroy(): void {
    if (this.#left) return;
    if (this.#publishing) this.#stopPublishing();
    else this.#notifyUnpublished();
    this.#notifyUnpublished();
    this.#removeFromRoom();
    this.room.notify({ videoroom: "event", room: this.room.id, leaving: this.id });
  }

  kicked(): void {
    if (this.#left) return;
    this.push({ videoroom: "event", room: this.room.id, leaving: "ok", reason: "kicked" });
    if (this.#publishing) this.#release();
    this.#removeFromRoom();
    this.room.notify({ videoroom: "event", room: this.room.id, kicked: this.id });
    if (this.webrtc.active) this.#handle.closePeer();
  }

  roomDestroyed(): void {
    this.#left = true;
    this.#publishing = false;
    this.#active = false;
    this.subscribers.clear();
    if (this.webrtc.active) this.#handle.closePeer();
  }

  #stopPublishing(): void {
    this.#release();
    this.#notifyUnpublished();
  }

  /** Stops being a feed: subscribers get an `updated` offer without our streams. */
  #release(): void {
    this.#publishing = false;
    this.#active = false;
    const watchers = [...this.subscribers];
    this.subscribers.clear();
    for (const w of watchers) w.feedGone(this);
    this.#streams = [];
    this.#audioCodec = undefined;
    this.#videoCodec = undefined;
  }

  #notifyUnpublished(): void {
    this.room.notify({ videoroom: "event", room: this.room.id, unpublished: this.id }, this);
  }

  #removeFromRoom(): void {
    this.#left = true;
    if (this.room.members.get(this.id) === this) this.room.members.delete(this.id);
  }

  /** State for admin `handle_info`. */
  query(): JsonObject {
    const out: JsonObject = { type: "publisher", room: this.room.id, id: this.id };
    if (this.#display !== undefined) out.display = this.#display;
    out.publishing = this.#publishing;
    out.active = this.#active;
    out.bitrate = this.#bitrate;
    out.subscribers = this.subscribers.size;
    return out;
  }
}

/** A publisher stream as events show it. */
function streamJson(s: FeedStream, talking: boolean): JsonObject {
  const out: JsonObject = { type: s.type, mindex: s.mindex, mid: s.mid };
  if (s.description !== undefined) out.description = s.description;
  if (s.codec !== undefined) out.codec = s.codec;
  if (s.fec) out.fec = true;
  if (s.moderated) out.moderated = true;
  if (talking && s.type === "audio") out.talking = false;
  return out;
}

function readDescriptions(raw: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (!Array.isArray(raw)) return out;
  for (const d of raw) {
    const entry = d as { mid?: unknown; description?: unknown };
    if (typeof entry?.mid === "string" && typeof entry.description === "string") {
      out.set(entry.mid, entry.description);
    }
  }
  return out;
}
