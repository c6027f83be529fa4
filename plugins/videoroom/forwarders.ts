/**
 * VideoRoom `rtp_forward`, `stop_rtp_forward` and `listforwarders`: a publisher's received
 * audio/video streams sent as plain RTP to UDP addresses (`PluginWebRTC.rtpForward`), its data
 * channel's messages as datagrams (`data_forwarders.ts`), with the
 * reference's checks in its order (host family, name resolution, each `streams` entry, SRTP
 * suite; then the room and its secret; then the feed), its reply shapes (new `streams` API and
 * the deprecated `audio_port`/`video_port` one) and its quirks: a `streams` entry whose mid is
 * not published is skipped, a port is taken modulo 65536, and an entry's own `host` that does
 * not resolve falls back to the request's `host`. With `srtp_suite` and `srtp_crypto` the
 * audio/video forwarders send SRTP (a crypto of fewer than 30 bytes skips them, as the
 * reference); with an `rtcp_port` a local RTCP port is bound whose PLI/FIR ask the publisher
 * for a keyframe (`local_rtcp_port`/`remote_rtcp_port` in the summary). Each forwarder made,
 * and each one stopped, is told to event handlers with no session or handle, in the
 * reference's words (`forwardEvent`, `stopForwardEvent`).
 *
 * Not done: simulcast layers.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type JsonObject, PluginError } from "../../core/plugin.ts";
import { srtpMasterKey } from "../../core/media/rtp/srtp.ts";
import { resolveHost } from "../_shared/resolve_host.ts";
import { BODY, type BodyField } from "../_shared/validate.ts";
import { VIDEOROOM_ERROR } from "./errors.ts";
import type { FeedStream } from "./room.ts";
import { check, entryObject } from "./schemas.ts";

const int = (name: string, required = false): BodyField => ({
  name,
  ...BODY.positiveInt,
  required,
});
const str = (name: string, required = false): BodyField => ({ name, ...BODY.string, required });

/** A `streams` entry of `rtp_forward`, as the reference checks it. */
const STREAM_FIELDS: readonly BodyField[] = [
  str("secret"),
  str("mid", true),
  str("host"),
  str("host_family"),
  int("port", true),
  int("rtcp_port"),
  int("ssrc"),
  int("pt"),
  { name: "simulcast", ...BODY.bool },
  int("srtp_suite"),
  str("srtp_crypto"),
  int("port_2"),
  int("ssrc_2"),
  int("pt_2"),
  int("port_3"),
  int("ssrc_3"),
  int("pt_3"),
];

/** One forwarder as `listforwarders` and the `rtp_forward` reply show it. */
export interface ForwarderEntry {
  streamId: number;
  mid: string;
  type: "audio" | "video" | "data";
  host: string;
  port: number;
  ssrc: number;
  pt: number;
  /** The receiver's RTCP port (`rtcp_port`; binds a local one when above 0). */
  rtcpPort?: number;
  /** The RTCP port bound for it, once started. */
  localRtcpPort?: number;
  /** SRTP: suite and the 30-byte master key and salt in base64. */
  srtp?: { suite: 32 | 80; key: string };
}

/** The forwarders of one publisher. */
export class ForwarderSet {
  readonly entries = new Map<number, ForwarderEntry>();

  freeId(): number {
    let id = 0;
    while (id === 0 || this.entries.has(id)) id = crypto.getRandomValues(new Uint32Array(1))[0]!;
    return id;
  }
}

/** The reference's summary of a forwarder. */
export function forwarderJson(f: ForwarderEntry): JsonObject {
  const out: JsonObject = { stream_id: f.streamId, host: f.host, port: f.port, type: f.type };
  if (f.localRtcpPort) out.local_rtcp_port = f.localRtcpPort;
  const remoteRtcp = (f.rtcpPort ?? 0) & 0xffff;
  if (f.localRtcpPort && remoteRtcp > 0) out.remote_rtcp_port = remoteRtcp;
  if (f.pt) out.pt = f.pt;
  if (f.ssrc) out.ssrc = f.ssrc;
  if (f.srtp) out.srtp = true;
  return out;
}

function invalid(message: string): PluginError {
  return new PluginError(VIDEOROOM_ERROR.INVALID_ELEMENT, message);
}

function family(value: unknown): 0 | 4 | 6 {
  if (value === undefined) return 0;
  const name = String(value).toLowerCase();
  if (name === "ipv4") return 4;
  if (name === "ipv6") return 6;
  throw invalid(`Unsupported protocol family (${String(value)})`);
}

/** What a checked `rtp_forward` asks for. */
export interface ForwardPlan {
  host: string;
  streams: ForwardTarget[] | undefined;
  /** `srtp_suite` (checked) and `srtp_crypto` as given, when both are. */
  srtp: { suite: 32 | 80; crypto: string } | undefined;
}

/** Where one forwarder sends. */
interface ForwardTarget {
  mid?: string;
  host: string;
  /**
   * The host its event names: the entry's own (resolved), else the request's as written (the
   * reference's `streams` loop reads the request's `host` again, unresolved).
   */
  eventHost?: string;
  port: number;
  ssrc: number;
  pt: number;
  rtcpPort?: number;
}

/**
 * The checks the reference makes before it looks the room up (the body's own fields are
 * already checked).
 *
 * @throws {PluginError} 430 / 429 with the reference's words
 */
export async function planRtpForward(body: JsonObject): Promise<ForwardPlan> {
  const fam = family(body.host_family);
  const requested = body.host as string;
  const host = await resolveHost(requested, fam);
  if (host === undefined) throw invalid(`Could not resolve address (${requested})...`);
  let streams: ForwardPlan["streams"];
  if (Array.isArray(body.streams) && body.streams.length > 0) {
    streams = [];
    for (const item of body.streams) {
      const s = entryObject(item);
      check(s, STREAM_FIELDS);
      let target = host;
      if (typeof s.host === "string") {
        const sFam = s.host_family === undefined ? fam : family(s.host_family);
        // The reference keeps the request's address when the entry's host does not resolve.
        target = (await resolveHost(s.host, sFam)) ?? host;
      }
      streams.push({
        mid: s.mid as string,
        host: target,
        eventHost: typeof s.host === "string" ? target : requested,
        port: (s.port as number) & 0xffff,
        ssrc: typeof s.ssrc === "number" ? s.ssrc >>> 0 : 0,
        pt: typeof s.pt === "number" ? s.pt & 0x7f : 0,
        ...(typeof s.rtcp_port === "number" ? { rtcpPort: s.rtcp_port } : {}),
      });
    }
  }
  let srtp: ForwardPlan["srtp"];
  // Only both together ask for SRTP (one alone is ignored, as the reference).
  if (body.srtp_suite !== undefined && body.srtp_crypto !== undefined) {
    const suite = body.srtp_suite as number;
    if (suite !== 32 && suite !== 80) throw invalid(`Invalid SRTP suite (${suite})`);
    srtp = { suite, crypto: body.srtp_crypto as string };
  }
  return { host, streams, srtp };
}

/** What `rtpForward` needs of the publisher. */
export interface ForwardingPublisher {
  readonly id: number;
  readonly streams: readonly FeedStream[];
  readonly forwarders: ForwarderSet;
  startForwarder(entry: ForwarderEntry): Promise<void>;
}

/**
 * The event-handler event of a new forwarder, as the reference builds it: the forwarder's
 * summary, then `event`, `room`, `publisher_id`, `media`, the codec (`streams` API only) and
 * its `host` and `port` again (the host as the request gave it).
 */
export function forwardEvent(
  room: number,
  publisherId: number,
  entry: ForwarderEntry,
  host: string,
  codec: string | undefined,
): JsonObject {
  const info: JsonObject = {
    ...forwarderJson(entry),
    event: "rtp_forward",
    room,
    publisher_id: publisherId,
    media: entry.type,
  };
  if (codec !== undefined && entry.type !== "data") info.codec = codec;
  info.stream_id = entry.streamId;
  info.host = host;
  info.port = entry.port;
  return info;
}

/** The event-handler event of a stopped forwarder. */
export function stopForwardEvent(room: number, publisherId: number, streamId: number): JsonObject {
  return { event: "stop_rtp_forward", room, publisher_id: publisherId, stream_id: streamId };
}

const LEGACY = [
  { kind: "audio", port: "audio_port", ssrc: "audio_ssrc", pt: "audio_pt", reply: "audio" },
  { kind: "video", port: "video_port", ssrc: "video_ssrc", pt: "video_pt", reply: "video" },
  { kind: "data", port: "data_port", ssrc: "", pt: "", reply: "data" },
] as const;

/**
 * Creates the planned forwarders on `publisher` and answers as the reference (its keys in its
 * order): `forwarders` with the new API, `rtp_stream` (deprecated) with the old one. `notify` gets each forwarder's
 * event-handler event.
 */
export async function rtpForward(
  room: number,
  publisher: ForwardingPublisher,
  plan: ForwardPlan,
  body: JsonObject,
  notify: (event: JsonObject) => void = () => {},
): Promise<JsonObject> {
  // A crypto of fewer than 30 bytes skips each audio/video forwarder, as the reference.
  const master = plan.srtp && srtpMasterKey(plan.srtp.crypto);
  const make = async (
    stream: FeedStream,
    { mid: _, rtcpPort, eventHost, ...target }: ForwardTarget,
    codec: string | undefined,
  ): Promise<ForwarderEntry | undefined> => {
    const entry: ForwarderEntry = {
      streamId: publisher.forwarders.freeId(),
      mid: stream.mid,
      type: stream.type,
      ...target,
    };
    if (stream.type !== "data") {
      if (plan.srtp && !master) return undefined;
      if (plan.srtp && master) {
        entry.srtp = { suite: plan.srtp.suite, key: Buffer.from(master).toString("base64") };
      }
      if (rtcpPort !== undefined && rtcpPort > 0) entry.rtcpPort = rtcpPort;
    }
    // A data forwarder sends the messages as they are: no SSRC or payload type.
    if (stream.type === "data") Object.assign(entry, { ssrc: 0, pt: 0 });
    await publisher.startForwarder(entry);
    publisher.forwarders.entries.set(entry.streamId, entry);
    notify(forwardEvent(room, publisher.id, entry, eventHost ?? entry.host, codec));
    return entry;
  };
  if (plan.streams) {
    const made: JsonObject[] = [];
    for (const s of plan.streams) {
      const stream = publisher.streams.find((p) => p.mid === s.mid);
      if (!stream) continue;
      const entry = await make(stream, s, stream.codec);
      if (entry) made.push(forwarderJson(entry));
    }
    return { publisher_id: publisher.id, forwarders: made, room, videoroom: "rtp_forward" };
  }
  const legacy: JsonObject = {};
  for (const l of LEGACY) {
    const port = body[l.port];
    if (typeof port !== "number" || port <= 0) continue;
    const stream = publisher.streams.find((p) => p.type === l.kind);
    if (!stream) continue;
    const entry = await make(stream, {
      host: plan.host,
      port: port & 0xffff,
      ssrc: typeof body[l.ssrc] === "number" ? (body[l.ssrc] as number) >>> 0 : 0,
      pt: typeof body[l.pt] === "number" ? (body[l.pt] as number) & 0x7f : 0,
      ...(typeof body[`${l.kind}_rtcp_port`] === "number"
        ? { rtcpPort: body[`${l.kind}_rtcp_port`] as number }
        : {}),
    }, undefined);
    if (!entry) continue;
    legacy[`${l.reply}_stream_id`] = entry.streamId;
    legacy[l.reply] = port;
  }
  legacy.warning = "deprecated_api";
  legacy.host = plan.host;
  return { publisher_id: publisher.id, rtp_stream: legacy, room, videoroom: "rtp_forward" };
}
