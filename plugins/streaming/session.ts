/**
 * A Streaming handle: synchronous requests go to `requests.ts`; a viewer's `watch` (we offer one
 * `sendonly` m-line per chosen stream, fed from the mountpoint's RTP source), `start` (the
 * client's answer, applied by the core), `pause`, `configure`, `switch` and `stop` are queued
 * and answered by events, as the reference does.
 *
 * @module
 */
import { z } from "zod";
import {
  type JsonObject,
  type LayerChange,
  type LayerTargets,
  PluginError,
  type PluginEvent,
  type PluginHandle,
  type PluginMessage,
  type PluginReply,
  type PluginRtpSource,
  type PluginSession,
} from "../../core/plugin.ts";
import { BODY, type BodyField, checkBody } from "../_shared/validate.ts";
import { CODES, STREAMING_ERROR } from "./errors.ts";
import type { Mountpoint, Viewer } from "./mountpoint.ts";
import { openViewerSource } from "./source.ts";
import type { StreamSpec } from "./spec.ts";
import {
  AFFINITY,
  answerRequest,
  checkSecret,
  mountpointOf,
  type StreamingContext,
  SYNC_REQUESTS,
} from "./requests.ts";

const ASYNC_REQUESTS: ReadonlySet<string> = new Set([
  "watch",
  "start",
  "pause",
  "stop",
  "configure",
  "switch",
]);

export const REQUEST_FIELD: readonly BodyField[] = [{
  name: "request",
  ...BODY.string,
  required: true,
}];

export const WATCH_FIELDS: readonly BodyField[] = [
  { name: "pin", ...BODY.string },
  { name: "media", schema: z.array(z.unknown()), expected: "an array" },
  { name: "restart", ...BODY.bool },
  { name: "offer_audio", ...BODY.bool },
  { name: "offer_video", ...BODY.bool },
  { name: "offer_data", ...BODY.bool },
];

/** A simulcast mountpoint's `watch` (and `configure`) targets; `fallback` in microseconds. */
export const SIMULCAST_FIELDS: readonly BodyField[] = [
  { name: "substream", ...BODY.positiveInt },
  { name: "temporal", ...BODY.positiveInt },
  { name: "fallback", ...BODY.positiveInt },
];

export const CONFIGURE_FIELDS: readonly BodyField[] = [
  { name: "mid", ...BODY.string },
  { name: "send", ...BODY.bool },
  ...SIMULCAST_FIELDS,
  { name: "spatial_layer", ...BODY.positiveInt },
  { name: "temporal_layer", ...BODY.positiveInt },
  { name: "audio", ...BODY.bool },
  { name: "video", ...BODY.bool },
  { name: "data", ...BODY.bool },
];

/**
 * One m-line of the viewer: which stream of the mountpoint feeds it. A data line is the data
 * channel, named by the mid of the data stream that feeds it.
 */
interface Line {
  mid: string;
  kind: "audio" | "video" | "data";
  /** The codec it was offered with: a switch feeds it only a stream of that codec. */
  codec: string;
  /** Index of the feeding stream in the mountpoint, -1 when none (after a switch). */
  stream: number;
  /** `configure` `send`. */
  send: boolean;
  /** A simulcast stream's layers as last told, and the targets (for the admin's handle info). */
  layers?: SimulcastState;
}

/** Where a simulcast line is and aims (the reference's `sim_context` in its handle info). */
interface SimulcastState {
  substream: number;
  substreamTarget: number;
  temporal: number;
  temporalTarget: number;
  /** `fallback` as asked, in microseconds (0: the default). */
  fallback: number;
}

/** A simulcast line before any packet: aiming high unless told otherwise (the reference's). */
function freshLayers(): SimulcastState {
  return { substream: -1, substreamTarget: 2, temporal: -1, temporalTarget: 2, fallback: 0 };
}

/** Applies a request's targets to a line's simulcast state. */
function applyTargets(state: SimulcastState, body: JsonObject): void {
  if (typeof body.substream === "number") state.substreamTarget = body.substream;
  if (typeof body.temporal === "number") state.temporalTarget = body.temporal;
  if (typeof body.fallback === "number") state.fallback = body.fallback;
}

/** The layer targets a request names (`fallback` from microseconds to ms). */
function layerTargets(body: JsonObject): LayerTargets {
  const { substream, temporal, fallback } = body;
  return {
    ...(typeof substream === "number" ? { substream } : {}),
    ...(typeof temporal === "number" ? { temporal } : {}),
    ...(typeof fallback === "number" ? { fallbackMs: fallback / 1000 } : {}),
  };
}

const event = (result: JsonObject): JsonObject => ({ streaming: "event", result });

/** One handle of the plugin. */
export class StreamingSession implements PluginSession, Viewer {
  #handle: PluginHandle;
  #ctx: StreamingContext;
  #mp: Mountpoint | undefined;
  #lines: Line[] = [];
  #started = false;
  /** The last `start` queued, settled once handled (its event pushed first). */
  #starting: Promise<unknown> | undefined;
  #paused = false;
  #stopping = false;
  #destroyed = false;
  #queue: Promise<unknown> = Promise.resolve();
  #onDestroy: (s: StreamingSession) => void;
  /** An on-demand mountpoint's source of this viewer alone (its file from the start). */
  #own: PluginRtpSource | undefined;

  constructor(
    handle: PluginHandle,
    ctx: StreamingContext,
    onDestroy: (s: StreamingSession) => void,
  ) {
    this.#handle = handle;
    this.#ctx = ctx;
    this.#onDestroy = onDestroy;
  }

  async handleMessage(message: PluginMessage): Promise<PluginReply> {
    const { body } = message;
    checkBody(body, REQUEST_FIELD, CODES);
    const request = (body.request as string).toLowerCase();
    if (SYNC_REQUESTS.has(request)) {
      const notify = (data: JsonObject) => this.#handle.notifyEvent?.(data);
      return { kind: "success", data: await answerRequest(this.#ctx, request, body, notify) };
    }
    if (!ASYNC_REQUESTS.has(request)) {
      throw new PluginError(
        STREAMING_ERROR.INVALID_REQUEST,
        `Unknown request '${body.request as string}'`,
      );
    }
    // As the reference: "started" answers a start only when the PeerConnection was up as it
    // came (a resume); a first start's ICE may complete while it waits here, and its
    // `started` event follows.
    const resumed = this.#started;
    const pending = this.#queue.then(() => this.#handleAsync(request, body, resumed));
    this.#queue = pending.catch(() => {});
    if (request === "start") this.#starting = this.#queue;
    return { kind: "ack", event: pending };
  }

  async #handleAsync(
    request: string,
    body: JsonObject,
    resumed: boolean,
  ): Promise<PluginEvent | undefined> {
    if (this.#destroyed) return undefined;
    switch (request) {
      case "watch":
        return await this.#watch(body);
      case "start": {
        if (!this.#mp) throw noMountpoint("Can't start: no mountpoint set");
        const status = resumed ? "started" : "starting";
        this.#paused = false;
        await this.#applyForwarding();
        // Event handlers hear "starting" whether or not the PeerConnection is up (the reference).
        this.#notify("starting", this.#mp.id);
        return { data: event({ status }) };
      }
      case "pause":
        // The reference's words for a pause with no mountpoint, too.
        if (!this.#mp) throw noMountpoint("Can't start: no mountpoint set");
        this.#paused = true;
        await this.#applyForwarding();
        this.#notify("pausing", this.#mp.id);
        return { data: event({ status: "pausing" }) };
      case "configure":
        return await this.#configure(body);
      case "switch":
        return await this.#switch(body);
      default: {
        // stop: once, and only for a PeerConnection that came up (else no event at all).
        if (this.#stopping || !this.#started) return undefined;
        this.#stopping = true;
        this.#notify("stopping", this.#mp?.id);
        // After the event is out, as the reference's close_pc.
        queueMicrotask(() => !this.#destroyed && this.#handle.closePeer());
        return { data: event({ status: "stopping" }) };
      }
    }
  }

  /** What feeds this viewer from `mp`: its own source on an on-demand mountpoint. */
  #sourceOf(mp: Mountpoint): PluginRtpSource {
    return (mp.file?.onDemand ? this.#own : undefined) ?? mp.source;
  }

  /** A viewer's event for event handlers: `{status, id}`. */
  #notify(status: string, id: number | undefined): void {
    this.#handle.notifyEvent?.(id === undefined ? { status } : { status, id });
  }

  async #watch(body: JsonObject): Promise<PluginEvent> {
    checkBody(body, WATCH_FIELDS, CODES);
    if (Array.isArray(body.media) && body.media.some((m) => typeof m !== "string")) {
      throw new PluginError(
        STREAMING_ERROR.INVALID_ELEMENT,
        "The media array must only contain strings (mid values)",
      );
    }
    const mp = mountpointOf(this.#ctx, body);
    checkSecret(mp.pin, body, "pin");
    const webrtc = this.#handle.webrtc;
    if (this.#mp) {
      if (this.#mp !== mp || !this.#started) {
        throw new PluginError(
          STREAMING_ERROR.INVALID_STATE,
          `Already watching mountpoint ${this.#mp.id}`,
        );
      }
      const jsep = await webrtc.createOffer({
        iceRestart: body.restart === true,
        ...(this.#lines.some((l) => l.kind === "data") ? { data: true } : {}),
      });
      return { data: event({ status: "preparing" }), jsep };
    }
    const wanted = Array.isArray(body.media) && body.media.length > 0
      ? new Set(body.media as string[])
      : undefined;
    const chosen = mp.streams.map((s, i) => ({ s, i })).filter(({ s }) =>
      wanted ? wanted.has(s.mid) : body[`offer_${s.type}`] !== false
    );
    if (chosen.length === 0) {
      throw new PluginError(STREAMING_ERROR.INVALID_ELEMENT, "No media to offer");
    }
    // As the reference, the targets are checked only for a simulcast stream.
    if (chosen.some(({ s }) => s.simulcastPorts)) checkBody(body, SIMULCAST_FIELDS, CODES);
    // A source lost with its media worker is being bound again: watch the new one.
    await mp.restoring;
    if (this.#destroyed || this.#ctx.mountpoints.get(mp.id) !== mp) {
      throw new PluginError(
        STREAMING_ERROR.NO_SUCH_MOUNTPOINT,
        `No such mountpoint/stream ${mp.id}`,
      );
    }
    webrtc.useAffinity(AFFINITY);
    this.#mp = mp;
    mp.viewers.add(this);
    this.#stopping = false;
    this.#paused = false;
    try {
      if (mp.file?.onDemand) {
        this.#own = await openViewerSource(this.#ctx, mp.spec, () => this.end("stopped"));
      }
      for (const { s, i } of chosen) {
        const source = this.#sourceOf(mp);
        const line: Line = { mid: "", kind: s.type, codec: s.codec, stream: i, send: true };
        if (s.simulcastPorts) {
          line.layers = freshLayers();
          applyTargets(line.layers, body);
        }
        line.mid = await source.forward({
          to: webrtc,
          fromMid: s.mid,
          newMid: s.mid,
          active: mp.enabled,
          ...this.#layerEvents(s.mid, line),
        });
        const mid = line.mid;
        this.#lines.push(line);
        const targets = layerTargets(body);
        if (s.simulcastPorts && Object.keys(targets).length > 0) {
          await source.setLayers({ to: webrtc, toMid: mid, ...targets });
        }
      }
      // Datagrams of a data stream go over the data channel this offer's m=application makes.
      const data = chosen.some(({ s }) => s.type === "data");
      const jsep = await webrtc.createOffer(data ? { data: true } : {});
      return { data: event({ status: "preparing" }), jsep };
    } catch (e) {
      await this.#leave();
      if (webrtc.active) this.#handle.closePeer();
      if (e instanceof PluginError) throw e;
      throw new PluginError(
        STREAMING_ERROR.UNKNOWN_ERROR,
        `Error preparing the offer: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  /** A simulcast stream's layer changes, told to the viewer as the reference does. */
  #layerEvents(streamMid: string, line?: Line): { onLayer: (change: LayerChange) => void } {
    return {
      onLayer: (change) => {
        const layers = line?.layers;
        if (layers && "substream" in change) layers.substream = change.substream;
        if (layers && "temporal" in change) layers.temporal = change.temporal;
        if (!this.#destroyed) {
          this.#handle.pushEvent({ data: event({ mid: streamMid, ...change }) });
        }
      },
    };
  }

  /**
   * `configure`'s simulcast targets for the simulcast lines (of `mid` when given); a target
   * already reached is told at once, as the reference does.
   */
  async #configureLayers(mp: Mountpoint, body: JsonObject): Promise<void> {
    const targets = layerTargets(body);
    if (Object.keys(targets).length === 0) return;
    for (const line of this.#lines) {
      const stream = mp.streams[line.stream];
      if (!stream?.simulcastPorts || (typeof body.mid === "string" && body.mid !== line.mid)) {
        continue;
      }
      if (line.layers) applyTargets(line.layers, body);
      const now = await this.#sourceOf(mp).setLayers({
        to: this.#handle.webrtc,
        toMid: line.mid,
        ...targets,
      }).catch(() => undefined);
      if (!now) continue;
      if (targets.substream !== undefined && now.substream === targets.substream) {
        this.#handle.pushEvent({ data: event({ substream: now.substream }) });
      }
      if (targets.temporal !== undefined && now.temporal === targets.temporal) {
        this.#handle.pushEvent({ data: event({ temporal: now.temporal }) });
      }
    }
  }

  async #configure(body: JsonObject): Promise<PluginEvent> {
    if (!this.#mp) throw noMountpoint("Can't configure: not on a mountpoint");
    checkBody(body, CONFIGURE_FIELDS, CODES);
    await this.#configureLayers(this.#mp, body);
    if (typeof body.send === "boolean") {
      const mid = body.mid;
      for (const line of this.#lines) {
        if (mid === undefined || line.mid === mid) line.send = body.send;
      }
    }
    for (const kind of ["audio", "video", "data"] as const) {
      const on = body[kind];
      if (typeof on !== "boolean") continue;
      for (const line of this.#lines) if (line.kind === kind) line.send = on;
    }
    await this.#applyForwarding();
    return { data: event({ event: "configured" }) };
  }

  async #switch(body: JsonObject): Promise<PluginEvent> {
    const old = this.#mp;
    if (!old) throw noMountpoint("Can't switch: not on a mountpoint");
    // Between live RTP mountpoints only, as the reference.
    if (old.file) {
      throw new PluginError(
        STREAMING_ERROR.CANT_SWITCH,
        "Can't switch: not on a live RTP mountpoint",
      );
    }
    const mp = mountpointOf(this.#ctx, body);
    if (mp.file) {
      throw new PluginError(
        STREAMING_ERROR.CANT_SWITCH,
        "Can't switch: target is not a live RTP mountpoint",
      );
    }
    if (mp !== old) {
      const webrtc = this.#handle.webrtc;
      const used = new Set<number>();
      for (const line of this.#lines) {
        // The stream of the same mid, else the next unused one of the kind; of the line's
        // codec only (packets are relayed as they come: none is better than undecodable ones).
        const fits = (s: StreamSpec, i: number) =>
          s.type === line.kind && s.codec === line.codec && !used.has(i);
        let next = mp.streams.findIndex((s, i) => s.mid === line.mid && fits(s, i));
        if (next < 0) next = mp.streams.findIndex(fits);
        if (line.kind === "data" && line.stream >= 0) {
          // A data channel is fed by the data stream itself, not by a replaced m-line.
          await old.source.stopForward({ to: webrtc, toMid: line.mid }).catch(() => {});
        }
        if (next >= 0 && line.kind === "data") {
          used.add(next);
          line.mid = await mp.source.forward({
            to: webrtc,
            fromMid: mp.streams[next]!.mid,
            active: this.#sends(line, mp),
          });
        } else if (next >= 0) {
          used.add(next);
          // A new simulcast context, as the reference's switch resets it.
          if (mp.streams[next]!.simulcastPorts) line.layers = freshLayers();
          else delete line.layers;
          await mp.source.forward({
            to: webrtc,
            fromMid: mp.streams[next]!.mid,
            toMid: line.mid,
            active: this.#sends(line, mp),
            ...this.#layerEvents(mp.streams[next]!.mid, line),
          });
          // The line is the new source's now: this only drops the old one's layer listener.
          if (line.stream >= 0) {
            await old.source.stopForward({ to: webrtc, toMid: line.mid }).catch(() => {});
          }
        } else if (line.stream >= 0 && line.kind !== "data") {
          await old.source.stopForward({ to: webrtc, toMid: line.mid }).catch(() => {});
        }
        line.stream = next;
      }
      old.viewers.delete(this);
      mp.viewers.add(this);
      this.#mp = mp;
    }
    this.#notify("switching", mp.id);
    return { data: event({ switched: "ok", id: mp.id }) };
  }

  /** Whether `line` should carry media now. */
  #sends(line: Line, mp: Mountpoint): boolean {
    return line.stream >= 0 && line.send && !this.#paused && mp.enabled;
  }

  async #applyForwarding(): Promise<void> {
    const mp = this.#mp;
    if (!mp || !this.#handle.webrtc.active) return;
    for (const line of this.#lines) {
      if (line.stream < 0) continue;
      await this.#sourceOf(mp).setForwarding({
        to: this.#handle.webrtc,
        toMid: line.mid,
        active: this.#sends(line, mp),
      }).catch(() => {});
    }
  }

  /** Stops every forward to us and leaves the mountpoint. */
  async #leave(): Promise<void> {
    const mp = this.#mp;
    this.#mp = undefined;
    const lines = this.#lines;
    this.#lines = [];
    this.#started = false;
    this.#paused = false;
    if (!mp) return;
    mp.viewers.delete(this);
    const own = this.#own;
    this.#own = undefined;
    for (const line of lines) {
      if (line.stream < 0) continue;
      await (own ?? mp.source).stopForward({ to: this.#handle.webrtc, toMid: line.mid })
        .catch(() => {});
    }
    await own?.close().catch(() => {});
  }

  end(status: "stopped" | "kicked_all"): void {
    const mp = this.#mp;
    if (!mp) return;
    mp.viewers.delete(this);
    this.#handle.pushEvent({ data: event({ status }) });
    void this.#leave();
    if (this.#handle.webrtc.active) this.#handle.closePeer();
  }

  notify(data: JsonObject): void {
    this.#handle.pushEvent({ data });
  }

  enabledChanged(): void {
    void this.#applyForwarding();
  }

  setupMedia(): void {
    if (!this.#mp) return;
    this.#started = true;
    // After the event of a start still being handled ("starting"), as the reference's order.
    const push = () => {
      if (!this.#destroyed) this.#handle.pushEvent({ data: event({ status: "started" }) });
    };
    if (this.#starting) void this.#starting.then(push);
    else push();
  }

  hangupMedia(): void {
    this.#stopping = false;
    void this.#leave();
  }

  async destroy(): Promise<void> {
    this.#destroyed = true;
    await this.#leave();
    this.#onDestroy(this);
  }

  query(): JsonObject {
    const mp = this.#mp;
    // The reference's handle info: the mountpoint, then each stream (or a file) and the flags.
    const media = mp?.file ? { type: "audio", filename: mp.file.path } : this.#lines.map((l, i) => {
      const layers = l.layers;
      return {
        type: l.kind,
        mindex: i,
        mid: mp?.streams[l.stream]?.mid ?? l.mid,
        ...(layers
          ? {
            simulcast: {
              substream: layers.substream,
              "substream-target": layers.substreamTarget,
              "temporal-layer": layers.temporal,
              "temporal-layer-target": layers.temporalTarget,
              ...(layers.fallback > 0 ? { fallback: layers.fallback } : {}),
            },
          }
          : {}),
      };
    });
    return {
      state: mp ? "watching" : "idle",
      ...(mp
        ? {
          mountpoint_id: mp.id,
          mountpoint_name: mp.name,
          mountpoint_viewers: mp.viewers.size,
          media,
        }
        : {}),
      hangingup: 0,
      started: this.#started ? 1 : 0,
      dataready: this.#started && this.#lines.some((l) => l.kind === "data") ? 1 : 0,
      paused: this.#paused ? 1 : 0,
      stopping: this.#stopping ? 1 : 0,
      destroyed: this.#destroyed ? 1 : 0,
    };
  }
}

function noMountpoint(message: string): PluginError {
  return new PluginError(STREAMING_ERROR.NO_SUCH_MOUNTPOINT, message);
}
