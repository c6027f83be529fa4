/**
 * Record&Play (`janus.plugin.recordplay`): a handle records what its peer sends into MJR files
 * of the recordings folder (`record` + offer, answered `recvonly`; `stop` writes the `.nfo`),
 * or plays a recording back (`play`: the gateway's offer with the recording's media; `start` +
 * answer; the packets go out at their recorded pace and the PeerConnection is closed at the
 * end). `list`, `update` and `configure` are synchronous; the rest are queued per handle and
 * answered by events, as the reference does. An offer with a data channel records its
 * messages too (`<base>-data.mjr`, `text` unless `textdata` is false: `data_playout.ts`), and
 * a recording with data plays them back on the player's data channel at their recorded times.
 * A second `play` on a player is answered as the reference does: `preparing` and an offer
 * again (the same recording: the same media goes on; another one replaces it). `pause`/`resume` stop and restart writing (the
 * file goes on with no gap in RTP time); while recording, `video-bitrate-max` is our REMB and
 * `video-keyframe-interval` how often video is asked for a keyframe.
 *
 * @module
 */
import { z } from "zod";
import { createLogger } from "../../core/log.ts";
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
import { DataRecorder } from "../_shared/data_recorder.ts";
import { liveMediaLines, mediaSections } from "../_shared/media_lines.ts";
import { BODY, type BodyField, checkBody } from "../_shared/validate.ts";
import { DataPlayout, readDataRecording } from "./data_playout.ts";
import { FIELD_CODES, RECORDPLAY_ERROR } from "./errors.ts";
import { Library, localDate, type Recording } from "./library.ts";

const log = createLogger("recordplay");

const INFO: PluginInfo = {
  id: "janus.plugin.recordplay",
  name: "JANUS Record&Play plugin",
  description: "Records a peer's media into MJR files and plays recordings back.",
  author: "Janus-compatible gateway",
  version: 4,
  versionString: "0.0.4",
};

/** The plugin's section of the configuration. */
export const RecordPlayConfig = z.object({
  /** The recordings folder: written by `record`, scanned by `list`/`update` (made at start). */
  path: z.string().min(1).default("/usr/share/janus/recordings"),
  /** Largest `.mjr` file `play` reads (it is read whole into the media worker), in bytes. */
  max_file_bytes: z.number().int().positive().default(256 * 1024 * 1024),
}).passthrough();

const REQUEST_FIELDS: BodyField[] = [{ name: "request", required: true, ...BODY.string }];
const CONFIGURE_FIELDS: BodyField[] = [
  { name: "video-bitrate-max", ...BODY.positiveInt },
  { name: "video-keyframe-interval", ...BODY.positiveInt },
];
const RECORD_FIELDS: BodyField[] = [
  {
    name: "name",
    required: true,
    ...BODY.string,
    valid: {
      test: (v) => v !== "",
      message: "Invalid element type (name should be a non-empty string)",
    },
  },
  { name: "id", ...BODY.positiveInt },
  { name: "filename", ...BODY.string },
  { name: "audiocodec", ...BODY.string },
  { name: "videocodec", ...BODY.string },
  { name: "videoprofile", ...BODY.string },
  { name: "opusred", ...BODY.bool },
  { name: "textdata", ...BODY.bool },
  { name: "update", ...BODY.bool },
];
const PLAY_FIELDS: BodyField[] = [
  { name: "id", required: true, ...BODY.positiveInt },
  { name: "restart", ...BODY.bool },
];

/** The codec of each kind recorded: the one written in the files and played back. */
const RECORDED_CODECS = { audio: "opus", video: "vp8" } as const;

/** Default `configure` settings, as the reference starts a session. */
const DEFAULT_KEYFRAME_INTERVAL = 15000;
const DEFAULT_BITRATE = 1024 * 1024;

/** State shared by every handle. */
interface Context {
  library: Library;
  maxFileBytes: number;
  sessions: Set<RecordPlaySession>;
}

/** `a=sendrecv`/`a=sendonly` of each audio/video m-line turned `recvonly` (we only receive). */
function recvOnly(sdp: string): string {
  return sdp.split(/\r\n(?=m=)/).map((section) =>
    /^m=(audio|video) /.test(section)
      ? section.replace(/\r\na=(sendrecv|sendonly)(?=\r\n|$)/, "\r\na=recvonly")
      : section
  ).join("\r\n");
}

function randomId(taken: (id: number) => boolean): number {
  for (;;) {
    const id = Math.floor(Math.random() * Number.MAX_SAFE_INTEGER) + 1;
    if (!taken(id)) return id;
  }
}

/** The first numeric mid after those of `sdp`'s m-lines. */
function nextMid(sdp: string): number {
  let next = 0;
  for (const s of mediaSections(sdp)) {
    if (/^\d+$/.test(s.mid)) next = Math.max(next, Number(s.mid) + 1);
  }
  return next;
}

/** One handle: idle, a recorder or a player. */
class RecordPlaySession implements PluginSession {
  readonly #handle: PluginHandle;
  readonly #ctx: Context;
  #queue: Promise<void> = Promise.resolve();
  #recording: Recording | undefined;
  /** True: recording; false: playing; undefined: neither yet. */
  #recorder: boolean | undefined;
  /** Mids being recorded. */
  #recordedMids: string[] = [];
  /** The data channel's recording (written here: the plugin gets the messages). */
  #dataRecorder: DataRecorder | undefined;
  /** The recording's data messages being played, and the mids of its played media. */
  #dataPlayout: DataPlayout | undefined;
  #playedMids: string[] = [];
  #inactiveMids: string[] = [];
  /** The last offer of this player: a later `play` adds its lines after its m-lines. */
  #offered = "";
  #playing = false;
  #paused = false;
  #keyframeInterval = DEFAULT_KEYFRAME_INTERVAL;
  #bitrate = DEFAULT_BITRATE;
  #hangingUp = false;
  /** The PeerConnection is up (`setupMedia` until `hangupMedia`). */
  #connected = false;
  #destroyed = false;

  constructor(handle: PluginHandle, ctx: Context) {
    this.#handle = handle;
    this.#ctx = ctx;
  }

  async handleMessage(message: PluginMessage): Promise<PluginReply> {
    const { body } = message;
    checkBody(body, REQUEST_FIELDS, FIELD_CODES);
    const request = String(body.request).toLowerCase();
    switch (request) {
      case "update":
        await this.#ctx.library.update();
        return { kind: "success", data: { recordplay: "ok" } };
      case "list":
        return {
          kind: "success",
          data: { recordplay: "list", list: this.#ctx.library.list() },
        };
      case "configure":
        return { kind: "success", data: this.#configure(body) };
      case "record":
      case "play":
      case "start":
      case "stop":
      case "pause":
      case "resume": {
        const run = this.#queue.then(() => this.#run(request, message));
        this.#queue = run;
        return { kind: "ack", event: run.then(() => undefined) };
      }
      default:
        throw new PluginError(
          RECORDPLAY_ERROR.INVALID_REQUEST,
          `Unknown request '${String(body.request)}'`,
        );
    }
  }

  #configure(body: JsonObject): JsonObject {
    checkBody(body, CONFIGURE_FIELDS, FIELD_CODES);
    if (typeof body["video-bitrate-max"] === "number") this.#bitrate = body["video-bitrate-max"];
    if (typeof body["video-keyframe-interval"] === "number") {
      this.#keyframeInterval = body["video-keyframe-interval"];
    }
    // As the reference reads them for each packet: a running recording takes them at once.
    if (this.#recorder === true) void this.#applySettings().catch(() => {});
    return {
      recordplay: "configure",
      status: "ok",
      settings: {
        "video-keyframe-interval": this.#keyframeInterval,
        "video-bitrate-max": this.#bitrate,
      },
    };
  }

  async #run(request: string, message: PluginMessage): Promise<void> {
    // A turn of the event loop first: the ack is on its way before any event of ours.
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (this.#destroyed) return;
    const { transaction, body, jsep } = message;
    try {
      switch (request) {
        case "record":
          return await this.#record(body, jsep, transaction);
        case "play":
          return await this.#play(body, jsep, transaction);
        case "start":
          return this.#start(jsep, transaction);
        case "pause":
        case "resume":
          return await this.#pause(request === "pause", transaction);
        default:
          return await this.#stop(transaction);
      }
    } catch (e) {
      const error = e instanceof PluginError
        ? e
        : new PluginError(RECORDPLAY_ERROR.UNKNOWN_ERROR, (e as Error).message ?? String(e));
      this.#handle.pushEvent({
        transaction,
        data: { recordplay: "event", error_code: error.code, error: error.message },
      });
    }
  }

  #result(result: JsonObject | string, transaction?: string, jsep?: Jsep): void {
    this.#handle.pushEvent({
      ...(transaction !== undefined ? { transaction } : {}),
      data: { recordplay: "event", result },
      ...(jsep ? { jsep } : {}),
    });
  }

  async #record(body: JsonObject, jsep: Jsep | undefined, transaction: string): Promise<void> {
    if (!jsep || jsep.type !== "offer") {
      throw new PluginError(RECORDPLAY_ERROR.MISSING_ELEMENT, "Missing SDP offer");
    }
    checkBody(body, RECORD_FIELDS, FIELD_CODES);
    const webrtc = this.#handle.webrtc;
    if (this.#recorder === false || (jsep.update && !this.#recording)) {
      throw new PluginError(
        RECORDPLAY_ERROR.INVALID_STATE,
        "Not a recording session, can't update",
      );
    }
    if (this.#recorder === true && this.#recording) {
      // A renegotiation of the running recording: a new answer, the same files.
      const answer = await this.#answer(jsep);
      this.#result({ status: "recording", id: this.#recording.id }, transaction, answer);
      return;
    }
    const library = this.#ctx.library;
    const asked = typeof body.id === "number" ? body.id : 0;
    if (asked > 0 && library.recordings.has(asked)) {
      throw new PluginError(
        RECORDPLAY_ERROR.RECORDING_EXISTS,
        `Recording ${asked} already exists`,
      );
    }
    const id = asked > 0 ? asked : randomId((n) => library.recordings.has(n));
    const answer = await this.#answer(jsep);
    const base = typeof body.filename === "string" ? body.filename : `rec-${id}`;
    const rec: Recording = { id, name: String(body.name), date: localDate(), completed: false };
    library.recordings.set(id, rec);
    this.#recording = rec;
    this.#recorder = true;
    const lines = liveMediaLines(answer.sdp);
    const audio = lines.find((l) => l.kind === "audio");
    const video = lines.find((l) => l.kind === "video");
    for (const line of [audio, video]) {
      if (!line) continue;
      const file = `${base}-${line.kind}`;
      const codec = RECORDED_CODECS[line.kind];
      if (line.kind === "audio") {
        rec.audio = file;
        rec.audioCodec = codec;
      } else {
        rec.video = file;
        rec.videoCodec = codec;
      }
      try {
        await webrtc.startRecording({
          mid: line.mid,
          path: library.file(file),
          codec,
          description: rec.name,
          ...(line.kind === "video" ? { keyframeIntervalMs: this.#keyframeIntervalMs() } : {}),
        });
        this.#recordedMids.push(line.mid);
      } catch (e) {
        // As the reference: a file that cannot be made is logged, the session goes on.
        log.error(`recording ${id}: cannot record ${line.kind}: ${(e as Error).message}`);
      }
    }
    // Data too when the offer has a data channel, as the reference decides it.
    if (mediaSections(jsep.sdp).some((s) => s.kind === "application")) {
      const file = `${base}-data`;
      rec.data = file;
      try {
        this.#dataRecorder = new DataRecorder(library.file(file), {
          binary: body.textdata === false,
        });
      } catch (e) {
        log.error(`recording ${id}: cannot record data: ${(e as Error).message}`);
      }
    }
    // The reference's REMB says `video-bitrate-max` from the first video packet on.
    await webrtc.setBitrateCap(this.#bitrate).catch(() => {});
    this.#result({ status: "recording", id }, transaction, answer);
    this.#handle.notifyEvent?.({
      event: "recording",
      id,
      audio: rec.audio !== undefined,
      video: rec.video !== undefined,
      data: this.#dataRecorder !== undefined,
    });
  }

  /** The reference's PLI interval: whole seconds of `video-keyframe-interval` (0: each packet). */
  #keyframeIntervalMs(): number {
    return Math.floor(this.#keyframeInterval / 1000) * 1000;
  }

  /** The bitrate (our REMB) and keyframe interval of this handle, on its recording. */
  async #applySettings(): Promise<void> {
    const webrtc = this.#handle.webrtc;
    await webrtc.setBitrateCap(this.#bitrate);
    for (const mid of this.#recordedMids) {
      await webrtc.updateRecording({ mid, keyframeIntervalMs: this.#keyframeIntervalMs() });
    }
  }

  /**
   * As the reference: any handle with a recording (a player too) gets `paused`/`resumed`,
   * one without gets a bare event; only a recorder stops writing, and resumes with a PLI.
   */
  async #pause(pause: boolean, transaction: string): Promise<void> {
    const rec = this.#recording;
    if (!rec) {
      this.#handle.pushEvent({ transaction, data: { recordplay: "event" } });
      return;
    }
    const status = pause ? "paused" : "resumed";
    if (this.#recorder === true && this.#paused !== pause) {
      this.#paused = pause;
      if (this.#dataRecorder) this.#dataRecorder.paused = pause;
      for (const mid of this.#recordedMids) {
        await this.#handle.webrtc.updateRecording({ mid, paused: pause });
      }
    }
    this.#result({ status, id: rec.id }, transaction);
    this.#handle.notifyEvent?.({ event: status, id: rec.id });
  }

  async #answer(jsep: Jsep): Promise<Jsep> {
    try {
      // Recordings are Opus and VP8 (what is written and played back here); the reference
      // too picks VP8 first whatever the offer's order (janus_sdp_find_preferred_codec).
      const codecs = { audio: [RECORDED_CODECS.audio], video: [RECORDED_CODECS.video] };
      const answer = await this.#handle.webrtc.acceptOffer(jsep, { codecs });
      return { type: "answer", sdp: recvOnly(answer.sdp) };
    } catch (e) {
      if (e instanceof PluginError) throw e;
      throw new PluginError(RECORDPLAY_ERROR.INVALID_SDP, (e as Error).message);
    }
  }

  async #play(body: JsonObject, jsep: Jsep | undefined, transaction: string): Promise<void> {
    if (jsep) {
      throw new PluginError(
        RECORDPLAY_ERROR.INVALID_ELEMENT,
        "A play request can't contain an SDP",
      );
    }
    checkBody(body, PLAY_FIELDS, FIELD_CODES);
    if (body.restart === true) return await this.#restart(transaction);
    const id = body.id as number;
    const rec = this.#ctx.library.recordings.get(id);
    if (!rec || !rec.completed) {
      throw new PluginError(RECORDPLAY_ERROR.NOT_FOUND, "No such recording");
    }
    if (this.#recorder === true) {
      throw new PluginError(RECORDPLAY_ERROR.INVALID_STATE, "Already in use, stop first");
    }
    const webrtc = this.#handle.webrtc;
    // A second `play` on a player: the reference sends its offer again (measured: `preparing`
    // and the same offer); the same recording's media goes on, another one replaces it.
    if (this.#playing && this.#recording?.id === id) {
      const again = await webrtc.createOffer({
        ...(this.#dataPlayout ? { data: true } : {}),
        ...(this.#inactiveMids.length > 0 ? { inactive: [...this.#inactiveMids] } : {}),
      });
      this.#offered = again.sdp;
      this.#result({ status: "preparing", id }, transaction, again);
      this.#notifyPlayout(rec, this.#playedMids.length > 0);
      return;
    }
    // The reference's offer order: audio, then video; a broken file leaves the other one.
    // A replaced recording's lines stay, inactive.
    const used = this.#playing ? [...this.#inactiveMids, ...this.#playedMids] : [];
    // New lines take mids after every m-line offered so far (the data channel's too).
    const firstMid = this.#playing ? nextMid(this.#offered) : 0;
    const files: { path: string; mid: string }[] = [];
    let warning: string | undefined;
    for (const kind of ["audio", "video"] as const) {
      const base = rec[kind];
      if (base === undefined) continue;
      const path = this.#ctx.library.file(base);
      if (await this.#playable(path)) {
        files.push({ path, mid: String(firstMid + files.length) });
      } else {
        warning = kind === "audio"
          ? "Broken audio file, playing video only"
          : "Broken video file, playing audio only";
      }
    }
    let data: DataPlayout | undefined;
    if (rec.data !== undefined) {
      const path = this.#ctx.library.file(rec.data);
      const frames = (await this.#playable(path)) ? await readDataRecording(path) : undefined;
      if (frames) data = new DataPlayout(frames, (m) => webrtc.sendData(m));
      else warning = "Broken data file, playing audio/video only";
    }
    if (files.length === 0) {
      throw new PluginError(RECORDPLAY_ERROR.INVALID_RECORDING, "Error opening recording files");
    }
    if (this.#playing) {
      // Another recording on this player: its lines replace the first one's.
      await webrtc.stopPlay();
      this.#dataPlayout?.stop();
      this.#dataPlayout = undefined;
    }
    try {
      await webrtc.play({ files }, () => this.#ended());
    } catch (e) {
      throw new PluginError(RECORDPLAY_ERROR.INVALID_RECORDING, (e as Error).message);
    }
    const offer = await webrtc.createOffer({
      ...(data ? { data: true } : {}),
      ...(used.length > 0 ? { inactive: [...used] } : {}),
    });
    this.#recording = rec;
    this.#recorder = false;
    this.#playing = true;
    this.#inactiveMids = used;
    this.#playedMids = files.map((f) => f.mid);
    this.#offered = offer.sdp;
    this.#dataPlayout = data;
    // A running PeerConnection plays the new data at once; a new one from its `webrtcup`.
    if (this.#connected) data?.start();
    const result: JsonObject = { status: "preparing", id };
    if (warning !== undefined) result.warning = warning;
    this.#result(result, transaction, offer);
    this.#notifyPlayout(rec, true, files.map((f) => f.path));
  }

  /** `playout` for event handlers: which of the recording's files play. */
  #notifyPlayout(rec: Recording, media: boolean, paths?: string[]): void {
    const plays = (base: string | undefined) =>
      base !== undefined && media &&
      (paths === undefined || paths.includes(this.#ctx.library.file(base)));
    this.#handle.notifyEvent?.({
      event: "playout",
      id: rec.id,
      audio: plays(rec.audio),
      video: plays(rec.video),
      data: this.#dataPlayout !== undefined,
    });
  }

  /** An ICE restart of the running playout: the same media offered again. */
  async #restart(transaction: string): Promise<void> {
    const rec = this.#recording;
    if (this.#recorder !== false || !rec) {
      throw new PluginError(
        RECORDPLAY_ERROR.INVALID_STATE,
        "Not a playout session, can't restart",
      );
    }
    const offer = await this.#handle.webrtc.createOffer({ iceRestart: true });
    this.#result({ status: "restarting", id: rec.id }, transaction, offer);
  }

  async #playable(path: string): Promise<boolean> {
    try {
      const info = await Deno.stat(path);
      return info.isFile && info.size <= this.#ctx.maxFileBytes;
    } catch {
      return false;
    }
  }

  #start(jsep: Jsep | undefined, transaction: string): void {
    if (!this.#playing) {
      throw new PluginError(RECORDPLAY_ERROR.INVALID_STATE, "Not a playout session, can't start");
    }
    if (!jsep) throw new PluginError(RECORDPLAY_ERROR.MISSING_ELEMENT, "Missing SDP answer");
    this.#result({ status: "playing" }, transaction);
    this.#handle.notifyEvent?.({ event: "playing", id: this.#recording?.id ?? 0 });
  }

  async #stop(transaction: string): Promise<void> {
    const rec = this.#recording;
    // The files are complete before the client hears `stopped`.
    for (const mid of this.#recordedMids) await this.#handle.webrtc.stopRecording(mid);
    this.#dataRecorder?.close();
    const result: JsonObject = { status: "stopped" };
    if (rec) result.id = rec.id;
    this.#result(result, transaction);
    if (rec) this.#handle.notifyEvent?.({ event: "stopped", id: rec.id });
    this.#handle.closePeer();
  }

  /** The playout sent its last packet: the PeerConnection goes, as the reference closes it. */
  #ended(): void {
    if (!this.#destroyed) this.#handle.closePeer();
  }

  setupMedia(): void {
    this.#hangingUp = false;
    this.#connected = true;
    // The reference's playout thread starts here: data times count from now.
    this.#dataPlayout?.start();
  }

  hangupMedia(): void {
    this.#connected = false;
    if (this.#hangingUp) return;
    this.#hangingUp = true;
    this.#result("done");
    void this.#finish();
  }

  /** Ends the recording or playout of this handle: a recording gets its `.nfo`. */
  async #finish(): Promise<void> {
    const rec = this.#recording;
    const recorder = this.#recorder;
    const mids = this.#recordedMids;
    this.#recording = undefined;
    this.#recorder = undefined;
    this.#recordedMids = [];
    this.#playing = false;
    this.#paused = false;
    this.#playedMids = [];
    this.#inactiveMids = [];
    this.#offered = "";
    this.#dataPlayout?.stop();
    this.#dataPlayout = undefined;
    this.#dataRecorder?.close();
    this.#dataRecorder = undefined;
    await this.#handle.webrtc.stopPlay().catch(() => {});
    for (const mid of mids) await this.#handle.webrtc.stopRecording(mid).catch(() => {});
    if (recorder && rec && !rec.completed) await this.#ctx.library.complete(rec);
  }

  /** A message of the recorder's data channel (a player's are ignored, as the reference). */
  onData(data: string | Uint8Array): void {
    if (this.#recorder === true && this.#recording) this.#dataRecorder?.write(data);
  }

  async destroy(): Promise<void> {
    this.#destroyed = true;
    this.#ctx.sessions.delete(this);
    if (this.#recording) await this.#finish();
  }

  query(): JsonObject {
    const type = this.#recorder === true
      ? "recorder"
      : this.#recorder === false
      ? "player"
      : "none";
    const info: JsonObject = { type };
    if (this.#recording) {
      info.recording_id = this.#recording.id;
      info.recording_name = this.#recording.name;
    }
    // The reference clears its flag once a hangup is handled, as ours are at once.
    info.hangingup = 0;
    info.destroyed = this.#destroyed ? 1 : 0;
    return info;
  }

  get active(): boolean {
    return this.#recorder !== undefined;
  }
}

/** Creates the Record&Play plugin. */
export function createRecordPlayPlugin(): Plugin & { counts(): { sessions: number } } {
  const ctx: Context = {
    library: new Library(""),
    maxFileBytes: 0,
    sessions: new Set(),
  };
  /** Set when the folder could not be made: the reference does not load then. */
  let unavailable: string | undefined;
  return {
    info: INFO,
    async init(raw) {
      const parsed = RecordPlayConfig.safeParse(raw ?? {});
      if (!parsed.success) {
        throw new Error(`janus.plugin.recordplay: invalid configuration: ${parsed.error.message}`);
      }
      ctx.library = new Library(parsed.data.path);
      ctx.maxFileBytes = parsed.data.max_file_bytes;
      try {
        await Deno.mkdir(parsed.data.path, { recursive: true });
      } catch (e) {
        unavailable = (e as Error).message;
        log.error(`cannot make the recordings folder ${parsed.data.path}: ${unavailable}`);
        return;
      }
      await ctx.library.update();
    },
    destroy: () => Promise.resolve(),
    // The admin API's `message_plugin` offers `update` only, as the reference's.
    async handleAdminMessage(body) {
      checkBody(body, REQUEST_FIELDS, FIELD_CODES);
      if (String(body.request).toLowerCase() !== "update") {
        throw new PluginError(
          RECORDPLAY_ERROR.INVALID_REQUEST,
          `Unknown request '${String(body.request)}'`,
        );
      }
      await ctx.library.update();
      return { recordplay: "ok" };
    },
    createSession(handle) {
      if (unavailable !== undefined) {
        // The reference's plugin does not load without its folder: nothing can attach.
        return Promise.reject(new Error("The recordings folder cannot be made"));
      }
      const session = new RecordPlaySession(handle, ctx);
      ctx.sessions.add(session);
      return Promise.resolve(session);
    },
    metrics: () => {
      let active = 0;
      for (const s of ctx.sessions) if (s.active) active++;
      return { sessions: ctx.sessions.size, active };
    },
    counts: () => ({ sessions: ctx.sessions.size }),
    formatError: (error) => ({ recordplay: "event", error_code: error.code, error: error.message }),
  };
}
