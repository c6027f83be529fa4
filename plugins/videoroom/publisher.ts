/**
 * A participant: a handle that joined a room as `ptype: "publisher"`. It may publish one
 * PeerConnection (the client offers, we answer `recvonly`); once that PC is up it is a feed
 * that subscribers can take.
 *
 * @module
 */
import { createLogger } from "../../core/log.ts";
import {
  type AudioLevelReport,
  type Jsep,
  type JsonObject,
  PluginError,
  type PluginHandle,
  type PluginWebRTC,
} from "../../core/plugin.ts";
import { DataRecorder } from "../_shared/data_recorder.ts";
import { DataForwarder } from "./data_forwarders.ts";
import { VIDEOROOM_ERROR } from "./errors.ts";
import { type ForwarderEntry, ForwarderSet } from "./forwarders.ts";
import { recordingPath } from "./recording.ts";
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
import { mediaSections } from "../_shared/media_lines.ts";
import { handlerStreamJson, readDescriptions, streamJson } from "./streams.ts";
import { TalkDetector } from "./talking.ts";

const log = createLogger("videoroom");

/** A publisher handle in a room. */
export class Publisher implements Member {
  readonly id: number;
  readonly privateId: number;
  readonly room: Room;
  readonly subscribers: Set<Watcher> = new Set();
  /** Plain RTP forwarders of our streams (`rtp_forward`); they end with the PeerConnection. */
  readonly forwarders: ForwarderSet = new ForwarderSet();
  #display: string | undefined;
  #handle: PluginHandle;
  #publishing = false;
  #active = false;
  #streams: FeedStream[] = [];
  #audioCodec: string | undefined;
  #videoCodec: string | undefined;
  #bitrate: number;
  #left = false;
  #kicked = false;
  /** The reference's `recording_active`, its `filename` base and the mids being recorded. */
  #recording = false;
  #recordingBase: string | undefined;
  /** The recording file of each recorded stream, by mid. */
  #recorded = new Map<string, string>();
  /** The last `audio-level-dBov-avg` told per audio mid (`audiolevel_event` rooms). */
  #levels = new Map<string, number>();
  /** The recording of our data stream (written here: the plugin gets the messages). */
  #dataRecorder: DataRecorder | undefined;
  /** Data forwarders by stream id (the audio/video ones live in the media worker). */
  #dataForwarders = new Map<number, DataForwarder>();
  /** The publisher's own `audio_active_packets` / `audio_level_average` (0: the room's). */
  #talkOverride = { packets: 0, average: 0 };
  #talk = new TalkDetector(() => ({
    packets: this.#talkOverride.packets || this.room.props.audio_active_packets,
    average: this.#talkOverride.average || this.room.props.audio_level_average,
  }));

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
    if (typeof body.record === "boolean") publisher.#recording = body.record;
    if (typeof body.filename === "string") publisher.#recordingBase = body.filename;
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

  /** `publish` on a publishing participant: 434, before anything else is checked. */
  checkCanPublish(): void {
    if (this.#publishing) {
      throw new PluginError(VIDEOROOM_ERROR.ALREADY_PUBLISHED, "Can't publish, already published");
    }
  }

  /** Whether it was kicked: its handle may not join again (the reference). */
  get wasKicked(): boolean {
    return this.#kicked;
  }
  /** Whether its audio is talking (`audiolevel_event` rooms; false elsewhere). */
  get talking(): boolean {
    return this.#talk.talking;
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
    if (talking && this.#streams.some((s) => s.type === "audio")) entry.talking = this.talking;
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
  ): Promise<{ fields: JsonObject; jsep?: Jsep }> {
    if (this.#left) throw new PluginError(VIDEOROOM_ERROR.NO_SUCH_ROOM, "No such room");
    if (jsep?.type !== "offer") this.#checkStreams(body.streams);
    if (typeof body.bitrate === "number") {
      this.#bitrate = body.bitrate;
      // Live too: REMB on rtp; the next answer's b=AS as well.
      if (this.webrtc.active) await this.webrtc.setBitrateCap(this.#bitrate);
    }
    if (typeof body.audio_active_packets === "number") {
      this.#talkOverride.packets = body.audio_active_packets;
    }
    if (typeof body.audio_level_average === "number") {
      this.#talkOverride.average = body.audio_level_average;
    }
    const display = typeof body.display === "string" ? body.display : undefined;
    const descriptions = readDescriptions(body.descriptions);
    if (display !== undefined && display !== this.#display) {
      this.#display = display;
      this.room.notify({ videoroom: "event", id: this.id, display }, this);
    }
    let described = false;
    for (const s of this.#streams) {
      const d = descriptions.get(s.mid);
      if (d === undefined || d === s.description) continue;
      s.description = d;
      described = true;
    }
    this.#applySend(body.streams);
    const recordingWas = this.#recording;
    this.#readRecording(body);
    if (jsep?.type !== "offer") {
      if (this.#recording !== recordingWas) await this.#recordingChanged();
      // New descriptions of a live feed are announced again to the others (the reference).
      if (described && this.#active) this.#announce(true);
      return { fields: {} };
    }
    const max = this.room.props.publishers;
    if (!this.#publishing && this.room.publishingCount(this) >= max) {
      throw new PluginError(
        VIDEOROOM_ERROR.PUBLISHERS_FULL,
        `Maximum number of publishers (${max}) already reached`,
      );
    }
    // The first of the room's codecs each m-line offers, as the reference picks; we only
    // receive. The engine answers so; the streams and their codecs are read from its answer.
    const codecs = {
      audio: body.audio === false ? [] : this.#codecs("audio", body.audiocodec),
      video: body.video === false ? [] : this.#codecs("video", body.videocodec),
    };
    this.webrtc.useAffinity(this.room.mediaKey);
    if (this.room.props.audiolevel_event) this.webrtc.onAudioLevel((r) => this.#level(r));
    let answer: Jsep;
    try {
      await this.webrtc.setBitrateCap(this.#bitrate);
      answer = await this.webrtc.acceptOffer(jsep, { codecs, direction: "recvonly" });
    } catch (e) {
      if (e instanceof PluginError) throw e;
      throw new PluginError(VIDEOROOM_ERROR.UNKNOWN, (e as Error).message);
    }
    if (this.#left) throw new PluginError(VIDEOROOM_ERROR.NO_SUCH_ROOM, "No such room");
    const previous = this.#streams;
    this.#streams = [];
    for (const s of mediaSections(answer.sdp)) {
      if (s.port === 0) continue;
      const type = s.kind === "application" ? "data" : s.kind;
      if (type !== "audio" && type !== "video" && type !== "data") continue;
      // A renegotiated stream keeps its object: subscriber slots and moderation point at it.
      const kept = previous.find((p) => p.mid === s.mid && p.type === type);
      const stream: FeedStream = kept ?? { type, mindex: s.mindex, mid: s.mid };
      stream.mindex = s.mindex;
      const description = descriptions.get(s.mid) ?? kept?.description;
      if (description !== undefined) stream.description = description;
      const codec = s.codec;
      delete stream.codec;
      if (type !== "data" && codec) stream.codec = codec;
      delete stream.fec;
      if (codec === "opus" && this.room.props.opus_fec) stream.fec = true;
      this.#streams.push(stream);
    }
    this.#audioCodec = this.#streams.find((s) => s.type === "audio")?.codec;
    this.#videoCodec = this.#streams.find((s) => s.type === "video")?.codec;
    this.#publishing = true;
    // Recording starts with the answer, as the reference's (its files exist before media).
    if (this.room.props.record || this.#recording) {
      this.#recording = true;
      await this.#startRecordings();
    }
    if (this.#active) this.#announce(true);
    const fields: JsonObject = {};
    if (this.#audioCodec) fields.audio_codec = this.#audioCodec;
    if (this.#videoCodec) fields.video_codec = this.#videoCodec;
    fields.streams = this.#streams.map((s) => streamJson(s, false));
    return { fields, jsep: answer };
  }

  /**
   * The `streams` entries of a `configure` as the reference refuses them, before anything is
   * applied: a mid we do not publish is 428; a missing mid is 430 unless the entry is alone
   * (then it is for every stream).
   */
  #checkStreams(raw: unknown): void {
    if (!Array.isArray(raw)) return;
    for (const entry of raw as { mid?: unknown }[]) {
      const mid = entry?.mid;
      if (typeof entry !== "object" || entry === null) continue;
      if (typeof mid === "string") {
        if (this.#streams.some((s) => s.mid === mid)) continue;
        throw new PluginError(VIDEOROOM_ERROR.NO_SUCH_FEED, `No such mid '${mid}' published`);
      }
      if (raw.length > 1) {
        throw new PluginError(
          VIDEOROOM_ERROR.INVALID_ELEMENT,
          "Invalid value (mid can't be null in a streams array)",
        );
      }
    }
  }

  /**
   * `record` / `filename` of a `configure`; in a `lock_record` room with a secret, only with
   * the right `secret` (else silently kept, as the reference).
   */
  #readRecording(body: JsonObject): void {
    const record = typeof body.record === "boolean" ? body.record : undefined;
    const filename = typeof body.filename === "string" ? body.filename : undefined;
    if (record === undefined && filename === undefined) return;
    const { lock_record, secret } = this.room.props;
    if (lock_record && secret !== undefined && body.secret !== secret) return;
    if (record !== undefined) this.#recording = record;
    if (filename !== undefined) this.#recordingBase = filename;
  }

  /** `enable_recording` of the room: every participant records, or stops. */
  async setRecording(record: boolean): Promise<void> {
    if (this.#recording === record) return;
    this.#recording = record;
    await this.#recordingChanged();
  }

  async #recordingChanged(): Promise<void> {
    if (!this.#recording) this.#stopRecordings();
    else if (this.#active) await this.#startRecordings();
  }

  /**
   * A recording per published stream not recorded yet (data as `text`, as the reference); a
   * file that cannot be made is logged and skipped (the reference answers nothing else either).
   */
  async #startRecordings(): Promise<void> {
    for (const s of this.#streams) {
      if (s.type === "data") {
        if (!this.#dataRecorder) this.#startDataRecording(s);
        continue;
      }
      if (!s.codec || this.#recorded.has(s.mid)) continue;
      const path = recordingPath({
        recDir: this.room.props.rec_dir,
        base: this.#recordingBase,
        room: this.room.id,
        user: this.id,
        type: s.type,
        mindex: s.mindex,
      });
      try {
        await this.webrtc.startRecording({
          mid: s.mid,
          path,
          codec: s.codec,
          ...(s.description !== undefined ? { description: s.description } : {}),
        });
        this.#recorded.set(s.mid, path);
      } catch (e) {
        log.warn(`Couldn't open a ${s.type} recording file for this publisher: ${String(e)}`);
      }
    }
  }

  #startDataRecording(s: FeedStream): void {
    const path = recordingPath({
      recDir: this.room.props.rec_dir,
      base: this.#recordingBase,
      room: this.room.id,
      user: this.id,
      type: "data",
      mindex: s.mindex,
    });
    try {
      this.#dataRecorder = new DataRecorder(path, {
        ...(s.description !== undefined ? { description: s.description } : {}),
      });
    } catch (e) {
      log.warn(`Couldn't open a data recording file for this publisher: ${String(e)}`);
    }
  }

  #stopRecordings(): void {
    for (const mid of this.#recorded.keys()) {
      void this.webrtc.stopRecording(mid).catch(() => {});
    }
    this.#recorded.clear();
    this.#dataRecorder?.close();
    this.#dataRecorder = undefined;
  }

  /**
   * A data-channel message of ours: to the subscribers of our data, each data forwarder, then
   * into the recording, as the reference does (not while our data stream is muted by
   * `moderate` or by our own `streams[].send: false`, measured: none of them gets it).
   */
  onData(data: string | Uint8Array): void {
    if (!this.#publishing || this.#left || data.length === 0) return;
    const stream = this.#streams.find((s) => s.type === "data");
    if (!stream || stream.moderated || stream.send === false) return;
    for (const w of this.subscribers) w.relayData(this, data);
    for (const f of this.#dataForwarders.values()) f.send(data);
    this.#dataRecorder?.write(data);
  }

  /** Starts one RTP/SRTP forwarder (`rtp_forward`); 499 when the media engine refuses. */
  async startForwarder(entry: ForwarderEntry): Promise<void> {
    if (entry.type === "data") {
      this.#dataForwarders.set(entry.streamId, await DataForwarder.open(entry.host, entry.port));
      return;
    }
    try {
      const started = await this.webrtc.rtpForward({
        id: String(entry.streamId),
        mid: entry.mid,
        host: entry.host,
        port: entry.port,
        ...(entry.ssrc ? { ssrc: entry.ssrc } : {}),
        ...(entry.pt ? { pt: entry.pt } : {}),
        ...(entry.srtp ? { srtp: entry.srtp } : {}),
        ...(entry.rtcpPort ? { rtcp: { remotePort: entry.rtcpPort & 0xffff } } : {}),
      });
      if (started.localRtcpPort) entry.localRtcpPort = started.localRtcpPort;
    } catch (e) {
      throw new PluginError(VIDEOROOM_ERROR.UNKNOWN, (e as Error).message);
    }
  }

  /** Stops one forwarder; false when it is not ours. */
  stopForwarder(streamId: number): boolean {
    if (!this.forwarders.entries.delete(streamId)) return false;
    const data = this.#dataForwarders.get(streamId);
    if (data) {
      data.close();
      this.#dataForwarders.delete(streamId);
      return true;
    }
    void this.webrtc.stopRtpForward(String(streamId)).catch(() => {});
    return true;
  }

  /** Whether recording is on (`recording_active`). */
  get recording(): boolean {
    return this.#recording;
  }

  #applySend(raw: unknown): void {
    if (!Array.isArray(raw)) return;
    let changed = false;
    for (const entry of raw as { mid?: unknown; send?: unknown }[]) {
      if (typeof entry?.send !== "boolean") continue;
      const all = entry.mid === undefined && raw.length === 1;
      for (const stream of this.#streams.filter((s) => all || s.mid === entry.mid)) {
        if ((stream.send ?? true) === entry.send) continue;
        stream.send = entry.send;
        changed = true;
      }
    }
    if (changed) { for (const w of this.subscribers) w.streamsChanged(this); }
  }

  /** A level report of our audio: `talking` / `stopped-talking` to everyone, us included. */
  #level(report: AudioLevelReport): void {
    if (!this.#active || this.#left) return;
    const stream = this.#streams.find((s) => s.type === "audio" && s.mid === report.mid);
    if (!stream) return;
    const change = this.#talk.feed(report);
    if (!change) return;
    this.#levels.set(stream.mid, Math.round(change.average));
    this.room.notify({
      videoroom: change.talking ? "talking" : "stopped-talking",
      room: this.room.id,
      id: this.id,
      mindex: stream.mindex,
      mid: stream.mid,
      "audio-level-dBov-avg": change.average,
    });
  }

  /**
   * The room's codecs for `kind`, or the one the publisher forces if the room has it; the
   * media engine answers the first of them it supports and the m-line offers.
   */
  #codecs(kind: "audio" | "video", forced: unknown): string[] {
    const room = codecList(
      kind === "audio" ? this.room.props.audiocodec : this.room.props.videocodec,
    );
    if (typeof forced === "string" && room.includes(forced.toLowerCase())) {
      return [forced.toLowerCase()];
    }
    return room;
  }

  /** The PC is up: this publisher becomes a feed and the others hear of it. */
  setupMedia(): void {
    if (!this.#publishing || this.#active || this.#left) return;
    this.#active = true;
    this.#announce(false);
  }

  /** The others hear of our feed; event handlers get `published` (or `updated`). */
  #announce(update: boolean): void {
    this.room.notify(
      { videoroom: "event", room: this.room.id, publishers: [this.feedEntry()] },
      this,
    );
    const info: JsonObject = {
      event: update ? "updated" : "published",
      room: this.room.id,
      id: this.id,
    };
    if (this.#display !== undefined) info.display = this.#display;
    info.streams = this.#streams.map(handlerStreamJson);
    this.#handle.notifyEvent?.(info);
  }

  /** `unpublished`, `leaving` or `kicked` for event handlers: no handle, as the reference's. */
  #tellGone(event: "unpublished" | "leaving" | "kicked"): void {
    this.#handle.notifyEvent?.({ event, room: this.room.id, id: this.id }, false);
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

  /**
   * `leave`: as on the reference, the others hear only `leaving`; subscribers' m-lines go
   * inactive with no new offer (their next renegotiation carries it), and the PeerConnection
   * stays until the client hangs up.
   */
  leave(transaction: string): void {
    if (this.#left) throw new PluginError(VIDEOROOM_ERROR.NO_SUCH_ROOM, "No such room");
    if (this.#publishing) this.#release({ update: false });
    this.#removeFromRoom();
    this.room.notify({ videoroom: "event", room: this.room.id, leaving: this.id });
    this.#tellGone("leaving");
    this.push({ videoroom: "event", room: this.room.id, leaving: "ok" }, transaction);
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
    this.#tellGone("leaving");
  }

  kicked(): void {
    if (this.#left) return;
    this.#kicked = true;
    this.push({ videoroom: "event", room: this.room.id, leaving: "ok", reason: "kicked" });
    if (this.#publishing) this.#release();
    this.#removeFromRoom();
    this.room.notify({ videoroom: "event", room: this.room.id, kicked: this.id });
    this.#tellGone("kicked");
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
    this.#tellGone("unpublished");
  }

  /** Stops being a feed: subscribers get an `updated` offer without our streams (or not). */
  #release(options: { update: boolean } = { update: true }): void {
    this.#publishing = false;
    this.#active = false;
    this.webrtc.onAudioLevel(undefined);
    this.#talk.reset();
    this.#stopRecordings();
    for (const id of [...this.forwarders.entries.keys()]) this.stopForwarder(id);
    const watchers = [...this.subscribers];
    this.subscribers.clear();
    // Their new offers are told to event handlers on our handle, as the reference's.
    const gone = { ...options, by: this.#handle };
    this.room.holdNotices(Promise.all(watchers.map((w) => w.feedGone(this, gone))));
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

  /** State for admin `handle_info`, as the reference's. */
  query(): JsonObject {
    const out: JsonObject = {
      type: "publisher",
      room: this.room.id,
      id: this.id,
      private_id: this.privateId,
    };
    if (this.#display !== undefined) out.display = this.#display;
    out.bitrate = this.#bitrate;
    const levels = this.room.props.audiolevel_ext;
    out.streams = this.#streams.map((s) => {
      const entry: JsonObject = { type: s.type, mindex: s.mindex, mid: s.mid };
      if (s.description !== undefined) entry.description = s.description;
      if (s.type !== "data" && s.codec !== undefined) entry.codec = s.codec;
      const recording = this.#recorded.get(s.mid);
      if (recording !== undefined) entry.recording = recording;
      if (s.type === "audio" && levels) {
        entry["audio-level-dBov"] = this.#levels.get(s.mid) ?? 0;
        entry.talking = this.talking;
      }
      entry.subscribers = [...this.subscribers].filter((w) => w.takes(this, s.mid, s.type))
        .length;
      return entry;
    });
    return out;
  }
}
