/**
 * One AudioBridge handle: `join`, `configure`, `changeroom`, `leave` and `hangup` (one at a time,
 * answered by events), the client's offers (with `join` or `configure`), the mixer membership
 * of its PeerConnection and talking detection, in the reference's shapes and order.
 *
 * Unlike the reference (which crashes there), an offer on a handle that is in no room, e.g.
 * after a hangup, is refused with 487.
 *
 * @module
 */
import { createLogger } from "../../core/log.ts";
import {
  type AudioLevelReport,
  type EncoderSettings,
  type Jsep,
  type JsonObject,
  PluginError,
  type PluginEvent,
  type PluginHandle,
  type PluginMessage,
  type PluginReply,
  type PluginSession,
  type PluginWebRTC,
  type RoomMixer,
  type RtpLevel,
} from "../../core/plugin.ts";
import { liveMediaLines } from "../_shared/media_lines.ts";
import { TalkDetector } from "../videoroom/talking.ts";
import { AUDIOBRIDGE_ERROR, groupOf, notJoined } from "./errors.ts";
import { ParticipantRecording, peerSink, type RecordingSink, rtpSink } from "./mjr_recording.ts";
import { Participant, type ParticipantSession } from "./participant.ts";
import { answerRequest, type AudioBridgeContext, SYNC_REQUESTS } from "./requests.ts";
import { participantEntry, randomId, type Room } from "./room.ts";
import { MIXER_AFFINITY, type RoomMedia } from "./room_media.ts";
import {
  check,
  checkSecret,
  ID_OPTIONAL,
  JOIN_FIELDS,
  REQUEST_FIELD,
  ROOM_FIELD,
} from "./schemas.ts";
import { CONFIGURE_FIELDS } from "./schemas.ts";

const log = createLogger("audiobridge");

/** Requests answered with `ack` and a later event. */
const ASYNC_REQUESTS: ReadonlySet<string> = new Set([
  "join",
  "configure",
  "changeroom",
  "leave",
  "hangup",
]);

const AUDIO_LEVEL_EXT = /^a=extmap:\d+(\/\w+)? urn:ietf:params:rtp-hdrext:ssrc-audio-level/m;

/** What every session shares. */
export interface Shared {
  ctx: AudioBridgeContext;
  sessions: Set<AudioBridgeSession>;
}

/** One handle attached to the AudioBridge. */
export class AudioBridgeSession implements PluginSession, ParticipantSession {
  participant: Participant | undefined;
  started = false;
  /** The last audio level heard (dBov), in `audiolevel_event` rooms. */
  #lastLevel = 0;
  readonly #handle: PluginHandle;
  readonly #shared: Shared;
  #queue: Promise<unknown> = Promise.resolve();
  #mixing: Promise<void> = Promise.resolve();
  /** The audio m-line of the PeerConnection, once an offer was answered. */
  #audioMid: string | undefined;
  #levelsInSdp = false;
  /** The mixer the PeerConnection is in. */
  #mixer: string | undefined;
  #listening = false;
  /** How it joined with plain RTP (no PeerConnection), while it is in a room. */
  #plainRtp: PlainRtp | undefined;
  /** The mixer its RTP socket is in, and the socket's port. */
  #rtpMixer: RoomMixer | undefined;
  #rtpPort = 0;
  /** The room media whose mixer reports this plain-RTP participant's levels. */
  #levelsFrom: RoomMedia | undefined;
  #talk: TalkDetector;
  #destroyed = false;
  /** Its own audio recorded to an MJR file (`record`, the room's `mjrs`). */
  readonly #recording = new ParticipantRecording();

  constructor(handle: PluginHandle, shared: Shared) {
    this.#handle = handle;
    this.#shared = shared;
    this.#talk = new TalkDetector(() => {
      const p = this.participant;
      const room = p?.room.props;
      return {
        packets: p?.activePackets || room?.audio_active_packets || 100,
        average: p?.levelAverage || room?.audio_level_average || 25,
      };
    });
  }

  get mixingWebrtc(): PluginWebRTC | undefined {
    const p = this.participant;
    const webrtc = this.#handle.webrtc;
    return p && this.#mixer === p.room.mixerKey && webrtc.active ? webrtc : undefined;
  }

  get plainRtp(): boolean {
    return this.#plainRtp !== undefined;
  }

  get measured(): boolean {
    const room = this.participant?.room;
    // A plain-RTP participant's levels come in its packets when it named the extension's id.
    if (this.#plainRtp) return this.#plainRtp.levelExt > 0;
    return this.#audioMid !== undefined && this.#levelsInSdp && room?.props.audiolevel_ext === true;
  }

  async handleMessage(message: PluginMessage): Promise<PluginReply> {
    const { body, jsep } = message;
    check(body, REQUEST_FIELD);
    const request = (body.request as string).toLowerCase();
    if (SYNC_REQUESTS.has(request)) {
      const caller = {
        inRoom: this.participant !== undefined,
        notify: (data: JsonObject) => this.#notify(data),
      };
      return {
        kind: "success",
        data: await answerRequest(this.#shared.ctx, request, body, caller),
      };
    }
    if (!ASYNC_REQUESTS.has(request)) {
      throw new PluginError(
        AUDIOBRIDGE_ERROR.INVALID_REQUEST,
        `Unknown request '${body.request as string}'`,
      );
    }
    const pending = this.#queue.then(() => this.#handleAsync(request, body, jsep));
    this.#queue = pending.catch(() => {});
    return { kind: "ack", event: pending };
  }

  async #handleAsync(request: string, body: JsonObject, jsep?: Jsep): Promise<PluginEvent> {
    if (this.#destroyed) return { data: { audiobridge: "event" } };
    let data: JsonObject;
    switch (request) {
      case "join": {
        // A plain-RTP socket is bound before the participant is in (and hears of the room),
        // so that `joined` is its first event and tells where to send (the reference).
        const bound = await this.#bindPlainRtp(body, jsep !== undefined);
        try {
          data = this.#join(body, jsep !== undefined, bound);
        } catch (e) {
          await bound?.mixer.rtp({ op: "leave", id: String(this.#handle.id) }).catch(() => {});
          throw e;
        }
        const rtp = this.#plainRtp;
        if (rtp && this.#rtpPort > 0) {
          data.rtp = {
            ip: this.#shared.ctx.plainRtp.ip,
            port: this.#rtpPort,
            payload_type: rtp.payloadType,
          };
        }
        break;
      }
      case "configure":
        data = this.#configure(body);
        break;
      case "changeroom":
        data = this.#changeRoom(body);
        break;
      case "leave":
        data = this.#leave();
        break;
      default:
        data = { audiobridge: "hangingup" };
        // After the event is out, as the reference's close_pc.
        if (this.#plainRtp) queueMicrotask(() => !this.#destroyed && this.hangupMedia());
        else if (this.#handle.webrtc.active) {
          queueMicrotask(() => !this.#destroyed && this.#handle.closePeer());
        }
    }
    if (!jsep) {
      // A recording started or stopped by it is so when its event goes (the reference's).
      await this.#mixing;
      return { data };
    }
    return { data, jsep: await this.#negotiate(jsep) };
  }

  /**
   * For a `join` with `rtp` and no offer, after the checks the reference makes first (fields,
   * room, `allow_rtp_participants`): its socket, bound muted in the room's mixer (undefined
   * without a mixer, or when it could not be bound: logged, and `joined` has no `rtp`).
   */
  async #bindPlainRtp(
    body: JsonObject,
    withSdp: boolean,
  ): Promise<{ mixer: RoomMixer; port: number; rtp: PlainRtp } | undefined> {
    if (withSdp || body.rtp === undefined || this.participant) return undefined;
    check(body, JOIN_FIELDS);
    check(body, ROOM_FIELD);
    check(body, ID_OPTIONAL);
    const room = this.#shared.ctx.rooms.get(body.room as number);
    if (!room.props.allow_rtp_participants) return undefined;
    const rtp = plainRtpOf(body.rtp as JsonObject, (body.codec as string | undefined) ?? "opus");
    const mixer = await room.media.mixer();
    if (!mixer) return undefined;
    const { ip, portRange } = this.#shared.ctx.plainRtp;
    try {
      const port = await mixer.rtp({
        op: "join",
        id: String(this.#handle.id),
        ip,
        portRange,
        ...(rtp.remote ? { remote: rtp.remote } : {}),
        codec: rtp.codec,
        payloadType: rtp.payloadType,
        ...(rtp.levelExt > 0 ? { levelExt: rtp.levelExt } : {}),
        gain: 1,
        muted: true,
      });
      return { mixer, port, rtp };
    } catch (e) {
      log.warn(`[${this.#handle.id}] plain RTP: ${(e as Error).message}`);
      return undefined;
    }
  }

  #join(
    body: JsonObject,
    withSdp: boolean,
    bound?: { mixer: RoomMixer; port: number; rtp: PlainRtp },
  ): JsonObject {
    if (this.participant) {
      throw new PluginError(
        AUDIOBRIDGE_ERROR.ALREADY_JOINED,
        "Already in a room (use changeroom to join another one)",
      );
    }
    check(body, JOIN_FIELDS);
    check(body, ROOM_FIELD);
    check(body, ID_OPTIONAL);
    const room = this.#shared.ctx.rooms.get(body.room as number);
    // With an offer, `rtp` is ignored (the reference).
    const rtp = withSdp ? undefined : body.rtp as JsonObject | undefined;
    if (rtp !== undefined && !room.props.allow_rtp_participants) {
      throw new PluginError(
        AUDIOBRIDGE_ERROR.UNAUTHORIZED,
        "Plain RTP participants not allowed in this room",
      );
    }
    const admin = this.#admit(room, body);
    const group = groupOf(room.props.groups, body.group);
    const id = this.#newId(room, body);
    const p = new Participant(id, room, {
      group,
      display: body.display as string | undefined,
      muted: body.muted === true,
      volume: (body.volume as number | undefined) ?? 100,
      admin,
      codec: (body.codec as string | undefined) ?? "opus",
      bitrate: bitrateOf(body.bitrate, room.props.default_bitrate),
      quality: (body.quality as number | undefined) ?? DEFAULT_QUALITY,
      expectedLoss: (body.expected_loss as number | undefined) ?? room.props.default_expectedloss,
      activePackets: (body.audio_active_packets as number | undefined) ?? 0,
      levelAverage: (body.audio_level_average as number | undefined) ?? 0,
      spatialPosition: room.props.spatial_audio ? positionOf(body.spatial_position, 50) : 50,
      // Over the reference's 50, the room's default (as it does, with a warning).
      prebuffer: typeof body.prebuffer === "number" && body.prebuffer <= MAX_PREBUFFERING
        ? body.prebuffer
        : room.props.default_prebuffering,
    }, this);
    const others = [...room.participants.values()];
    room.participants.set(id, p);
    this.participant = p;
    if (rtp) {
      p.fec = p.codec === "opus" && rtp.fec === true;
      this.#plainRtp = bound?.rtp ?? plainRtpOf(rtp, p.codec);
      if (bound) {
        this.#rtpMixer = bound.mixer;
        this.#rtpPort = bound.port;
      }
    }
    room.notify({
      audiobridge: "joined",
      room: room.id,
      participants: [participantEntry(p, room, false)],
    }, p);
    this.#notify({ event: "joined", ...this.#told(p), setup: this.started, muted: p.muted });
    this.#readRecording(body, room.props.mjrs);
    this.#mediaChanged();
    return {
      audiobridge: "joined",
      room: room.id,
      id,
      participants: others.map((m) => participantEntry(m, room)),
    };
  }

  /** Pin, token and tuning checks of `join`/`changeroom`; true for an admin (room secret). */
  #admit(room: Room, body: JsonObject): boolean {
    checkSecret(room.props.pin, body, "pin");
    if (room.checkTokens) {
      const token = body.token;
      if (typeof token !== "string" || !room.allowed.has(token)) {
        throw new PluginError(
          AUDIOBRIDGE_ERROR.UNAUTHORIZED,
          "Unauthorized (not in the allowed list)",
        );
      }
    }
    let admin = false;
    if (body.secret !== undefined) {
      checkSecret(room.props.secret, body, "secret");
      admin = true;
    }
    checkTuning(body);
    if (room.participants.size >= this.#shared.ctx.maxParticipants) {
      throw new PluginError(
        AUDIOBRIDGE_ERROR.UNKNOWN,
        `Too many participants (max ${this.#shared.ctx.maxParticipants})`,
      );
    }
    return admin;
  }

  /** The requested id (490 when taken) or a random free one. */
  #newId(room: Room, body: JsonObject): number {
    const requested = body.id as number | undefined;
    if (requested !== undefined && requested > 0) {
      if (room.participants.has(requested)) {
        throw new PluginError(AUDIOBRIDGE_ERROR.ID_EXISTS, `User ID ${requested} already exists`);
      }
      return requested;
    }
    for (;;) {
      const id = randomId();
      if (!room.participants.has(id)) return id;
    }
  }

  #configure(body: JsonObject): JsonObject {
    const p = this.participant;
    if (!p) throw notJoined("Can't configure (not in a room)");
    check(body, CONFIGURE_FIELDS);
    checkTuning(body);
    // A room without groups ignores `group`; a room with them needs a known one.
    const group = body.group === undefined ? p.group : groupOf(p.room.props.groups, body.group);
    if (group !== p.group) p.group = group;
    if (body.volume !== undefined) p.volume = body.volume as number;
    if (body.bitrate !== undefined) p.bitrate = bitrateOf(body.bitrate, 0);
    if (body.quality !== undefined) p.quality = body.quality as number;
    if (body.expected_loss !== undefined) p.expectedLoss = body.expected_loss as number;
    // Over the reference's 50 the previous value stays.
    if (typeof body.prebuffer === "number" && body.prebuffer <= MAX_PREBUFFERING) {
      p.prebuffer = body.prebuffer;
    }
    let changed = false;
    if (body.muted !== undefined) {
      p.muted = body.muted === true;
      changed = true;
    }
    if (body.display !== undefined) {
      p.display = body.display as string;
      changed = true;
    }
    if (body.spatial_position !== undefined && p.room.props.spatial_audio) {
      p.spatialPosition = positionOf(body.spatial_position, 50);
      changed = true;
    }
    this.#readRecording(body, false);
    if (changed) {
      p.room.notify({
        audiobridge: "event",
        room: p.room.id,
        participants: [participantEntry(p, p.room, false)],
      }, p);
    }
    this.updateMix();
    this.#notify({
      event: "configured",
      ...this.#told(p),
      muted: p.muted,
      ...(p.bitrate > 0 ? { bitrate: p.bitrate } : {}),
      quality: p.quality,
    });
    return { audiobridge: "event", result: "ok" };
  }

  #changeRoom(body: JsonObject): JsonObject {
    const p = this.participant;
    if (!p) throw notJoined("Can't change room (not in a room in the first place)");
    check(body, JOIN_FIELDS);
    check(body, ROOM_FIELD);
    check(body, ID_OPTIONAL);
    if (body.room === p.room.id) {
      throw new PluginError(AUDIOBRIDGE_ERROR.ALREADY_JOINED, "Already in this room");
    }
    const room = this.#shared.ctx.rooms.get(body.room as number);
    const admin = this.#admit(room, body);
    const group = groupOf(room.props.groups, body.group);
    const id = this.#newId(room, body);
    this.#leaveRoom(p, true);
    // A new room needs a new recording, asked for with a configure (the reference).
    this.#recording.want(false);
    p.group = group;
    // The id is not kept: a new one unless `id` is given (the reference).
    p.id = id;
    p.room = room;
    p.admin = admin;
    p.talking = false;
    if (body.display !== undefined) p.display = body.display as string;
    if (body.muted !== undefined) p.muted = body.muted === true;
    // The reference's changeroom defaults to 64, not join's 50.
    p.spatialPosition = positionOf(body.spatial_position, 64);
    p.expectedLoss = (body.expected_loss as number | undefined) ??
      room.props.default_expectedloss;
    const others = [...room.participants.values()];
    room.participants.set(id, p);
    this.participant = p;
    room.notify({
      audiobridge: "joined",
      room: room.id,
      participants: [participantEntry(p, room, false)],
    }, p);
    this.#notify({ event: "joined", ...this.#told(p), muted: p.muted });
    this.#mediaChanged();
    return {
      audiobridge: "roomchanged",
      room: room.id,
      id,
      participants: others.map((m) => participantEntry(m, room)),
    };
  }

  #leave(): JsonObject {
    const p = this.participant;
    if (!p) throw notJoined("Can't leave (not in a room)");
    this.#leaveRoom(p, true);
    this.participant = undefined;
    this.#plainRtp = undefined;
    this.#recording.want(false);
    // The PeerConnection stays: a later join needs no renegotiation.
    this.#mediaChanged();
    return { audiobridge: "left", room: p.room.id, id: p.id };
  }

  /**
   * Takes `p` out of its room; the others hear `leaving`, event handlers `left`: from this
   * handle for `leave`/`changeroom`, from no handle when the PeerConnection or handle went (the
   * reference's hangup_media).
   */
  #leaveRoom(p: Participant, requested = false): void {
    const room = p.room;
    if (room.participants.get(p.id) !== p) return;
    room.participants.delete(p.id);
    room.notify({ audiobridge: "event", room: room.id, leaving: p.id });
    this.#notify({ event: "left", ...this.#told(p) }, requested);
    this.#talk.reset();
    p.talking = false;
    // The room's mixer may be let go (nothing else wanted of it).
    room.media.settle();
  }

  /** Applies a client offer: the answer, then the mixer and talking detection. */
  async #negotiate(jsep: Jsep): Promise<Jsep> {
    if (jsep.type !== "offer") {
      throw new PluginError(
        AUDIOBRIDGE_ERROR.INVALID_SDP,
        "Received an answer when we didn't send an offer",
      );
    }
    const p = this.participant;
    if (!p) throw notJoined("Can't handle SDP (not in a room)");
    const webrtc = this.#handle.webrtc;
    // Every room's mixer and peer share one media worker: changeroom keeps the PeerConnection.
    if (!webrtc.active) webrtc.useAffinity(MIXER_AFFINITY);
    let answer: Jsep;
    try {
      // Audio only: a video m-line is rejected, audio kept (the reference), whose Opus fmtp
      // asks the client for no wider a band than the room's rate (maxplaybackrate).
      answer = await webrtc.acceptOffer(jsep, {
        codecs: { audio: [p.codec], video: [] },
        opusMaxPlaybackRate: p.room.props.sampling_rate,
      });
    } catch (e) {
      if (e instanceof PluginError) throw e;
      throw new PluginError(AUDIOBRIDGE_ERROR.INVALID_SDP, (e as Error).message);
    }
    // Opus with in-band FEC offered: decoded and sent with it from now on (the reference).
    if (p.codec === "opus" && /useinbandfec=1/.test(jsep.sdp)) p.fec = true;
    // A spatial room sends stereo, and says so in the answer (the reference's fmtp).
    if (p.room.props.spatial_audio) answer = { ...answer, sdp: withOpusStereo(answer.sdp) };
    this.#audioMid = liveMediaLines(answer.sdp).find((l) => l.kind === "audio")?.mid;
    this.#levelsInSdp = AUDIO_LEVEL_EXT.test(answer.sdp);
    // A renegotiation may change the m-lines: the mixer is joined again.
    this.#mixer = undefined;
    this.#mediaChanged();
    return answer;
  }

  /** Room or PeerConnection changed: mixer membership and talking detection follow. */
  #mediaChanged(): void {
    this.updateMix();
    const p = this.participant;
    const listen = p !== undefined && p.room.props.audiolevel_event && this.measured;
    if (listen === this.#listening) return;
    this.#listening = listen;
    this.#talk.reset();
    this.#handle.webrtc.onAudioLevel(listen ? (r) => this.#onLevel(r) : undefined);
  }

  #onLevel(report: AudioLevelReport): void {
    if (report.mid === this.#audioMid) this.#talked(report);
  }

  /** A plain-RTP participant's levels (its packets' RFC 6464 extension), as a peer's. */
  #onRtpLevel(level: RtpLevel): void {
    if (this.participant?.room.props.audiolevel_event && this.#plainRtp) {
      this.#talked({ mid: "", level: level.level, packets: level.packets });
    }
  }

  /** Feeds talking detection; a change is told to event handlers and the room. */
  #talked(report: AudioLevelReport): void {
    const p = this.participant;
    if (!p) return;
    this.#lastLevel = Math.round(report.level);
    const change = this.#talk.feed(report);
    if (!change) return;
    p.talking = change.talking;
    const talking = { room: p.room.id, id: p.id };
    this.#notify({ audiobridge: change.talking ? "talking" : "stopped-talking", ...talking });
    // Everyone hears it, the speaker included.
    p.room.notify({
      audiobridge: change.talking ? "talking" : "stopped-talking",
      room: p.room.id,
      id: p.id,
    });
  }

  updateMix(): void {
    this.#mixing = this.#mixing.then(() => this.#syncMixer()).then(() => this.#syncRecording());
  }

  async setMjrRecording(on: boolean): Promise<void> {
    this.#recording.want(on);
    this.updateMix();
    await this.#mixing;
  }

  /**
   * `record` / `filename` of a `join` or `configure`: `filename` is kept for the next file;
   * `record` starts or stops it (in a room with `mjrs`, a join records whatever it says).
   */
  #readRecording(body: JsonObject, roomMjrs: boolean): void {
    if (typeof body.filename === "string") this.#recording.base = body.filename;
    if (roomMjrs || body.record !== undefined) {
      this.#recording.want(roomMjrs || body.record === true);
    }
  }

  /** The recording follows the participant: in a room, with its PeerConnection's audio. */
  async #syncRecording(): Promise<void> {
    const p = this.participant;
    const sink = this.#recordingSink();
    try {
      await this.#recording.sync(
        p && sink && !this.#destroyed
          ? {
            sink,
            codec: p.codec,
            room: p.room.id,
            user: p.id,
            dir: p.room.props.mjrs_dir,
            silenced: p.silenced,
          }
          : undefined,
      );
    } catch (e) {
      log.warn(`[${this.#handle.id}] recording: ${(e as Error).message}`);
    }
  }

  /** What records this participant: its RTP socket in its mixer, or its PeerConnection. */
  #recordingSink(): RecordingSink | undefined {
    if (this.#plainRtp) {
      const mixer = this.#rtpMixer;
      return mixer ? rtpSink(mixer, String(this.#handle.id)) : undefined;
    }
    const mid = this.#audioMid;
    const webrtc = this.#handle.webrtc;
    return mid !== undefined && webrtc.active ? peerSink(webrtc, mid) : undefined;
  }

  /** Puts the plain-RTP socket in its room's mixer (binding it), updates it, or takes it out. */
  async #syncRtp(): Promise<void> {
    const p = this.participant;
    const rtp = this.#plainRtp;
    const id = String(this.#handle.id);
    if (!p || !rtp || this.#destroyed) {
      const mixer = this.#rtpMixer;
      this.#rtpMixer = undefined;
      this.#rtpPort = 0;
      this.#hearLevels(undefined);
      // A mixer let go took its members' sockets with it.
      await mixer?.rtp({ op: "leave", id }).catch(() => {});
      return;
    }
    const mixer = await p.room.media.mixer();
    if (!mixer) return;
    const state = {
      gain: p.volume / 100,
      muted: p.silenced,
      pan: p.spatialPosition,
      ...this.#encoderSettings(p),
    };
    if (mixer === this.#rtpMixer) {
      await mixer.rtp({ op: "update", id, ...state });
      // Bound at join: its levels are heard from now on.
      if (rtp.levelExt > 0 && this.#levelsFrom !== p.room.media) this.#hearLevels(p.room.media);
      return;
    }
    const { ip, portRange } = this.#shared.ctx.plainRtp;
    this.#rtpPort = await mixer.rtp({
      op: "join",
      id,
      ip,
      portRange,
      ...(rtp.remote ? { remote: rtp.remote } : {}),
      codec: rtp.codec,
      payloadType: rtp.payloadType,
      ...(rtp.levelExt > 0 ? { levelExt: rtp.levelExt } : {}),
      ...state,
    });
    this.#rtpMixer = mixer;
    if (rtp.levelExt > 0) this.#hearLevels(p.room.media);
  }

  /** Where this plain-RTP participant's levels are heard: its room's mixer, or none. */
  #hearLevels(media: RoomMedia | undefined): void {
    const id = String(this.#handle.id);
    if (this.#levelsFrom && this.#levelsFrom !== media) this.#levelsFrom.rtpLevels.delete(id);
    this.#levelsFrom = media;
    this.#talk.reset();
    media?.rtpLevels.set(id, (level) => this.#onRtpLevel(level));
  }

  /** Puts the PeerConnection in its room's mixer with its gain and mute, or out of it. */
  async #syncMixer(): Promise<void> {
    if (this.#plainRtp || this.#rtpMixer) {
      await this.#syncRtp().catch((e) => log.warn(`[${this.#handle.id}] plain RTP: ${e}`));
      return;
    }
    const webrtc = this.#handle.webrtc;
    const p = this.participant;
    const mid = this.#audioMid;
    try {
      if (!p || mid === undefined || !webrtc.active || this.#destroyed) {
        if (this.#mixer === undefined) return;
        this.#mixer = undefined;
        await webrtc.mix({ op: "leave" });
        return;
      }
      const gain = p.volume / 100;
      const muted = p.silenced;
      const pan = p.spatialPosition;
      const group = p.group;
      if (this.#mixer === p.room.mixerKey) {
        await webrtc.mix({
          op: "update",
          gain,
          muted,
          pan,
          ...(group ? { group } : {}),
          ...this.#encoderSettings(p),
        });
        return;
      }
      this.#mixer = p.room.mixerKey;
      // The room's own mixer, made on first need, which the peer then joins by its key.
      await p.room.media.mixer();
      const sampleRate = p.room.props.sampling_rate;
      await webrtc.mix({
        op: "join",
        mixer: this.#mixer,
        mid,
        sampleRate,
        gain,
        muted,
        pan,
        ...(group ? { group } : {}),
        ...this.#encoderSettings(p),
      });
    } catch (e) {
      log.warn(`[${this.#handle.id}] mixing: ${(e as Error).message}`);
    }
  }

  /** Its mix's Opus settings: `quality` (complexity), `bitrate` (0 = automatic) and FEC. */
  #encoderSettings(p: Participant): EncoderSettings {
    return {
      ...(p.quality > 0 ? { complexity: p.quality } : {}),
      bitrate: p.bitrate,
      fec: p.fec,
      expectedLoss: p.expectedLoss,
    };
  }

  /** Tells event handlers (`notify_event`), from this handle unless `scoped` is false. */
  #notify(data: JsonObject, scoped = true): void {
    if (!this.#destroyed) this.#handle.notifyEvent?.(data, scoped);
  }

  /** Who `p` is in an event-handler event: room, id, display (when set), spatial position. */
  #told(p: Participant): JsonObject {
    return {
      room: p.room.id,
      id: p.id,
      ...(p.display !== undefined ? { display: p.display } : {}),
      ...(p.room.props.spatial_audio ? { spatial_position: p.spatialPosition } : {}),
    };
  }

  push(data: JsonObject): void {
    if (!this.#destroyed) this.#handle.pushEvent({ data });
  }

  /** Kicked, or its room was destroyed: out of the room, and the PeerConnection goes. */
  evict(p: Participant): void {
    if (this.participant !== p) return;
    if (!p.room.destroyed) this.#leaveRoom(p);
    this.participant = undefined;
    this.#plainRtp = undefined;
    this.#recording.want(false);
    this.#mediaChanged();
    if (this.#handle.webrtc.active) this.#handle.closePeer();
  }

  setupMedia(): void {
    this.started = true;
    const p = this.participant;
    if (!p) return;
    p.room.notify({
      audiobridge: "event",
      room: p.room.id,
      participants: [participantEntry(p, p.room, false)],
    }, p);
  }

  hangupMedia(): void {
    this.started = false;
    this.#audioMid = undefined;
    this.#levelsInSdp = false;
    this.#mixer = undefined;
    const p = this.participant;
    if (p) this.#leaveRoom(p);
    this.participant = undefined;
    this.#plainRtp = undefined;
    // The PeerConnection took its recording with it.
    this.#recording.forget();
    this.#mediaChanged();
  }

  destroy(): Promise<void> {
    const p = this.participant;
    if (p) this.#leaveRoom(p);
    this.participant = undefined;
    this.#plainRtp = undefined;
    this.#destroyed = true;
    // Its RTP socket, if any, leaves the mixer.
    this.updateMix();
    this.#listening = false;
    this.#handle.webrtc.onAudioLevel(undefined);
    this.#shared.sessions.delete(this);
    return Promise.resolve();
  }

  query(): JsonObject {
    const p = this.participant;
    const flags = { started: this.started, hangingup: false, destroyed: this.#destroyed };
    if (!p) return { state: "idle", ...flags };
    const plain = this.#plainRtp;
    // The reference's fields and order; its buffers are ours to mirror: a WebRTC participant's
    // jitter buffer holds its prebuffer once audio flows, and its sender waits on the mix (-1).
    return {
      state: "inroom",
      room: p.room.id,
      id: p.id,
      ...(p.group !== undefined ? { group: p.group } : {}),
      ...(p.display !== undefined ? { display: p.display } : {}),
      ...(p.admin ? { admin: true } : {}),
      muted: p.muted,
      active: this.started,
      "pre-buffering": !this.started,
      "prebuffer-count": p.prebuffer,
      ...(this.started ? { "queue-in": p.prebuffer } : {}),
      "queue-out": -1,
      ...(p.room.props.spatial_audio ? { spatial_position: p.spatialPosition } : {}),
      ...(this.#recording.fileName ? { "audio-recording": this.#recording.fileName } : {}),
      ...(this.measured
        ? {
          "audio-level-dBov": p.room.props.audiolevel_event ? this.#lastLevel : 0,
          talking: p.talking,
        }
        : {}),
      fec: p.fec,
      ...(p.fec ? { "expected-loss": p.expectedLoss } : {}),
      ...(p.bitrate > 0 ? { "opus-bitrate": p.bitrate } : {}),
      ...(plain
        ? {
          "plain-rtp": {
            ...(plain.remote ? { "remote-ip": plain.remote.host } : {}),
            ...(plain.remote ? { "remote-port": plain.remote.port } : {}),
          },
        }
        : {}),
      ...flags,
    };
  }
}

/** The most packets a participant's audio may be buffered (the reference's MAX_PREBUFFERING). */
const MAX_PREBUFFERING = 50;

/** How a participant joined with plain RTP. */
interface PlainRtp {
  /** Where its mix goes (`ip` and `port`; absent: nothing is sent). */
  remote: { host: string; port: number } | undefined;
  codec: "opus" | "pcmu" | "pcma";
  payloadType: number;
  /** The RFC 6464 audio level extension id of its packets (`audiolevel_ext`), 0 = none. */
  levelExt: number;
}

/** A join's `rtp` object: Opus on its `payload_type` (default 100), G.711 on 0 or 8. */
function plainRtpOf(rtp: JsonObject, codec: string): PlainRtp {
  const c = codec === "pcmu" || codec === "pcma" ? codec : "opus";
  const pt = rtp.payload_type;
  const payloadType = c === "pcmu"
    ? 0
    : c === "pcma"
    ? 8
    : typeof pt === "number" && pt > 0 && pt < 128
    ? pt
    : 100;
  const { ip, port } = rtp;
  const remote = typeof ip === "string" && typeof port === "number" && port > 0 && port < 65536
    ? { host: ip, port }
    : undefined;
  const ext = rtp.audiolevel_ext;
  const levelExt = typeof ext === "number" && Number.isInteger(ext) && ext > 0 && ext < 15
    ? ext
    : 0;
  return { remote, codec: c, payloadType, levelExt };
}

/** A requested spatial position (over 100 is 100, as the reference), or `fallback`. */
function positionOf(value: unknown, fallback: number): number {
  return Math.min(100, (value as number | undefined) ?? fallback);
}

/** `stereo=1; sprop-stereo=1` added to the Opus fmtp lines of an SDP that lack them. */
function withOpusStereo(sdp: string): string {
  const opus = new Set(
    [...sdp.matchAll(/^a=rtpmap:(\d+) opus\/48000/gim)].map((m) => m[1]),
  );
  return sdp.replace(/^a=fmtp:(\d+) ([^\r\n]*)/gm, (line, pt: string, params: string) => {
    if (!opus.has(pt) || /(^|;)\s*stereo=/.test(params)) return line;
    return `a=fmtp:${pt} ${params};stereo=1;sprop-stereo=1`;
  });
}

/** The encoder complexity without `quality` (the reference's DEFAULT_COMPLEXITY). */
const DEFAULT_QUALITY = 4;

/** A requested Opus bitrate, or `fallback` when absent or out of 500-512000 (the reference). */
function bitrateOf(value: unknown, fallback: number): number {
  const v = value as number | undefined;
  return v === undefined || v < 500 || v > 512000 ? fallback : v;
}

/** The reference's range checks of encoder settings (`quality`, `expected_loss`, `codec`). */
function checkTuning(body: JsonObject): void {
  const quality = body.quality as number | undefined;
  if (quality !== undefined && (quality < 1 || quality > 10)) {
    throw new PluginError(
      AUDIOBRIDGE_ERROR.INVALID_ELEMENT,
      "Invalid element (quality should be a positive integer between 1 and 10)",
    );
  }
  const loss = body.expected_loss as number | undefined;
  if (loss !== undefined && loss > 20) {
    throw new PluginError(
      AUDIOBRIDGE_ERROR.INVALID_ELEMENT,
      "Invalid element (expected_loss should be a positive integer between 0 and 20)",
    );
  }
  const codec = body.codec;
  if (codec !== undefined && !["opus", "pcmu", "pcma"].includes(codec as string)) {
    throw new PluginError(
      AUDIOBRIDGE_ERROR.INVALID_ELEMENT,
      "Invalid element (codec must opus, pcmu or pcma)",
    );
  }
}
