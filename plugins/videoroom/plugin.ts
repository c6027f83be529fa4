/**
 * VideoRoom (`janus.plugin.videoroom`): an SFU. Room management requests are synchronous;
 * joining, publishing and subscribing are asynchronous (an `ack`, then an event). Each
 * handle's async requests run one after another, so its events keep their order.
 *
 * Media: each subscriber m-line is fed by one per-stream forward from its publisher's PC
 * (`PluginWebRTC.forward`), so `pause` / `start`, `configure` `send`, `moderate`, a publisher's
 * `streams[].send`, `switch`, `update` / `unsubscribe` and `unpublish` act on exactly the
 * m-lines they address and media really stops and resumes, with no renegotiation.
 *
 * `audiolevel_event` rooms send `talking` / `stopped-talking` from the levels the media engine
 * measures (`PluginWebRTC.onAudioLevel`, about twice a second: the RMS of each 20 ms of the
 * decoded audio, as a sender fills the RFC 6464 extension the reference reads), averaged over
 * `audio_active_packets` packets as the reference does.
 *
 * Gaps with the reference, due to the media engines (neither handles simulcast layers):
 * - `configure {substream, temporal}` only changes the signalled state;
 * - `rtp_forward` sends (S)RTP of audio/video streams, with RTCP feedback from an `rtcp_port`,
 *   and a publisher's data-channel messages as datagrams, but no simulcast layers
 *   (`forwarders.ts`); recordings are MJR files of every stream, data too (`recording.ts`).
 *
 * Publishers' data-channel messages (text and binary) are relayed by the plugin to the
 * subscribers of their data stream, on the subscriber's one data m-line, each publisher's on a
 * channel named after its id, as the reference (`slots.ts`).
 *
 * One deliberate difference: the legacy `switch` (`{"feed": F}`, no `streams`) moves every
 * m-line of the subscription to F's streams of the same kind, as its documentation says;
 * Janus 1.1.2 answers 430 `Empty switch list` to it even when F is publishing.
 *
 * @module
 */
import {
  type Jsep,
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
import { BODY } from "../_shared/validate.ts";
import { joinFirst, missing, unknownRequest, VIDEOROOM_ERROR } from "./errors.ts";
import { RoomStore } from "./persist.ts";
import { Publisher } from "./publisher.ts";
import { allowedTokens, handleSync, SYNC_REQUESTS } from "./requests.ts";
import { Room, type RoomProps, roomProps, RoomRegistry, STOCK_ROOMS } from "./room.ts";
import {
  check,
  checkEach,
  CONFIGURE_FIELDS,
  CREATE_FIELDS,
  DESCRIPTION_FIELDS,
  entryObject,
  JOIN_FIELDS,
  PUBLISH_STREAM_FIELDS,
  ROOM_FIELD,
  STREAM_FIELDS,
  UPDATE_FIELDS,
  VideoRoomConfig,
} from "./schemas.ts";
import { Subscriber } from "./subscriber.ts";

const INFO: PluginInfo = {
  id: "janus.plugin.videoroom",
  name: "JANUS VideoRoom plugin",
  description: "This is a plugin implementing a videoconferencing SFU (Selective Forwarding Unit).",
  author: "Janus-compatible gateway",
  version: 9,
  versionString: "0.0.9",
};

/** Requests answered with `ack` and a later event. */
export const ASYNC_REQUESTS: ReadonlySet<string> = new Set([
  "join",
  "joinandconfigure",
  "configure",
  "publish",
  "unpublish",
  "start",
  "pause",
  "switch",
  "subscribe",
  "unsubscribe",
  "update",
  "leave",
]);

/** What every session of the plugin shares. */
interface Shared {
  rooms: RoomRegistry;
  store: RoomStore;
  maxStreams: number;
}

/** Reads `request`: 429 when missing, 430 when not a string. */
function requestName(body: JsonObject): string {
  check(body, [{ name: "request", ...BODY.string, required: true }]);
  return body.request as string;
}

/** What event handlers hear of a room's `created`/`edited`/`destroyed` (janus_videoroom.c). */
function managementEvent(data: JsonObject): JsonObject | undefined {
  const what = data.videoroom;
  if (what !== "created" && what !== "edited" && what !== "destroyed") return undefined;
  return { event: what, room: data.room ?? null };
}

function event(data: JsonObject, jsep?: Jsep): PluginEvent {
  return jsep ? { data, jsep } : { data };
}

class VideoRoomSession implements PluginSession {
  #handle: PluginHandle;
  #shared: Shared;
  #publisher: Publisher | undefined;
  #subscriber: Subscriber | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #destroyed = false;

  constructor(handle: PluginHandle, shared: Shared) {
    this.#handle = handle;
    this.#shared = shared;
  }

  async handleMessage(message: PluginMessage): Promise<PluginReply> {
    const request = requestName(message.body);
    if (SYNC_REQUESTS.has(request)) {
      const data = await handleSync(
        this.#shared,
        request,
        message.body,
        (e) => this.#notify(e, false),
      );
      const told = managementEvent(data);
      if (told) this.#notify(told);
      return { kind: "success", data };
    }
    if (!ASYNC_REQUESTS.has(request)) throw unknownRequest(request);
    const pending = this.#queue.then(() => this.#process(request, message));
    this.#queue = pending.catch(() => {});
    return { kind: "ack", event: pending };
  }

  /** An event for event handlers, worded as the reference's (`scoped` false: no ids). */
  #notify(data: JsonObject, scoped = true): void {
    this.#handle.notifyEvent?.(data, scoped);
  }

  async #process(request: string, message: PluginMessage): Promise<PluginEvent | undefined> {
    const joining = request === "join" || request === "joinandconfigure";
    // After `leave` the reference answers 426 "No such room" until the handle joins again;
    // a kicked participant's handle cannot join again.
    if (this.#publisher?.wasKicked && joining) {
      throw new PluginError(VIDEOROOM_ERROR.ALREADY_JOINED, "Not in a room (create a new handle)");
    }
    if (this.#publisher?.left && joining) this.#publisher = undefined;
    if (this.#subscriber?.left) this.#subscriber = undefined;
    const { body, jsep, transaction } = message;
    const pub = this.#publisher;
    const sub = this.#subscriber;
    if (pub) return await this.#publisherRequest(pub, request, message);
    if (sub) return await this.#subscriberRequest(sub, request, message);
    if (!joining) throw joinFirst();
    check(body, ROOM_FIELD);
    check(body, JOIN_FIELDS);
    const room = this.#shared.rooms.get(body.room as number);
    room.checkAccess(body);
    if (body.ptype === "publisher") {
      const { publisher, joined } = Publisher.join(this.#handle, room, body);
      this.#publisher = publisher;
      this.#notify({
        event: "joined",
        room: room.id,
        id: publisher.id,
        private_id: publisher.privateId,
        ...(publisher.display !== undefined ? { display: publisher.display } : {}),
      });
      if (request === "joinandconfigure" || jsep?.type === "offer") {
        const done = await publisher.configure(body, jsep);
        return event({ ...joined, ...done.fields }, done.jsep);
      }
      return event(joined);
    }
    if (body.ptype === "subscriber") {
      const { subscriber, data, jsep: offer } = await Subscriber.join(this.#handle, room, body, {
        maxStreams: this.#shared.maxStreams,
      });
      this.#subscriber = subscriber;
      const privateId = typeof body.private_id === "number" ? body.private_id : 0;
      this.#notify({
        event: "subscribing",
        room: room.id,
        streams: data.streams ?? [],
        private_id: privateId,
      });
      return { transaction, data, jsep: offer };
    }
    throw new PluginError(VIDEOROOM_ERROR.INVALID_ELEMENT, "Invalid element (ptype)");
  }

  async #publisherRequest(
    pub: Publisher,
    request: string,
    { body, jsep, transaction }: PluginMessage,
  ): Promise<PluginEvent | undefined> {
    switch (request) {
      case "join":
      case "joinandconfigure":
        throw new PluginError(
          VIDEOROOM_ERROR.ALREADY_JOINED,
          "Already in as a publisher on this handle",
        );
      case "configure":
      case "publish": {
        if (request === "publish") pub.checkCanPublish();
        checkConfigure(body);
        const done = await pub.configure(body, jsep);
        const data = { videoroom: "event", room: pub.room.id, configured: "ok", ...done.fields };
        const bitrate = typeof body.bitrate === "number" ? body.bitrate : 0;
        this.#notify({ event: "configured", room: pub.room.id, id: pub.id, bitrate });
        return event(data, done.jsep);
      }
      case "unpublish":
        pub.unpublish(transaction);
        return undefined;
      case "leave":
        pub.leave(transaction);
        return undefined;
      default:
        throw unknownRequest(request);
    }
  }

  async #subscriberRequest(
    sub: Subscriber,
    request: string,
    { body, jsep, transaction }: PluginMessage,
  ): Promise<PluginEvent | undefined> {
    switch (request) {
      case "join":
      case "joinandconfigure":
        throw new PluginError(
          VIDEOROOM_ERROR.ALREADY_JOINED,
          "Already in as a subscriber on this handle",
        );
      case "start": {
        const started = await sub.start(jsep);
        this.#notify({ event: "subscribed", room: sub.room.id });
        if (!started.follow) return event(started.data);
        this.#handle.pushEvent({ transaction, data: started.data });
        const next = await sub.followUp();
        this.#handle.pushEvent(event(next.data, next.jsep));
        return undefined;
      }
      case "pause":
        return event(await sub.pause());
      case "configure": {
        const done = await sub.configure(body);
        return event(done.data, done.jsep);
      }
      case "subscribe":
      case "unsubscribe":
      case "update": {
        let add: JsonObject[] = [];
        let drop: JsonObject[] = [];
        if (request === "update") {
          check(body, UPDATE_FIELDS);
          if (body.subscribe === undefined && body.unsubscribe === undefined) {
            throw new PluginError(
              VIDEOROOM_ERROR.MISSING_ELEMENT,
              "At least one of either 'subscribe' or 'unsubscribe' must be present",
            );
          }
          checkNotEmpty(body.subscribe, "subscription");
          checkNotEmpty(body.unsubscribe, "unsubscription");
          add = checkEach(asArray(body.subscribe), STREAM_FIELDS);
          drop = checkEach(asArray(body.unsubscribe), STREAM_FIELDS);
        } else {
          if (!Array.isArray(body.streams)) throw missing("streams");
          checkNotEmpty(body.streams, request === "subscribe" ? "subscription" : "unsubscription");
          const list = checkEach(body.streams, STREAM_FIELDS);
          if (request === "subscribe") add = list;
          else drop = list;
        }
        const done = await sub.update(add, drop);
        return event(done.data, done.jsep);
      }
      case "switch": {
        const switched = await sub.switchFeeds(body);
        // The reference tells only the room (its `changes` and `streams` go astray).
        this.#notify({ event: "switched", room: sub.room.id });
        return event(switched);
      }
      case "leave":
        sub.leave(transaction);
        return undefined;
      default:
        throw unknownRequest(request);
    }
  }

  setupMedia(): void {
    this.#publisher?.setupMedia();
  }

  onData(data: string | Uint8Array): void {
    this.#publisher?.onData(data);
  }

  hangupMedia(): void {
    this.#publisher?.hangupMedia();
    this.#subscriber?.hangupMedia();
  }

  destroy(): Promise<void> {
    this.#destroyed = true;
    this.#publisher?.destroy();
    this.#subscriber?.destroy();
    this.#publisher = undefined;
    this.#subscriber = undefined;
    return Promise.resolve();
  }

  query(): JsonObject {
    // The reference's flags after the participant's part (none before a join).
    const part = this.#publisher?.query() ?? this.#subscriber?.query() ?? {};
    return { ...part, hangingup: 0, destroyed: this.#destroyed ? 1 : 0 };
  }
}

/** A publisher's `configure` / `publish` fields, then each description and stream entry. */
function checkConfigure(body: JsonObject): void {
  check(body, CONFIGURE_FIELDS);
  for (const d of asArray(body.descriptions)) check(entryObject(d), DESCRIPTION_FIELDS);
  for (const s of asArray(body.streams)) {
    const entry = entryObject(s);
    if (entry === s) check(entry, PUBLISH_STREAM_FIELDS);
  }
}

/** 430 `Empty subscription list` (or unsubscription) for a list given empty. */
function checkNotEmpty(list: unknown, what: "subscription" | "unsubscription"): void {
  if (Array.isArray(list) && list.length === 0) {
    throw new PluginError(VIDEOROOM_ERROR.INVALID_ELEMENT, `Empty ${what} list`);
  }
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Creates a room from a configuration entry; a bad entry stops start-up with its message. */
function configRoom(shared: Shared, entry: JsonObject, permanent: boolean): void {
  let props: RoomProps;
  let allowed: string[] | undefined;
  try {
    check(entry, CREATE_FIELDS);
    const id = typeof entry.room === "number" && entry.room > 0 ? entry.room : undefined;
    props = roomProps(id ?? shared.rooms.freeId(), entry);
    allowed = allowedTokens(entry);
  } catch (e) {
    throw new Error(
      `janus.plugin.videoroom: bad room ${JSON.stringify(entry)}: ${(e as Error).message}`,
    );
  }
  shared.rooms.rooms.delete(props.room);
  shared.rooms.add(new Room(props, { permanent, ...(allowed ? { allowed } : {}) }));
}

/** Creates the VideoRoom plugin. */
export function createVideoRoomPlugin(): Plugin {
  const shared: Shared = {
    rooms: new RoomRegistry(),
    store: new RoomStore(undefined),
    maxStreams: 64,
  };
  return {
    info: INFO,
    async init(raw, host) {
      const parsed = VideoRoomConfig.safeParse(raw ?? {});
      if (!parsed.success) {
        throw new Error(`janus.plugin.videoroom: invalid configuration: ${parsed.error.message}`);
      }
      const config = parsed.data;
      shared.store = new RoomStore(config.rooms_file, host);
      shared.maxStreams = config.max_streams_per_room;
      // Written back to the configuration file, its rooms are permanent ones.
      for (const entry of config.rooms ?? STOCK_ROOMS) {
        configRoom(shared, entry as JsonObject, shared.store.inConfig);
      }
      for (const entry of await shared.store.load()) configRoom(shared, entry, true);
    },
    destroy() {
      shared.rooms.rooms.clear();
      return Promise.resolve();
    },
    createSession: (handle) => Promise.resolve(new VideoRoomSession(handle, shared)),
    metrics() {
      let participants = 0;
      let publishers = 0;
      let subscribers = 0;
      for (const room of shared.rooms.rooms.values()) {
        participants += room.members.size;
        publishers += room.publishingCount();
        subscribers += room.watchers.size;
      }
      return { rooms: shared.rooms.rooms.size, participants, publishers, subscribers };
    },
    async handleAdminMessage(body, notify) {
      const request = requestName(body);
      if (!SYNC_REQUESTS.has(request)) throw unknownRequest(request);
      const data = await handleSync(shared, request, body, notify);
      const told = managementEvent(data);
      if (told) notify(told);
      return data;
    },
    formatError: (error) => ({ videoroom: "event", error_code: error.code, error: error.message }),
  };
}
