/**
 * VideoCall (`janus.plugin.videocall`): handles register a username, one calls another, and the
 * two PeerConnections are relayed to each other (media without decoding, data channels) until
 * either side hangs up, detaches or loses its PeerConnection. Every request is asynchronous:
 * an `ack`, then an event with the same transaction; a handle's requests run one at a time,
 * in order, as the reference's single handler does.
 *
 * Events are pushed here, not by the core, so that what follows a result (a hangup's fan-out)
 * comes after it, in the reference's order.
 *
 * @module
 */
import {
  type Jsep,
  type JsonObject,
  type Plugin,
  PluginError,
  type PluginHandle,
  type PluginInfo,
  type PluginMessage,
  type PluginReply,
  type PluginSession,
} from "../../core/plugin.ts";
import { createLogger } from "../../core/log.ts";
import { answeredCodecs } from "../_shared/media_lines.ts";
import { checkBody } from "../_shared/validate.ts";
import { Call } from "./call.ts";
import { recordableLines, type RecordedKind, recordingName, recordingPath } from "./recording.ts";
import { FIELD_CODES, VIDEOCALL_ERROR } from "./errors.ts";
import { REQUEST_FIELDS, SET_FIELDS, SetBody, USERNAME_FIELDS } from "./schemas.ts";

const log = createLogger("videocall");

const INFO: PluginInfo = {
  id: "janus.plugin.videocall",
  name: "JANUS VideoCall plugin",
  description: "A simple video call between two peers, relayed by the gateway.",
  author: "Janus-compatible gateway",
  version: 6,
  versionString: "0.0.6",
};

/** The reason the other side reads when a PeerConnection of the call went away. */
const REMOTE_HANGUP = "Remote WebRTC hangup";

/** A failed request whose caller's PeerConnection is closed after the error (as the reference). */
class HangupError extends PluginError {}

/** Registered users and live sessions, shared by every handle of the plugin. */
class Directory {
  readonly users = new Map<string, VideoCallSession>();
  readonly sessions = new Set<VideoCallSession>();

  calls(): number {
    let n = 0;
    for (const s of this.sessions) if (s.call?.caller === s) n++;
    return n;
  }
}

/** One handle of the plugin: a user, registered or not, in a call or not. */
class VideoCallSession implements PluginSession {
  readonly handle: PluginHandle;
  readonly #dir: Directory;
  username: string | undefined;
  call: Call<VideoCallSession> | undefined;
  #audio = true;
  #video = true;
  #bitrate = 0;
  #simulcast: { substream?: number; temporal?: number; fallback?: number } = {};
  /** What this user's `set` `record` records, by medium. */
  #recordings = new Map<RecordedKind, { mid: string; path: string }>();
  #hangingUp = false;
  #destroyed = false;
  #queue: Promise<void> = Promise.resolve();

  constructor(handle: PluginHandle, dir: Directory) {
    this.handle = handle;
    this.#dir = dir;
  }

  get webrtc() {
    return this.handle.webrtc;
  }

  sends(kind: "audio" | "video"): boolean {
    return kind === "audio" ? this.#audio : this.#video;
  }

  handleMessage(message: PluginMessage): Promise<PluginReply> {
    const run = this.#queue.then(() => this.#run(message));
    this.#queue = run;
    return Promise.resolve({ kind: "ack", event: run.then(() => undefined) });
  }

  async #run(message: PluginMessage): Promise<void> {
    // A turn of the event loop first: the ack is on its way before any event of ours.
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (this.#destroyed) return;
    const { transaction } = message;
    try {
      await this.#process(message);
    } catch (e) {
      const error = e instanceof PluginError
        ? e
        : new PluginError(VIDEOCALL_ERROR.UNKNOWN, (e as Error).message ?? String(e));
      this.#push(
        { videocall: "event", error_code: error.code, error: error.message },
        transaction,
      );
      if (error instanceof HangupError) this.handle.closePeer();
    }
  }

  #push(data: JsonObject, transaction?: string, jsep?: Jsep): void {
    this.handle.pushEvent({
      data,
      ...(transaction !== undefined ? { transaction } : {}),
      ...(jsep ? { jsep } : {}),
    });
  }

  #result(result: JsonObject, transaction?: string, jsep?: Jsep): void {
    this.#push({ videocall: "event", result }, transaction, jsep);
  }

  #notify(data: JsonObject): void {
    this.handle.notifyEvent?.(data);
  }

  async #process(message: PluginMessage): Promise<void> {
    const { body, jsep, transaction } = message;
    checkBody(body, REQUEST_FIELDS, FIELD_CODES);
    const request = String(body.request).toLowerCase();
    switch (request) {
      case "list":
        return this.#result({ list: [...this.#dir.users.keys()] }, transaction);
      case "register":
        return this.#register(body, transaction);
      case "call":
        return await this.#call(body, jsep, transaction);
      case "accept":
        return await this.#accept(jsep, transaction);
      case "set":
        return await this.#set(body, jsep, transaction);
      case "hangup":
        return this.#hangup(body, transaction);
      default:
        throw new PluginError(
          VIDEOCALL_ERROR.INVALID_REQUEST,
          `Unknown request (${String(body.request)})`,
        );
    }
  }

  #register(body: JsonObject, transaction: string): void {
    if (this.username !== undefined) {
      throw new PluginError(
        VIDEOCALL_ERROR.ALREADY_REGISTERED,
        `Already registered (${this.username})`,
      );
    }
    checkBody(body, USERNAME_FIELDS, FIELD_CODES);
    const username = body.username as string;
    if (this.#dir.users.has(username)) {
      throw new PluginError(
        VIDEOCALL_ERROR.USERNAME_TAKEN,
        `Username '${username}' already taken`,
      );
    }
    this.username = username;
    this.#dir.users.set(username, this);
    this.#result({ event: "registered", username }, transaction);
    this.#notify({ event: "registered", username });
  }

  async #call(body: JsonObject, jsep: Jsep | undefined, transaction: string): Promise<void> {
    if (this.username === undefined) {
      throw new HangupError(VIDEOCALL_ERROR.REGISTER_FIRST, "Register a username first");
    }
    if (this.call) throw new HangupError(VIDEOCALL_ERROR.ALREADY_IN_CALL, "Already in a call");
    try {
      checkBody(body, USERNAME_FIELDS, FIELD_CODES);
    } catch (e) {
      const error = e as PluginError;
      throw new HangupError(error.code, error.message);
    }
    const username = body.username as string;
    if (username === this.username) {
      throw new HangupError(
        VIDEOCALL_ERROR.USE_ECHO_TEST,
        "You can't call yourself... use the EchoTest for that",
      );
    }
    const callee = this.#dir.users.get(username);
    if (!callee) {
      throw new HangupError(
        VIDEOCALL_ERROR.NO_SUCH_USERNAME,
        `Username '${username}' doesn't exist`,
      );
    }
    if (callee.call) {
      this.#result({ event: "hangup", username: this.username, reason: "User busy" }, transaction);
      this.#notify({ event: "hangup", reason: "User busy" });
      this.handle.closePeer();
      return;
    }
    if (!jsep) throw new PluginError(VIDEOCALL_ERROR.MISSING_SDP, "Missing SDP");
    if (jsep.type !== "offer") {
      throw new PluginError(VIDEOCALL_ERROR.INVALID_SDP, "Error parsing offer: not an offer");
    }
    const call = new Call<VideoCallSession>(this, callee);
    this.call = call;
    callee.call = call;
    let offer: Jsep;
    try {
      offer = await call.setUp(jsep, this.#bitrate);
    } catch (e) {
      if (!call.ended) this.#endCall(call);
      throw new HangupError(VIDEOCALL_ERROR.INVALID_SDP, (e as Error).message);
    }
    if (call.ended) {
      throw new PluginError(VIDEOCALL_ERROR.UNKNOWN, "The call ended while setting up");
    }
    callee.#result({ event: "incomingcall", username: this.username }, undefined, offer);
    this.#result({ event: "calling" }, transaction);
    this.#notify({ event: "calling" });
  }

  async #accept(jsep: Jsep | undefined, transaction: string): Promise<void> {
    const call = this.call;
    if (!call || call.ended) {
      throw new PluginError(VIDEOCALL_ERROR.NO_CALL, "No incoming call to accept");
    }
    if (!jsep) throw new PluginError(VIDEOCALL_ERROR.MISSING_SDP, "Missing SDP");
    if (call.callee !== this || call.accepted || !call.answer || jsep.type !== "answer") {
      throw new PluginError(VIDEOCALL_ERROR.NO_CALL, "No incoming call to accept");
    }
    // The core applied the answer to our offer already.
    try {
      await call.connect(jsep);
    } catch (e) {
      throw new HangupError(VIDEOCALL_ERROR.UNKNOWN, (e as Error).message);
    }
    if (call.ended) {
      throw new PluginError(VIDEOCALL_ERROR.UNKNOWN, "The call ended while accepting");
    }
    call.accepted = true;
    call.caller.#result(
      { event: "accepted", username: this.username ?? null },
      undefined,
      call.answer,
    );
    this.#result({ event: "accepted" }, transaction);
    this.#notify({ event: "accepted" });
  }

  async #set(body: JsonObject, jsep: Jsep | undefined, transaction: string): Promise<void> {
    checkBody(body, SET_FIELDS, FIELD_CODES);
    const set = SetBody.parse(body);
    const call = this.call?.ended ? undefined : this.call;
    if (set.audio !== undefined && set.audio !== this.#audio) {
      this.#audio = set.audio;
      await call?.setSending(this, "audio", set.audio);
    }
    if (set.video !== undefined && set.video !== this.#video) {
      this.#video = set.video;
      await call?.setSending(this, "video", set.video);
    }
    if (set.bitrate !== undefined) {
      this.#bitrate = set.bitrate;
      await this.webrtc.setBitrateCap(set.bitrate);
    }
    for (const key of ["substream", "temporal", "fallback"] as const) {
      // Accepted and kept (admin handle_info): the media engines do not simulcast yet.
      if (set[key] !== undefined) this.#simulcast[key] = set[key];
    }
    // As the reference: an answer's lines before the recording, the relay after it.
    const update = await this.#renegotiation(call, jsep);
    if (set.record !== undefined) await this.#record(set.record, set.filename);
    const recording = this.#recordingInfo();
    this.#notify({
      event: "configured",
      audio_active: this.#audio,
      video_active: this.#video,
      bitrate: this.#bitrate,
      ...(recording ? { recording } : {}),
    });
    if (update) update.to.#result({ event: "update" }, undefined, update.jsep);
    this.#result({ event: "set" }, transaction);
  }

  /**
   * A `set`'s SDP, relayed as the reference does: an offer renegotiating an accepted call makes
   * the other side's `update` with a new offer of its peer; that side's answer (a `set` too)
   * gives the offerer its `update` with our held answer. Any other SDP is not answered.
   */
  async #renegotiation(
    call: Call<VideoCallSession> | undefined,
    jsep: Jsep | undefined,
  ): Promise<{ to: VideoCallSession; jsep: Jsep } | undefined> {
    if (!call || !jsep) return undefined;
    const other = call.other(this);
    try {
      if (jsep.type === "offer" && jsep.update === true && call.accepted) {
        return { to: other, jsep: await call.renegotiate(this, jsep, this.#bitrate) };
      }
      if (jsep.type === "answer" && call.awaitsAnswer(other)) {
        const { answer, unrelayed } = await call.completeRenegotiation(this, jsep);
        if (unrelayed.length > 0) {
          log.warn(
            `[${this.handle.id}] m-lines ${
              unrelayed.join(", ")
            } added by a renegotiation are not relayed`,
          );
        }
        return { to: other, jsep: answer };
      }
    } catch (e) {
      throw new PluginError(VIDEOCALL_ERROR.INVALID_SDP, (e as Error).message);
    }
    if (jsep.type === "offer") {
      log.warn(`[${this.handle.id}] an offer in 'set' outside a renegotiated call is not answered`);
    }
    return undefined;
  }

  /**
   * `record` true: what this user sends (its first audio and video line) into MJR files, named
   * as the reference names them; false stops them. A file that cannot be made is logged and
   * skipped (the reference answers nothing else either); without a call there is nothing to
   * record.
   */
  async #record(record: boolean, base: string | undefined): Promise<void> {
    this.#stopRecordings();
    if (!record) return;
    const call = this.call?.ended ? undefined : this.call;
    const sdp = call?.sdpOf(this);
    if (!call || sdp === undefined) {
      log.warn(`[${this.handle.id}] recording asked for without a call: nothing to record`);
      return;
    }
    const peer = call.other(this).username;
    const nowUs = Date.now() * 1000;
    for (const line of recordableLines(sdp)) {
      const path = recordingPath({ base, user: this.username, peer, nowUs, type: line.kind });
      try {
        await this.webrtc.startRecording({ mid: line.mid, path, codec: line.codec });
        this.#recordings.set(line.kind, { mid: line.mid, path });
      } catch (e) {
        log.warn(`Couldn't open an ${line.kind} recording file for this VideoCall user: ${e}`);
      }
    }
  }

  #stopRecordings(): void {
    for (const { mid } of this.#recordings.values()) {
      void this.webrtc.stopRecording(mid).catch(() => {});
    }
    this.#recordings.clear();
  }

  /** `recording` of handle_info and `configured`: each medium's file name. */
  #recordingInfo(): JsonObject | undefined {
    if (this.#recordings.size === 0) return undefined;
    const out: JsonObject = {};
    for (const [kind, { path }] of this.#recordings) out[kind] = recordingName(path);
    return out;
  }

  #hangup(body: JsonObject, transaction: string): void {
    const reason = typeof body.reason === "string" ? body.reason : "We did the hangup";
    const call = this.call;
    this.#result({
      event: "hangup",
      ...(this.username !== undefined ? { username: this.username } : {}),
      reason: "Explicit hangup",
    }, transaction);
    this.#notify({ event: "hangup", reason: "Explicit hangup" });
    const other = call?.other(this);
    if (other) {
      other.#result({ event: "hangup", username: this.username ?? null, reason });
      other.#notify({ event: "hangup", reason: "Remote hangup" });
    }
    this.handle.closePeer();
    other?.handle.closePeer();
  }

  /**
   * Our side of `call` is gone: the other side hears why (with our username) and its
   * PeerConnection is closed, which in turn tells us (as the reference fans a hangup out).
   */
  #endCall(call: Call<VideoCallSession>, reason = REMOTE_HANGUP): void {
    if (this.call !== call) return;
    this.call = undefined;
    call.ended = true;
    call.stop();
    const other = call.other(this);
    if (other.#destroyed) return;
    other.#result({ event: "hangup", username: this.username ?? null, reason });
    other.#notify({ event: "hangup", reason });
    other.handle.closePeer();
  }

  setupMedia(): void {
    this.#hangingUp = false;
  }

  onData(data: string | Uint8Array, label: string): void {
    const call = this.call;
    if (!call?.accepted || call.ended) return;
    const to = call.other(this).webrtc;
    // The other side may have named its channel otherwise: then its first open one.
    void to.sendData(data, label).catch(() => to.sendData(data).catch(() => {}));
  }

  hangupMedia(): void {
    if (this.#hangingUp) return;
    this.#hangingUp = true;
    try {
      // The reference closes the recordings with the PeerConnection.
      this.#stopRecordings();
      if (this.call) this.#endCall(this.call);
      this.#audio = true;
      this.#video = true;
      this.#bitrate = 0;
      this.#simulcast = {};
    } finally {
      this.#hangingUp = false;
    }
  }

  destroy(): Promise<void> {
    if (this.#destroyed) return Promise.resolve();
    this.#stopRecordings();
    if (this.call) this.#endCall(this.call);
    this.#destroyed = true;
    if (this.username !== undefined && this.#dir.users.get(this.username) === this) {
      this.#dir.users.delete(this.username);
    }
    this.#dir.sessions.delete(this);
    return Promise.resolve();
  }

  query(): JsonObject {
    const call = this.call;
    const info: JsonObject = { state: call ? "incall" : "idle" };
    if (this.username !== undefined) info.username = this.username;
    if (call) {
      const peer = call.other(this);
      if (peer.username !== undefined) info.peer = peer.username;
      info.audio_active = this.#audio;
      info.video_active = this.#video;
      // The codecs both sides use, once the callee answered (the reference's).
      if (call.accepted && call.answer) Object.assign(info, answeredCodecs(call.answer.sdp));
      info.bitrate = this.#bitrate;
      info["peer-bitrate"] = 0;
      info.slowlink_count = 0;
    }
    const recording = this.#recordingInfo();
    if (recording) info.recording = recording;
    info.incall = call ? 1 : 0;
    // The reference clears its flag once a hangup is handled, as ours are at once.
    info.hangingup = 0;
    info.destroyed = this.#destroyed ? 1 : 0;
    return info;
  }
}

/** The VideoCall plugin, with the gauges its tests read to check that nothing is left. */
export interface VideoCallPlugin extends Plugin {
  metrics(): { sessions: number; users: number; calls: number };
}

/** Creates the VideoCall plugin. */
export function createVideoCallPlugin(): VideoCallPlugin {
  const dir = new Directory();
  return {
    info: INFO,
    init: () => Promise.resolve(),
    destroy: () => {
      dir.users.clear();
      dir.sessions.clear();
      return Promise.resolve();
    },
    createSession: (handle) => {
      const session = new VideoCallSession(handle, dir);
      dir.sessions.add(session);
      return Promise.resolve(session);
    },
    formatError: (error) => ({ videocall: "event", error_code: error.code, error: error.message }),
    metrics: () => ({ sessions: dir.sessions.size, users: dir.users.size, calls: dir.calls() }),
  };
}
