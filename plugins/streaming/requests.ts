/**
 * The Streaming plugin's synchronous requests (`list`, `info`, `create`, `edit`, `destroy`,
 * `enable`, `disable`, `kick_all`, `recording`), answered in the reference's shapes, codes and
 * order of checks; and the plugin state they act on.
 *
 * @module
 */
import { createLogger } from "../../core/log.ts";
import { srtpMasterKey } from "../../core/media/rtp/srtp.ts";
import { type JsonObject, PluginError, type PluginMedia } from "../../core/plugin.ts";
import {
  BODY,
  type BodyField,
  checkBody,
  checkSecret as sharedCheckSecret,
} from "../_shared/validate.ts";
import { CODES, STREAMING_ERROR } from "./errors.ts";
import { Mountpoint } from "./mountpoint.ts";
import type { MountpointStore } from "./persist.ts";
import { RtspFeed } from "./rtsp_feed.ts";
import { AFFINITY, openSource } from "./source.ts";
import {
  checkFileExists,
  ID_TAKEN,
  type MountpointSpec,
  parseMountpoint,
  RTSP_ERROR,
  type StreamSpec,
} from "./spec.ts";

export { AFFINITY };

const log = createLogger("streaming");

/** The plugin's state. */
export interface StreamingContext {
  mountpoints: Map<number, Mountpoint>;
  /** Ids being created (a concurrent create of the same id is refused). */
  reserved: Set<number>;
  media: PluginMedia | undefined;
  /** Address the RTP ports bind to, unless a stream names its `iface`. */
  bindAddress: string;
  portRange: { min: number; max: number };
  adminKey: string | undefined;
  maxMountpoints: number;
  store: MountpointStore;
  /** Sources bound again after their media worker died or was recycled (`/metrics`). */
  restored: number;
  /** Aborted when the plugin stops: restores in progress give up. */
  stopped: AbortSignal;
}

export const SYNC_REQUESTS: ReadonlySet<string> = new Set([
  "list",
  "info",
  "create",
  "edit",
  "destroy",
  "recording",
  "enable",
  "disable",
  "kick_all",
]);

export const ID_FIELD: readonly BodyField[] = [{ name: "id", ...BODY.positiveInt, required: true }];

export const EDIT_FIELDS: readonly BodyField[] = [
  { name: "new_description", ...BODY.string },
  { name: "new_metadata", ...BODY.string },
  { name: "new_secret", ...BODY.string },
  { name: "new_pin", ...BODY.string },
  { name: "new_is_private", ...BODY.bool },
  { name: "permanent", ...BODY.bool },
  { name: "edited_event", ...BODY.bool },
];

export const RECORDING_FIELDS: readonly BodyField[] = [
  { name: "action", ...BODY.string, required: true },
];

/** `secret`/`pin`/`admin_key` checks of the reference (`JANUS_CHECK_SECRET`). */
export function checkSecret(
  expected: string | undefined,
  body: JsonObject,
  field: "secret" | "pin" | "admin_key",
): void {
  sharedCheckSecret(expected, body, field, {
    ...CODES,
    unauthorized: STREAMING_ERROR.UNAUTHORIZED,
  });
}

/** The mountpoint named by the body's `id` (455 with `missing` when there is none). */
export function mountpointOf(
  ctx: StreamingContext,
  body: JsonObject,
  missing = (id: number) => `No such mountpoint/stream ${id}`,
): Mountpoint {
  checkBody(body, ID_FIELD, CODES);
  const id = body.id as number;
  const mp = ctx.mountpoints.get(id);
  if (!mp) throw new PluginError(STREAMING_ERROR.NO_SUCH_MOUNTPOINT, missing(id));
  return mp;
}

/** Tells event handlers something about the requesting handle (Janus's `notify_event`). */
export type Notify = (data: JsonObject) => void;

/** Answers one synchronous request; `notify` is the requesting handle's (admin: no ids). */
export async function answerRequest(
  ctx: StreamingContext,
  request: string,
  body: JsonObject,
  notify: Notify = () => {},
): Promise<JsonObject> {
  switch (request) {
    case "list":
      return await list(ctx, body);
    case "info": {
      const mp = mountpointOf(ctx, body);
      const admin = mp.secret === undefined || body.secret === mp.secret;
      return { streaming: "info", info: await mp.info(admin) };
    }
    case "create":
      return await create(ctx, body, notify);
    case "edit":
      return await edit(ctx, body, notify);
    case "destroy":
      return await destroy(ctx, body, notify);
    case "enable":
    case "disable": {
      const mp = mountpointOf(ctx, body);
      checkSecret(mp.secret, body, "secret");
      if (request === "disable") {
        checkBody(body, [{ name: "stop_recording", ...BODY.bool }], CODES);
        // As the reference: disabling stops the recordings unless told not to.
        if (body.stop_recording !== false) await stopRecordings(mp, mp.streams);
      }
      mp.enabled = request === "enable";
      for (const v of mp.viewers) v.enabledChanged();
      return { streaming: "ok" };
    }
    case "kick_all": {
      const mp = mountpointOf(ctx, body);
      checkSecret(mp.secret, body, "secret");
      for (const v of [...mp.viewers]) v.end("kicked_all");
      notify({ event: "kicked_all", id: mp.id });
      return { streaming: "kicked_all" };
    }
    default:
      return await recording(ctx, body);
  }
}

const RECORDING_START_FIELDS: readonly BodyField[] = [
  { name: "audio", ...BODY.string },
  { name: "video", ...BODY.string },
  { name: "data", ...BODY.string },
];
const RECORDING_STOP_FIELDS: readonly BodyField[] = [
  { name: "audio", ...BODY.bool },
  { name: "video", ...BODY.bool },
  { name: "data", ...BODY.bool },
];

/** `media` of a `recording` request: an array when present (the reference's check). */
function mediaEntries(body: JsonObject): JsonObject[] | undefined {
  const media = body.media;
  if (media === undefined) return undefined;
  if (!Array.isArray(media)) {
    throw new PluginError(
      STREAMING_ERROR.INVALID_ELEMENT,
      "Invalid element type (media should be an array)",
    );
  }
  return media.filter((m): m is JsonObject =>
    typeof m === "object" && m !== null && !Array.isArray(m)
  );
}

/**
 * `recording`: start or stop MJR recordings of a mountpoint's audio and video streams, by mid
 * (`media: [{mid, filename}]`) or by kind (the deprecated `audio`/`video`/`data` file names;
 * booleans to stop), with the reference's checks in its order. `<filename>.mjr` is written
 * relative to the gateway's working folder unless the name is absolute, as the reference's.
 */
async function recording(ctx: StreamingContext, body: JsonObject): Promise<JsonObject> {
  checkBody(body, RECORDING_FIELDS, CODES);
  const action = String(body.action).toLowerCase();
  if (action !== "start" && action !== "stop") {
    throw new PluginError(STREAMING_ERROR.INVALID_ELEMENT, "Invalid action (should be start|stop)");
  }
  const mp = mountpointOf(ctx, body);
  if (mp.file) {
    throw new PluginError(
      STREAMING_ERROR.INVALID_REQUEST,
      "Recording is only available on RTP-based live streams",
    );
  }
  checkSecret(mp.secret, body, "secret");
  const start = action === "start";
  checkBody(body, start ? RECORDING_START_FIELDS : RECORDING_STOP_FIELDS, CODES);
  const media = mediaEntries(body);
  if (media) {
    for (const m of media) {
      if (typeof m.mid !== "string") continue;
      const stream = mp.streams.find((s) => s.mid.toLowerCase() === String(m.mid).toLowerCase());
      if (!stream) continue;
      if (!start) {
        await stopRecordings(mp, [stream]);
        continue;
      }
      if (typeof m.filename !== "string") continue;
      if (mp.recordings.has(stream.mid)) {
        throw new PluginError(
          STREAMING_ERROR.INVALID_REQUEST,
          "Recording for audio, video and/or data already started for this stream",
        );
      }
      await startRecording(mp, stream, m.filename, `Error starting recorder for ${stream.type}`);
    }
    return { streaming: "ok" };
  }
  if (body.audio === undefined && body.video === undefined && body.data === undefined) {
    throw new PluginError(
      STREAMING_ERROR.INVALID_REQUEST,
      start ? "Missing audio, video and/or data" : "Missing audio, video and or data",
    );
  }
  if (!start) {
    await stopRecordings(mp, mp.streams.filter((s) => body[s.type] === true));
    return { streaming: "ok" };
  }
  for (const stream of mp.streams.filter((s) => body[s.type] !== undefined)) {
    if (mp.recordings.has(stream.mid)) {
      throw new PluginError(STREAMING_ERROR.INVALID_REQUEST, "Recording started for this stream");
    }
    await startRecording(mp, stream, body[stream.type] as string, "Error starting recorder");
  }
  return { streaming: "ok" };
}

async function startRecording(
  mp: Mountpoint,
  stream: StreamSpec,
  filename: string,
  failure: string,
): Promise<void> {
  const path = `${filename}.mjr`;
  try {
    // A data stream's codec is `text`, whatever its datatype (the reference's).
    const codec = stream.type === "data" ? "text" : stream.codec;
    await mp.source.startRecording({ mid: stream.mid, path, codec });
  } catch (e) {
    log.error(`mountpoint ${mp.id}: recording ${path}: ${e instanceof Error ? e.message : e}`);
    throw new PluginError(STREAMING_ERROR.CANT_RECORD, failure);
  }
  mp.recordings.set(stream.mid, path);
}

/** Closes the recordings of `streams` (those recorded). */
async function stopRecordings(mp: Mountpoint, streams: readonly StreamSpec[]): Promise<void> {
  for (const stream of streams) {
    if (!mp.recordings.delete(stream.mid)) continue;
    try {
      await mp.source.stopRecording(stream.mid);
    } catch (e) {
      log.warn(`mountpoint ${mp.id}: closing a recording: ${e instanceof Error ? e.message : e}`);
    }
  }
}

async function list(ctx: StreamingContext, body: JsonObject): Promise<JsonObject> {
  let showPrivate = false;
  if (ctx.adminKey !== undefined && typeof body.admin_key === "string" && body.admin_key !== "") {
    checkSecret(ctx.adminKey, body, "admin_key");
    showPrivate = true;
  }
  const shown = [...ctx.mountpoints.values()].filter((mp) => showPrivate || !mp.isPrivate);
  return { streaming: "list", list: await Promise.all(shown.map((mp) => mp.listEntry())) };
}

async function create(
  ctx: StreamingContext,
  body: JsonObject,
  notify: Notify,
): Promise<JsonObject> {
  const spec = parseMountpoint(body, (id) => ctx.mountpoints.has(id) || ctx.reserved.has(id));
  if (ctx.adminKey !== undefined) {
    checkBody(body, [{ name: "admin_key", ...BODY.string, required: true }], CODES);
    checkSecret(ctx.adminKey, body, "admin_key");
  }
  const permanent = body.permanent === true;
  if (permanent && !ctx.store.writable) {
    throw new PluginError(
      STREAMING_ERROR.UNKNOWN_ERROR,
      "No configuration file, can't create permanent mountpoint",
    );
  }
  const mp = await createMountpoint(ctx, spec);
  const saved = permanent ? await ctx.store.save(mp) : false;
  // "live", or "on demand" for an on-demand file, as the reference.
  notify({ event: "created", id: mp.id, type: mp.typeName });
  return {
    streaming: "created",
    created: mp.name,
    permanent: saved,
    stream: mp.created(),
    // The reference's nudge towards the multistream form.
    ...(mp.legacy ? { warning: "deprecated_api" } : {}),
  };
}

/** Binds a mountpoint's ports and adds it (config entries and `create`). */
export async function createMountpoint(
  ctx: StreamingContext,
  requested: MountpointSpec,
): Promise<Mountpoint> {
  checkFileExists(requested);
  let spec = requested;
  let id = spec.id;
  if (id !== 0 && (ctx.mountpoints.has(id) || ctx.reserved.has(id))) {
    throw new PluginError(STREAMING_ERROR.CANT_CREATE, ID_TAKEN);
  }
  if (ctx.mountpoints.size + ctx.reserved.size >= ctx.maxMountpoints) {
    throw new PluginError(
      STREAMING_ERROR.CANT_CREATE,
      `Too many mountpoints (max_mountpoints is ${ctx.maxMountpoints})`,
    );
  }
  while (id === 0 || ctx.mountpoints.has(id) || ctx.reserved.has(id)) {
    id = Math.floor(Math.random() * Number.MAX_SAFE_INTEGER) + 1;
  }
  // A crypto of fewer than 30 bytes: the reference cannot make the source.
  if (spec.srtp && !srtpMasterKey(spec.srtp.crypto)) {
    throw new PluginError(STREAMING_ERROR.CANT_CREATE, "Error creating 'rtp' stream");
  }
  // A stream's `iface` (a local interface's name or address) becomes the address it binds.
  spec = {
    ...spec,
    streams: spec.streams.map((s) => {
      if (s.iface === undefined) return s;
      const host = localAddressOf(s.iface);
      if (host === undefined) {
        throw new PluginError(
          STREAMING_ERROR.CANT_CREATE,
          `Invalid network interface configuration for ${spec.legacy ? s.type : "media stream"}`,
        );
      }
      return { ...s, host };
    }),
  };
  if (!ctx.media) {
    throw new PluginError(
      STREAMING_ERROR.CANT_CREATE,
      "Can't add 'rtp' stream, no media engine is running",
    );
  }
  ctx.reserved.add(id);
  try {
    if (spec.rtsp) return await createRtspMountpoint(ctx, id, spec);
    const source = await openSource(ctx, id, spec).catch((e: unknown) => {
      log.warn(`mountpoint ${id}: ${e instanceof Error ? e.message : String(e)}`);
      throw new PluginError(
        STREAMING_ERROR.CANT_CREATE,
        spec.file
          ? `Error creating '${spec.file.onDemand ? "ondemand" : "live"}' stream`
          : "Can't add 'rtp' stream, error creating data source stream",
      );
    });
    const mp = new Mountpoint(id, spec, source);
    ctx.mountpoints.set(id, mp);
    return mp;
  } finally {
    ctx.reserved.delete(id);
  }
}

/**
 * An `rtsp` mountpoint: its session is set up first (its streams are what the server
 * describes); with `rtsp_failcheck: false` a server that does not answer leaves it with no
 * streams until a later try succeeds, as the reference.
 */
async function createRtspMountpoint(
  ctx: StreamingContext,
  id: number,
  requested: MountpointSpec,
): Promise<Mountpoint> {
  const rtsp = requested.rtsp!;
  let spec = requested;
  if (rtsp.iface !== undefined) {
    const host = localAddressOf(rtsp.iface);
    if (host === undefined) {
      throw new PluginError(
        STREAMING_ERROR.CANT_CREATE,
        "Invalid network interface configuration for stream",
      );
    }
    spec = { ...spec, streams: [], rtsp: { ...rtsp, iface: host } };
  }
  const host = spec.rtsp?.iface;
  const withHost = (streams: StreamSpec[]) =>
    host === undefined ? streams : streams.map((s) => ({ ...s, host }));
  // Set once made; until then the first play's streams and source wait in `first`.
  const made: { mp?: Mountpoint } = {};
  let first: { streams: StreamSpec[]; source: Awaited<ReturnType<typeof openSource>> } | undefined;
  const feed = new RtspFeed({
    spec: spec.rtsp!,
    name: String(id),
    source: () => made.mp?.source,
    onFirstPlay: async (described) => {
      const streams = withHost(described);
      const source = await openSource(ctx, id, { ...spec, streams });
      const mp = made.mp;
      // Destroyed while the server answered: the source goes with it.
      if (mp && ctx.mountpoints.get(id) !== mp) {
        await source.close().catch(() => {});
        throw new Error("the mountpoint was destroyed");
      }
      if (mp) {
        const old = mp.source;
        mp.setStreams(streams, source);
        await old.close().catch(() => {});
      } else {
        await first?.source.close().catch(() => {});
        first = { streams, source };
      }
      return source;
    },
  });
  try {
    await feed.connect();
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    await first?.source.close().catch(() => {});
    first = undefined;
    if (rtsp.failcheck) {
      log.warn(`mountpoint ${id}: ${why}`);
      const unsupported = / codec '.*' is not supported/.test(why);
      throw new PluginError(
        STREAMING_ERROR.CANT_CREATE,
        unsupported ? `Can't add 'rtsp' stream: ${why}` : RTSP_ERROR,
      );
    }
    log.warn(`mountpoint ${id}: ${why}; trying again every ${rtsp.reconnectDelayMs / 1000} s`);
  }
  // Before the server answered, an empty source stands in (no ports).
  const source = first?.source ?? await openSource(ctx, id, { ...spec, streams: [] });
  const mp = new Mountpoint(id, { ...spec, streams: first?.streams ?? [] }, source);
  made.mp = mp;
  mp.rtsp = feed;
  feed.start();
  ctx.mountpoints.set(id, mp);
  return mp;
}

/** Closes a mountpoint's source and (RTSP) its session. */
export async function closeMountpoint(mp: Mountpoint): Promise<void> {
  await mp.rtsp?.close();
  await mp.source.close();
}

async function edit(
  ctx: StreamingContext,
  body: JsonObject,
  notify: Notify,
): Promise<JsonObject> {
  checkBody(body, ID_FIELD, CODES);
  checkBody(body, EDIT_FIELDS, CODES);
  const permanent = body.permanent === true;
  if (permanent && !ctx.store.writable) {
    throw new PluginError(
      STREAMING_ERROR.UNKNOWN_ERROR,
      "No configuration file, can't edit mountpoint permanently",
    );
  }
  const mp = mountpointOf(ctx, body, (id) => `No such mountpoint (${id})`);
  checkSecret(mp.secret, body, "secret");
  const str = (key: string) => typeof body[key] === "string" ? body[key] as string : undefined;
  const description = str("new_description");
  if (description !== undefined && description !== "") mp.description = description;
  const metadata = str("new_metadata");
  if (metadata !== undefined) mp.metadata = metadata;
  const secret = str("new_secret");
  if (secret !== undefined) mp.secret = secret === "" ? undefined : secret;
  const pin = str("new_pin");
  if (pin !== undefined) mp.pin = pin === "" ? undefined : pin;
  if (typeof body.new_is_private === "boolean") mp.isPrivate = body.new_is_private;
  const saved = permanent ? await ctx.store.save(mp) : false;
  notify({ event: "edited", id: mp.id });
  if (body.edited_event === true) {
    for (const v of mp.viewers) {
      v.notify({
        event: "edited",
        id: mp.id,
        ...(metadata !== undefined ? { metadata } : {}),
      });
    }
  }
  return { streaming: "edited", id: mp.id, permanent: saved };
}

async function destroy(
  ctx: StreamingContext,
  body: JsonObject,
  notify: Notify,
): Promise<JsonObject> {
  checkBody(body, ID_FIELD, CODES);
  checkBody(body, [{ name: "permanent", ...BODY.bool }], CODES);
  const permanent = body.permanent === true;
  if (permanent && !ctx.store.writable) {
    throw new PluginError(
      STREAMING_ERROR.UNKNOWN_ERROR,
      "No configuration file, can't destroy mountpoint permanently",
    );
  }
  const mp = mountpointOf(ctx, body);
  checkSecret(mp.secret, body, "secret");
  ctx.mountpoints.delete(mp.id);
  for (const v of [...mp.viewers]) v.end("stopped");
  await closeMountpoint(mp);
  if (permanent) await ctx.store.forget(mp.id);
  notify({ event: "destroyed", id: mp.id });
  return { streaming: "destroyed", destroyed: mp.id };
}

/**
 * The address of the local interface `iface` names (its name, IPv4 first, or one of its
 * addresses), as the reference's `janus_network_lookup_interface`; undefined when none has it.
 */
function localAddressOf(iface: string): string | undefined {
  const all = Deno.networkInterfaces();
  const byAddress = all.find((i) => i.address === iface);
  if (byAddress) return byAddress.address;
  const named = all.filter((i) => i.name === iface);
  return (named.find((i) => i.family === "IPv4") ?? named[0])?.address;
}
