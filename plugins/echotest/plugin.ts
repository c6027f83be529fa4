/**
 * EchoTest: sends a peer's own media and data back to it. Every request is
 * asynchronous: an `ack` with a hint, then an event with the same transaction.
 *
 * @module
 */
import {
  type JsonObject,
  type Plugin,
  PluginError,
  type PluginEvent,
  type PluginHandle,
  type PluginInfo,
  type PluginMessage,
  type PluginReply,
  type PluginSession,
} from "../../core/plugin.ts";
import { answeredCodecs, liveMediaLines, type MediaLine } from "../_shared/media_lines.ts";
import { checkBody } from "../_shared/validate.ts";
import { ECHOTEST_ERROR } from "./errors.ts";
import { ECHOTEST_FIELDS, EchoTestBody } from "./schemas.ts";

const INFO: PluginInfo = {
  id: "janus.plugin.echotest",
  name: "JANUS EchoTest plugin",
  description: "Sends a peer's own audio, video and data back to it.",
  author: "Janus-compatible gateway",
  version: 7,
  versionString: "0.0.7",
};

/** The reference's hint on every EchoTest ack. */
export const ECHOTEST_HINT = "I'm taking my time!";
/** Prefix of every echoed data-channel text. */
export const ECHOTEST_DATA_PREFIX = "Janus EchoTest here! You wrote: ";

class EchoTestSession implements PluginSession {
  #handle: PluginHandle;
  #audio = true;
  #video = true;
  #bitrate = 0;
  #substream: number | undefined;
  #temporal: number | undefined;
  #slowlinks = 0;
  /** The answered m-lines, each forwarded to ourselves (echo) once the PC has it. */
  #lines: MediaLine[] = [];
  /** The codecs of our answer (`audio_codec`, `video_codec` in the handle info). */
  #codecs: { audio_codec?: string; video_codec?: string } = {};
  #echoing = new Set<string>();
  #hangingUp = false;
  #destroyed = false;

  constructor(handle: PluginHandle) {
    this.#handle = handle;
  }

  handleMessage(message: PluginMessage): Promise<PluginReply> {
    return Promise.resolve({ kind: "ack", hint: ECHOTEST_HINT, event: this.#process(message) });
  }

  async #process(message: PluginMessage): Promise<PluginEvent> {
    const { body, jsep } = message;
    checkBody(body, ECHOTEST_FIELDS, {
      missing: ECHOTEST_ERROR.INVALID_ELEMENT,
      invalid: ECHOTEST_ERROR.INVALID_ELEMENT,
    });
    const known = ECHOTEST_FIELDS.some((f) => body[f.name] !== undefined);
    if (!known && !jsep) {
      throw new PluginError(
        ECHOTEST_ERROR.INVALID_ELEMENT,
        "Message error: no supported attributes found",
      );
    }
    const request = EchoTestBody.parse(body);
    if (request.audio !== undefined) this.#audio = request.audio;
    if (request.video !== undefined) this.#video = request.video;
    if (request.bitrate !== undefined) this.#bitrate = request.bitrate;
    if (request.substream !== undefined) this.#substream = request.substream;
    if (request.temporal !== undefined) this.#temporal = request.temporal;
    const webrtc = this.#handle.webrtc;
    const event: PluginEvent = { data: { echotest: "event", result: "ok" } };
    // Before the answer, so that it carries the cap too.
    if (request.bitrate !== undefined || jsep?.type === "offer") {
      await webrtc.setBitrateCap(this.#bitrate);
    }
    if (jsep?.type === "offer") {
      // One codec per medium, as the reference answers: the requested one, else the first
      // offered one the engine can use.
      const codecs = {
        ...(request.audiocodec !== undefined ? { audio: [request.audiocodec] } : {}),
        ...(request.videocodec !== undefined ? { video: [request.videocodec] } : {}),
      };
      try {
        event.jsep = await webrtc.acceptOffer(jsep, { codecs });
      } catch (e) {
        throw new PluginError(ECHOTEST_ERROR.INVALID_SDP, (e as Error).message);
      }
      this.#lines = liveMediaLines(event.jsep.sdp);
      this.#codecs = answeredCodecs(event.jsep.sdp);
    }
    if (webrtc.active) await this.#echo();
    // Event handlers hear the state after each message, as the reference's notify_event.
    this.#handle.notifyEvent?.({
      audio_active: this.#audio,
      video_active: this.#video,
      bitrate: this.#bitrate,
    });
    return event;
  }

  /** Echo is each m-line forwarded to ourselves; `audio`/`video` pause and resume it. */
  async #echo(): Promise<void> {
    const webrtc = this.#handle.webrtc;
    for (const { kind, mid } of this.#lines) {
      const active = kind === "audio" ? this.#audio : this.#video;
      if (this.#echoing.has(mid)) {
        await webrtc.setForwarding({ to: webrtc, toMid: mid, active });
        continue;
      }
      await webrtc.forward({ to: webrtc, fromMid: mid, toMid: mid, active });
      this.#echoing.add(mid);
    }
  }

  setupMedia(): void {
    this.#hangingUp = false;
  }

  onData(data: string | Uint8Array, label: string): void {
    const text = typeof data === "string" ? data : new TextDecoder().decode(data);
    void this.#handle.webrtc.sendData(ECHOTEST_DATA_PREFIX + text, label).catch(() => {});
  }

  hangupMedia(): void {
    // The PeerConnection is gone, and its forwards with it.
    this.#lines = [];
    this.#codecs = {};
    this.#echoing.clear();
    // Only the first hangup after a media setup is announced (the reference's hangingup flag).
    if (this.#hangingUp) return;
    this.#hangingUp = true;
    this.#handle.pushEvent({ data: { echotest: "event", result: "done" } });
    this.#audio = true;
    this.#video = true;
    this.#bitrate = 0;
  }

  destroy(): Promise<void> {
    this.#destroyed = true;
    return Promise.resolve();
  }

  query(): JsonObject {
    const info: JsonObject = {
      audio_active: this.#audio,
      video_active: this.#video,
      ...this.#codecs,
      bitrate: this.#bitrate,
      "peer-bitrate": 0,
      slowlink_count: this.#slowlinks,
      // The reference clears its flag once a hangup is handled, as ours are at once.
      hangingup: 0,
      destroyed: this.#destroyed ? 1 : 0,
    };
    if (this.#substream !== undefined) info.substream = this.#substream;
    if (this.#temporal !== undefined) info.temporal = this.#temporal;
    return info;
  }
}

/** Creates the EchoTest plugin. */
export function createEchoTestPlugin(): Plugin {
  /** Handles attached now (each leaves when its signal aborts), for `metrics`. */
  const live = new Set<PluginHandle>();
  return {
    info: INFO,
    init: () => Promise.resolve(),
    destroy: () => Promise.resolve(),
    // Nothing to configure: like the reference's, it echoes an admin request back.
    handleAdminMessage: (body) => Promise.resolve(structuredClone(body)),
    createSession: (handle) => {
      live.add(handle);
      handle.signal.addEventListener("abort", () => live.delete(handle), { once: true });
      return Promise.resolve(new EchoTestSession(handle));
    },
    metrics: () => {
      let calls = 0;
      for (const h of live) if (h.webrtc.active) calls++;
      return { sessions: live.size, calls };
    },
    formatError: (error) => ({ echotest: "event", error_code: error.code, error: error.message }),
  };
}
