/**
 * TextRoom (`janus.plugin.textroom`): text chat rooms over one data channel per handle.
 *
 * The Janus API negotiates the PeerConnection (`setup`: we offer one `m=application` line;
 * `ack`: the client's answer, applied by the core; `restart`) and takes the management requests
 * (`list`, `create`, ...) at once. Everything else (`join`, `message`, `leave`, and the
 * management requests again) comes as JSON text on the data channel, one request at a time per
 * handle, each answered there with its `transaction`.
 *
 * As the reference: binary and unparsable data-channel messages are dropped without a reply; a
 * hangup or detach leaves every room (the others get `leave`); after a hangup `setup` stays
 * refused (416) and `restart` offers again. `restart` asks for an ICE restart and, on a media
 * engine that cannot (rtp), renegotiates with the same ICE credentials.
 *
 * @module
 */
import {
  type JsonObject,
  type Plugin,
  PluginError,
  type PluginEvent,
  type PluginHandle,
  type PluginHost,
  type PluginInfo,
  type PluginMessage,
  type PluginReply,
  type PluginSession,
} from "../../core/plugin.ts";
import { createLogger } from "../../core/log.ts";
import { TEXTROOM_ERROR } from "./errors.ts";
import { formatJson } from "./format.ts";
import { RoomStore } from "./persist.ts";
import {
  answerRequest,
  leave,
  MANAGEMENT_REQUESTS,
  roomOf,
  type TextRoomContext,
} from "./requests.ts";
import { type Participant, RoomRegistry, STOCK_ROOMS } from "./room.ts";
import { check, CREATE_FIELDS, REQUEST_FIELD, ROOM_OPTIONAL, TextRoomConfig } from "./schemas.ts";

const log = createLogger("textroom");

const INFO: PluginInfo = {
  id: "janus.plugin.textroom",
  name: "JANUS TextRoom plugin",
  description: "This is a plugin implementing a text-only room for Janus, using DataChannels.",
  author: "Janus-compatible gateway",
  version: 2,
  versionString: "0.0.2",
};

/** Requests answered with `ack` and a later event. */
const ASYNC_REQUESTS: ReadonlySet<string> = new Set(["setup", "ack", "restart"]);

/** Live plugin state, for tests and leak checks. */
export interface TextRoomCounts {
  rooms: number;
  participants: number;
  /** Plugin sessions (handles attached to the plugin). */
  sessions: number;
  /** `post` backend requests still running. */
  posts: number;
}

/** The TextRoom plugin, with its live counts. */
export interface TextRoomPlugin extends Plugin {
  counts(): TextRoomCounts;
}

/** What every session shares. */
interface Shared {
  ctx: TextRoomContext;
  sessions: Set<TextRoomSession>;
  maxMessageBytes: number;
}

const ok = (): JsonObject => ({ textroom: "event", result: "ok" });
const failure = (code: number, error: string): PluginEvent => ({
  data: { textroom: "error", error_code: code, error },
});

class TextRoomSession implements PluginSession {
  readonly rooms = new Map<number, Participant>();
  #handle: PluginHandle;
  #shared: Shared;
  #setup = false;
  #destroyed = false;
  #queue: Promise<unknown> = Promise.resolve();
  #dataQueue: Promise<void> = Promise.resolve();

  constructor(handle: PluginHandle, shared: Shared) {
    this.#handle = handle;
    this.#shared = shared;
  }

  async handleMessage(message: PluginMessage): Promise<PluginReply> {
    const { body, transaction } = message;
    check(body, REQUEST_FIELD);
    const request = (body.request as string).toLowerCase();
    if (MANAGEMENT_REQUESTS.has(request)) {
      // As the reference: the body is answered as a data-channel request would be.
      const root: JsonObject = { ...body, textroom: body.textroom ?? body.request, transaction };
      const data = await answerRequest(this.#shared.ctx, this, root, "api");
      if (data) return { kind: "success", data };
      throw new PluginError(TEXTROOM_ERROR.INVALID_JSON, "JSON error: not an object");
    }
    if (!ASYNC_REQUESTS.has(request)) {
      throw new PluginError(
        TEXTROOM_ERROR.INVALID_REQUEST,
        `Unknown request '${body.request as string}'`,
      );
    }
    const pending = this.#queue.then(() => this.#negotiate(request));
    this.#queue = pending.catch(() => {});
    return { kind: "ack", event: pending };
  }

  async #negotiate(request: string): Promise<PluginEvent> {
    const webrtc = this.#handle.webrtc;
    if (request === "ack") return { data: ok() };
    if (request === "setup") {
      if (this.#setup) return failure(TEXTROOM_ERROR.ALREADY_SETUP, "PeerConnection already setup");
      this.#setup = true;
      try {
        return { data: ok(), jsep: await webrtc.createOffer({ data: true }) };
      } catch (e) {
        this.#setup = false;
        return failure(TEXTROOM_ERROR.UNKNOWN, (e as Error).message);
      }
    }
    if (!this.#setup) return failure(TEXTROOM_ERROR.ALREADY_SETUP, "PeerConnection not setup");
    try {
      let jsep;
      try {
        jsep = await webrtc.createOffer({ iceRestart: true, data: true });
      } catch {
        jsep = await webrtc.createOffer({ data: true });
      }
      return { data: ok(), jsep };
    } catch (e) {
      return failure(TEXTROOM_ERROR.UNKNOWN, (e as Error).message);
    }
  }

  notify(data: JsonObject): void {
    this.#handle.notifyEvent?.(data);
  }

  /** Writes a message on this handle's data channel; without one it is lost, as in Janus. */
  send(text: string): void {
    if (this.#destroyed || !this.#handle.webrtc.active) return;
    void this.#handle.webrtc.sendData(text).catch(() => {});
  }

  setupMedia(): void {}

  onData(data: string | Uint8Array): void {
    if (this.#destroyed) return;
    if (typeof data !== "string") {
      log.warn(`[${this.#handle.id}] binary data-channel message dropped (TextRoom takes text)`);
      return;
    }
    const max = this.#shared.maxMessageBytes;
    if (data.length * 3 > max && new TextEncoder().encode(data).length > max) {
      log.warn(`[${this.#handle.id}] data-channel message over ${max} bytes dropped`);
      return;
    }
    this.#dataQueue = this.#dataQueue.then(() => this.#onText(data));
  }

  async #onText(text: string): Promise<void> {
    let root: unknown;
    try {
      root = JSON.parse(text);
    } catch {
      log.warn(`[${this.#handle.id}] data-channel message is not JSON, dropped`);
      return;
    }
    // The reference parses objects and arrays only; an array has none of the fields.
    if (typeof root !== "object" || root === null) return;
    const request = Array.isArray(root) ? {} : root as JsonObject;
    const reply = await answerRequest(this.#shared.ctx, this, request, "data");
    if (reply) this.send(this.#shared.ctx.encode(reply));
  }

  /** Leaves every room (the others get `leave`). */
  #leaveAll(): void {
    const ctx = this.#shared.ctx;
    for (const id of [...this.rooms.keys()]) {
      const room = ctx.rooms.rooms.get(id);
      if (room) leave(ctx, this, room);
      else this.rooms.delete(id);
    }
  }

  hangupMedia(): void {
    this.#leaveAll();
  }

  destroy(): Promise<void> {
    this.#leaveAll();
    this.#destroyed = true;
    this.#shared.sessions.delete(this);
    return Promise.resolve();
  }

  query(): JsonObject {
    // The reference's whole handle info (its "TODO: participant details" is not done there).
    return { destroyed: this.#destroyed ? 1 : 0 };
  }
}

/** Creates a room from a configuration entry; a bad entry stops start-up with its message. */
function configRoom(shared: Shared, entry: JsonObject, saved: boolean): void {
  const ctx = shared.ctx;
  try {
    check(entry, CREATE_FIELDS);
    check(entry, ROOM_OPTIONAL);
    const id = typeof entry.room === "number" && entry.room > 0 ? entry.room : ctx.rooms.freeId();
    const room = roomOf(ctx, id, entry);
    ctx.rooms.rooms.delete(id);
    ctx.rooms.add(room);
    if (saved) ctx.store.adopt(room);
  } catch (e) {
    throw new Error(
      `janus.plugin.textroom: bad room ${JSON.stringify(entry)}: ${(e as Error).message}`,
    );
  }
}

/** Creates the TextRoom plugin. */
export function createTextRoomPlugin(): TextRoomPlugin {
  const posts = new Set<AbortController>();
  let postTimeoutMs = 5000;
  const shared: Shared = {
    sessions: new Set(),
    maxMessageBytes: 65535,
    ctx: {
      rooms: new RoomRegistry(),
      store: new RoomStore(undefined),
      adminKey: undefined,
      maxHistory: 1000,
      encode: (value) => formatJson(value, "indented"),
      post: (url, text) => void postMessage(url, text),
    },
  };

  async function postMessage(url: string, text: string): Promise<void> {
    const abort = new AbortController();
    posts.add(abort);
    const timer = setTimeout(() => abort.abort(), postTimeoutMs);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "accept": "application/json",
          "content-type": "application/json",
          "charsets": "utf-8",
        },
        body: text,
        signal: abort.signal,
      });
      await res.body?.cancel();
    } catch (e) {
      log.warn(`couldn't relay a message to the backend ${url}: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
      posts.delete(abort);
    }
  }

  return {
    info: INFO,
    async init(raw, host?: PluginHost) {
      const parsed = TextRoomConfig.safeParse(raw ?? {});
      if (!parsed.success) {
        throw new Error(`janus.plugin.textroom: invalid configuration: ${parsed.error.message}`);
      }
      const config = parsed.data;
      const ctx = shared.ctx;
      ctx.store = new RoomStore(config.rooms_file, host);
      ctx.adminKey = config.admin_key;
      ctx.maxHistory = config.max_history;
      ctx.encode = (value) => formatJson(value, config.json);
      shared.maxMessageBytes = config.max_message_bytes;
      postTimeoutMs = config.post_timeout_ms;
      // The configuration's rooms are the saved ones when it is where they are written.
      for (const entry of config.rooms ?? STOCK_ROOMS) {
        configRoom(shared, entry as JsonObject, ctx.store.inConfig);
      }
      for (const entry of await ctx.store.load()) configRoom(shared, entry, true);
    },
    destroy() {
      for (const abort of posts) abort.abort();
      for (const room of [...shared.ctx.rooms.rooms.values()]) shared.ctx.rooms.remove(room);
      return Promise.resolve();
    },
    createSession(handle) {
      const session = new TextRoomSession(handle, shared);
      shared.sessions.add(session);
      return Promise.resolve(session);
    },
    async handleAdminMessage(body, notify) {
      check(body, REQUEST_FIELD);
      const request = (body.request as string).toLowerCase();
      if (!MANAGEMENT_REQUESTS.has(request)) {
        throw new PluginError(
          TEXTROOM_ERROR.INVALID_REQUEST,
          `Unknown request '${body.request as string}'`,
        );
      }
      const root: JsonObject = { ...body, textroom: body.textroom ?? body.request };
      const data = await answerRequest(shared.ctx, undefined, root, "admin", notify);
      if (data) return data;
      throw new PluginError(TEXTROOM_ERROR.INVALID_JSON, "JSON error: not an object");
    },
    formatError: (error) => ({ textroom: "event", error_code: error.code, error: error.message }),
    counts: () => ({
      rooms: shared.ctx.rooms.rooms.size,
      participants: shared.ctx.rooms.participants,
      sessions: shared.sessions.size,
      posts: posts.size,
    }),
  };
}
