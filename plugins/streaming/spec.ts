/**
 * A mountpoint's settings from a `create` request or a configuration entry, checked as the
 * reference checks them: the multistream form (`media: [{type, mid, port, pt, codec, ...}]`)
 * and the legacy one (`audio`/`audioport`/`audiopt`/..., mids `a`/`v`/`d`). `rtp` mountpoints of
 * Opus, G.711 (PCMU, PCMA), VP8 (simulcast too), VP9, H.264, AV1 and data, `live`/`ondemand`
 * audio files, and `rtsp` sources of those codecs (their streams learnt from the server,
 * `rtsp_feed.ts`).
 *
 * @module
 */
import { type JsonObject, PluginError } from "../../core/plugin.ts";
import { BODY, type BodyField, checkBody } from "../_shared/validate.ts";
import { CODES, STREAMING_ERROR } from "./errors.ts";

/** One stream of a mountpoint. */
export interface StreamSpec {
  type: "audio" | "video" | "data";
  mid: string;
  label: string;
  msid?: string;
  /** Requested port (0: a free one). */
  port: number;
  pt: number;
  /** Lower case: `opus`, `vp8` (`""` for data). */
  codec: string;
  fmtp?: string;
  /** An IPv4 multicast group a fixed port joins (`mcast`; ignored with `port: 0`, as the reference). */
  mcast?: string;
  /** Local interface (name or address) to bind instead of the plugin's address. */
  iface?: string;
  /** The address `iface` resolved to, when the mountpoint was made. */
  host?: string;
  /** The source's RTCP port as requested (0: a free one); absent: no RTCP. */
  rtcpPort?: number;
  /** RTCP on the port after the RTP one (an RTSP source's `client_port` pair). */
  rtcpNext?: boolean;
  /** Video: keep the last keyframe for new viewers (`bufferkf`). */
  bufferKf?: boolean;
  /** VP8 video: simulcast, with the requested ports of substreams 1 and 2 (0: free ones). */
  simulcastPorts?: number[];
  /**
   * Video: `svc` as asked; shown, with no effect: SVC layers are VP9's, which is not served
   * (the reference takes it on any video stream too).
   */
  svc?: boolean;
  /** Data: `datatype` binary (else text). */
  binary?: boolean;
  /** Data: keep the last message for new viewers (`buffermsg`). */
  bufferMsg?: boolean;
}

/** A mountpoint's settings. */
export interface MountpointSpec {
  /** 0: pick one. */
  id: number;
  name?: string;
  description?: string;
  metadata?: string;
  secret?: string;
  pin?: string;
  isPrivate: boolean;
  /** Created with the legacy single-stream fields (its reply names the ports per kind). */
  legacy: boolean;
  /**
   * A file source (`live`: one playout for every viewer; `ondemand`: each viewer its own, from
   * the start); its one audio stream plays the file in a loop.
   */
  file?: { path: string; onDemand: boolean };
  /** SRTP sources (`srtpsuite` and `srtpcrypto` both given): every stream is decrypted. */
  srtp?: { suite: 32 | 80; crypto: string };
  /**
   * An RTSP source: its streams (mids `a` and `v`) are learnt from the server's DESCRIBE, and
   * are empty until it answered.
   */
  rtsp?: RtspSpec;
  streams: StreamSpec[];
}

/** What an `rtsp` mountpoint was asked for (the reference's create fields). */
export interface RtspSpec {
  url: string;
  user?: string;
  password?: string;
  /** On a 404, DESCRIBE (and PLAY) the URL's path alone (`rtsp_quirk`). */
  quirk: boolean;
  /** Per kind asked: the codec, payload type and fmtp given instead of the server's. */
  audio?: { codec?: string; pt?: number; fmtp?: string };
  video?: { codec?: string; pt?: number; fmtp?: string; bufferKf: boolean };
  /** `rtspiface`: the local interface (name or address) its RTP is received on. */
  iface?: string;
  /** `rtsp_failcheck`: a server that cannot be reached fails `create` (else it is retried). */
  failcheck: boolean;
  /** No media for this long: the session is set up again (`rtsp_reconnect_delay`, s). */
  reconnectDelayMs: number;
  /** Upper bound of the keep-alive period (`rtsp_session_timeout`, s; 0: the server's). */
  sessionTimeoutMs: number;
  /** Each request's answer (`rtsp_timeout`, s) and the connection (`rtsp_conn_timeout`, s). */
  timeoutMs: number;
  connectTimeoutMs: number;
}

/** Codecs the rtp media engine forwards, with their rtpmap. */
export const CODECS: Readonly<
  Record<string, { kind: "audio" | "video"; rtpmap: string; clockRate: number }>
> = {
  opus: { kind: "audio", rtpmap: "opus/48000/2", clockRate: 48000 },
  pcmu: { kind: "audio", rtpmap: "PCMU/8000", clockRate: 8000 },
  pcma: { kind: "audio", rtpmap: "PCMA/8000", clockRate: 8000 },
  vp8: { kind: "video", rtpmap: "VP8/90000", clockRate: 90000 },
  vp9: { kind: "video", rtpmap: "VP9/90000", clockRate: 90000 },
  h264: { kind: "video", rtpmap: "H264/90000", clockRate: 90000 },
  av1: { kind: "video", rtpmap: "AV1/90000", clockRate: 90000 },
};

/** The names of {@link CODECS}, as a refusal lists them. */
export const CODEC_NAMES = Object.keys(CODECS).join(", ");

/** A simulcast source's layers are told apart by their VP8 descriptors. */
const SIMULCAST_CODEC = "vp8";

const positive = BODY.positiveInt;

export const CREATE_FIELDS: readonly BodyField[] = [
  { name: "name", ...BODY.string },
  { name: "description", ...BODY.string },
  { name: "metadata", ...BODY.string },
  { name: "is_private", ...BODY.bool },
  { name: "type", ...BODY.string, required: true },
  { name: "secret", ...BODY.string },
  { name: "pin", ...BODY.string },
  { name: "permanent", ...BODY.bool },
  { name: "audio", ...BODY.bool },
  { name: "video", ...BODY.bool },
  { name: "data", ...BODY.bool },
  { name: "srtpsuite", ...BODY.positiveInt },
  { name: "srtpcrypto", ...BODY.string },
];

export const MEDIA_FIELDS: readonly BodyField[] = [
  { name: "type", ...BODY.string, required: true },
  { name: "mid", ...BODY.string, required: true },
  { name: "label", ...BODY.string },
  { name: "msid", ...BODY.string },
  { name: "mcast", ...BODY.string },
  { name: "iface", ...BODY.string },
  { name: "port", ...positive, required: true },
  { name: "rtcpport", ...positive },
  { name: "pt", ...positive },
  { name: "codec", ...BODY.string },
  { name: "rtpmap", ...BODY.string },
  { name: "fmtp", ...BODY.string },
  { name: "skew", ...BODY.bool },
  { name: "bufferkf", ...BODY.bool },
  { name: "simulcast", ...BODY.bool },
  { name: "port2", ...positive },
  { name: "port3", ...positive },
  { name: "svc", ...BODY.bool },
  { name: "buffermsg", ...BODY.bool },
  { name: "datatype", ...BODY.string },
];

const DATA_FIELDS: readonly BodyField[] = [
  { name: "dataport", ...positive, required: true },
  { name: "databuffermsg", ...BODY.bool },
  { name: "datatype", ...BODY.string },
  { name: "dataiface", ...BODY.string },
  { name: "datamcast", ...BODY.string },
];

function legacyFields(kind: "audio" | "video"): BodyField[] {
  return [
    { name: `${kind}mcast`, ...BODY.string },
    { name: `${kind}port`, ...positive, required: true },
    { name: `${kind}rtcpport`, ...positive },
    { name: `${kind}pt`, ...positive, required: true },
    { name: `${kind}codec`, ...BODY.string },
    { name: `${kind}rtpmap`, ...BODY.string },
    { name: `${kind}fmtp`, ...BODY.string },
    { name: `${kind}iface`, ...BODY.string },
    { name: `${kind}skew`, ...BODY.bool },
    ...(kind === "video"
      ? [
        { name: "videobufferkf", ...BODY.bool },
        { name: "videosimulcast", ...BODY.bool },
        { name: "videoport2", ...positive },
        { name: "videoport3", ...positive },
        { name: "videosvc", ...BODY.bool },
      ]
      : []),
  ];
}

const cantCreate = (message: string) => new PluginError(STREAMING_ERROR.CANT_CREATE, message);
const NOTHING = "Can't add 'rtp' stream, no audio or video have to be streamed...";
/** `create` with an id in use. */
export const ID_TAKEN = "A stream with the provided ID already exists";
const SOURCE_ERROR = "Can't add 'rtp' stream, error creating data source stream";

/**
 * Checks a `create` body (or configuration entry) and returns the settings; `taken` tells an
 * id already in use, refused (as the reference) before the streams are looked at.
 */
export function parseMountpoint(
  body: JsonObject,
  taken: (id: number) => boolean = () => false,
): MountpointSpec {
  // `media` is checked as an array here; its entries below.
  const media = body.media;
  checkBody(body, CREATE_FIELDS, CODES);
  if (media !== undefined && !Array.isArray(media)) {
    throw new PluginError(
      STREAMING_ERROR.INVALID_ELEMENT,
      "Invalid element type (media should be an array)",
    );
  }
  const id = body.id;
  if (id !== undefined && !(typeof id === "number" && Number.isInteger(id) && id >= 0)) {
    throw new PluginError(
      STREAMING_ERROR.INVALID_ELEMENT,
      "Invalid element type (id should be a positive integer)",
    );
  }
  const type = String(body.type).toLowerCase();
  if (type !== "rtp" && type !== "live" && type !== "ondemand" && type !== "rtsp") {
    throw new PluginError(STREAMING_ERROR.INVALID_ELEMENT, `Unknown stream type '${type}'...\n`);
  }
  if (typeof id === "number" && id !== 0 && taken(id)) {
    throw cantCreate(ID_TAKEN);
  }
  const common = {
    id: typeof id === "number" ? id : 0,
    ...(typeof body.name === "string" ? { name: body.name } : {}),
    ...(typeof body.description === "string" ? { description: body.description } : {}),
    ...(typeof body.metadata === "string" ? { metadata: body.metadata } : {}),
    ...(typeof body.secret === "string" ? { secret: body.secret } : {}),
    ...(typeof body.pin === "string" ? { pin: body.pin } : {}),
    isPrivate: body.is_private === true,
  };
  if (type === "rtsp") return { ...common, legacy: false, streams: [], rtsp: rtspSource(body) };
  if (type !== "rtp") return { ...common, ...fileSource(body, type) };
  const suite = body.srtpsuite;
  if (suite !== undefined && suite !== 32 && suite !== 80) {
    throw cantCreate("Can't add 'rtp' stream, invalid SRTP suite...");
  }
  const srtp = suite !== undefined && typeof body.srtpcrypto === "string"
    ? { suite: suite as 32 | 80, crypto: body.srtpcrypto }
    : undefined;
  const legacy = !Array.isArray(media) &&
    (body.audio === true || body.video === true || body.data === true);
  const streams = Array.isArray(media)
    ? media.map((m) => parseMedia(m, body))
    : legacyStreams(body);
  if (streams.length === 0) throw cantCreate(NOTHING);
  return {
    ...common,
    legacy,
    ...(srtp ? { srtp } : {}),
    streams,
  };
}

const RTSP_FIELDS: readonly BodyField[] = [
  { name: "url", ...BODY.string },
  { name: "rtsp_user", ...BODY.string },
  { name: "rtsp_pwd", ...BODY.string },
  { name: "rtsp_reconnect_delay", ...positive },
  { name: "rtsp_session_timeout", ...positive },
  { name: "rtsp_timeout", ...positive },
  { name: "rtsp_conn_timeout", ...positive },
  { name: "audiocodec", ...BODY.string },
  { name: "audiortpmap", ...BODY.string },
  { name: "audiofmtp", ...BODY.string },
  { name: "audiopt", ...positive },
  { name: "videocodec", ...BODY.string },
  { name: "videortpmap", ...BODY.string },
  { name: "videofmtp", ...BODY.string },
  { name: "videopt", ...positive },
  { name: "videobufferkf", ...BODY.bool },
  { name: "threads", ...positive },
  { name: "rtspiface", ...BODY.string },
  { name: "rtsp_failcheck", ...BODY.bool },
];

/** The reference's words when an RTSP source cannot be made (no URL, no server, no media). */
export const RTSP_ERROR = "Error creating 'RTSP' stream";

/** An `rtsp` mountpoint's settings, checked in the reference's order. */
function rtspSource(body: JsonObject): RtspSpec {
  checkBody(body, RTSP_FIELDS, CODES);
  const audio = body.audio === true;
  const video = body.video === true;
  if (!audio && !video) {
    throw cantCreate("Can't add 'rtsp' stream, no audio or video have to be streamed...");
  }
  if (typeof body.url !== "string") throw cantCreate(RTSP_ERROR);
  const str = (key: string) => typeof body[key] === "string" ? body[key] as string : undefined;
  const num = (key: string) => typeof body[key] === "number" ? body[key] as number : undefined;
  const given = (kind: "audio" | "video") => {
    const codec = str(`${kind}codec`) ?? codecOf(body[`${kind}rtpmap`]);
    const pt = num(`${kind}pt`);
    const fmtp = str(`${kind}fmtp`);
    return {
      ...(codec !== undefined ? { codec: codec.toLowerCase() } : {}),
      ...(pt !== undefined ? { pt } : {}),
      ...(fmtp !== undefined ? { fmtp } : {}),
    };
  };
  // `rtsp_check` is an old spelling the reference still reads.
  const failcheck = body.rtsp_failcheck ?? body.rtsp_check;
  const user = str("rtsp_user");
  const password = str("rtsp_pwd");
  const iface = str("rtspiface");
  return {
    url: body.url,
    ...(user !== undefined && password !== undefined ? { user, password } : {}),
    quirk: body.rtsp_quirk === true,
    ...(audio ? { audio: given("audio") } : {}),
    ...(video ? { video: { ...given("video"), bufferKf: body.videobufferkf === true } } : {}),
    ...(iface !== undefined && iface !== "" ? { iface } : {}),
    failcheck: failcheck !== false,
    reconnectDelayMs: (num("rtsp_reconnect_delay") ?? 5) * 1000,
    sessionTimeoutMs: (num("rtsp_session_timeout") ?? 0) * 1000,
    timeoutMs: (num("rtsp_timeout") ?? 10) * 1000,
    connectTimeoutMs: (num("rtsp_conn_timeout") ?? 5) * 1000,
  };
}

const FILE_FIELDS: readonly BodyField[] = [
  { name: "filename", ...BODY.string, required: true },
  { name: "audiocodec", ...BODY.string },
  { name: "audiortpmap", ...BODY.string },
  { name: "audiofmtp", ...BODY.string },
  { name: "audiopt", ...positive },
];

/** The mid of a file mountpoint's one stream in viewers' offers (the reference's). */
export const FILE_MID = "0";

/**
 * Refuses a file mountpoint whose file is not there, as the reference does at `create` (checked
 * when the mountpoint is made, so a stock one whose file is missing is only skipped).
 */
export function checkFileExists(spec: MountpointSpec): void {
  const file = spec.file;
  if (!file) return;
  try {
    if (Deno.statSync(file.path).isFile) return;
  } catch {
    // Missing or unreadable: refused below.
  }
  const type = file.onDemand ? "ondemand" : "live";
  throw cantCreate(`Can't add '${type}' stream, no such file '${file.path}'\n`);
}

/**
 * A `live` or `ondemand` file mountpoint: audio only, a raw a-law (`.alaw`, PCMA on payload
 * type 8) or mu-law (`.mulaw`, PCMU on 0) file, or Ogg/Opus (`.opus`, with an Opus
 * `audiocodec` and its `audiopt`), with the reference's checks in its order.
 */
function fileSource(
  body: JsonObject,
  type: "live" | "ondemand",
): Pick<MountpointSpec, "legacy" | "streams" | "file"> {
  checkBody(body, FILE_FIELDS, CODES);
  if (body.audio !== true || body.video === true) {
    throw cantCreate(
      `Can't add '${type}' stream, we only support audio file streaming right now...`,
    );
  }
  const path = body.filename as string;
  const format = /\.(alaw|mulaw|opus)$/i.exec(path)?.[1]?.toLowerCase();
  if (!format) {
    throw cantCreate(
      `Can't add '${type}' stream, unsupported format (we only support raw mu-Law and a-Law files right now)`,
    );
  }
  let codec = format === "alaw" ? "pcma" : "pcmu";
  let pt = format === "alaw" ? 8 : 0;
  if (format === "opus") {
    const named = body.audiocodec ?? codecOf(body.audiortpmap);
    if (typeof named !== "string" || named.toLowerCase() !== "opus") {
      throw cantCreate(`Error creating '${type}' stream`);
    }
    codec = "opus";
    pt = typeof body.audiopt === "number" ? body.audiopt : 111;
  }
  return {
    legacy: false,
    file: { path, onDemand: type === "ondemand" },
    streams: [{
      type: "audio",
      mid: FILE_MID,
      label: "audio",
      port: 0,
      pt,
      codec,
      ...(format === "opus" && typeof body.audiofmtp === "string" ? { fmtp: body.audiofmtp } : {}),
    }],
  };
}

function parseMedia(entry: unknown, root: JsonObject): StreamSpec {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    throw new PluginError(STREAMING_ERROR.INVALID_ELEMENT, "Invalid media stream");
  }
  const m = entry as JsonObject;
  checkBody(m, MEDIA_FIELDS, CODES);
  const type = m.type as string;
  if (type === "data") {
    return dataStream({
      mid: m.mid as string,
      label: typeof m.label === "string" ? m.label : type,
      port: m.port,
      // The reference reads these from the request, not from the entry: the request's win,
      // and an entry's apply when valid (the reference ignores them, invalid ones too).
      datatype: root.datatype ??
        (typeof m.datatype === "string" && /^(text|binary)$/i.test(m.datatype)
          ? m.datatype
          : undefined),
      buffermsg: root.buffermsg ?? m.buffermsg,
      iface: m.iface,
      mcast: m.mcast,
    });
  }
  if (type !== "audio" && type !== "video") {
    throw cantCreate("Unsupported media type in media stream");
  }
  return stream(type, {
    mid: m.mid as string,
    label: typeof m.label === "string" ? m.label : type,
    msid: m.msid,
    port: m.port,
    pt: m.pt,
    codec: m.codec ?? codecOf(m.rtpmap),
    fmtp: m.fmtp,
    iface: m.iface,
    mcast: m.mcast,
    simulcast: m.simulcast === true,
    svc: m.svc === true,
    port2: m.port2,
    port3: m.port3,
    rtcpport: m.rtcpport,
    bufferkf: type === "video" && m.bufferkf === true,
  });
}

/** The codec an `rtpmap` names ("opus/48000/2": opus), as the reference reads one given alone. */
function codecOf(rtpmap: unknown): string | undefined {
  if (typeof rtpmap !== "string") return undefined;
  const name = rtpmap.split("/")[0]?.trim() ?? "";
  return name === "" ? undefined : name.toLowerCase();
}

function legacyStreams(body: JsonObject): StreamSpec[] {
  const out: StreamSpec[] = [];
  for (const kind of ["audio", "video"] as const) {
    if (body[kind] !== true) continue;
    checkBody(body, legacyFields(kind), CODES);
    out.push(stream(kind, {
      mid: kind === "audio" ? "a" : "v",
      label: kind,
      port: body[`${kind}port`],
      pt: body[`${kind}pt`],
      codec: body[`${kind}codec`] ?? codecOf(body[`${kind}rtpmap`]),
      fmtp: body[`${kind}fmtp`],
      iface: body[`${kind}iface`],
      mcast: body[`${kind}mcast`],
      simulcast: kind === "video" && body.videosimulcast === true,
      svc: kind === "video" && body.videosvc === true,
      port2: body.videoport2,
      port3: body.videoport3,
      rtcpport: body[`${kind}rtcpport`],
      bufferkf: kind === "video" && body.videobufferkf === true,
    }));
  }
  if (body.data === true) {
    checkBody(body, DATA_FIELDS, CODES);
    out.push(dataStream({
      mid: "d",
      label: "data",
      port: body.dataport,
      datatype: body.datatype,
      buffermsg: body.databuffermsg,
      iface: body.dataiface,
      mcast: body.datamcast,
    }));
  }
  return out;
}

function stream(
  type: "audio" | "video",
  m: {
    mid: string;
    label: string;
    msid?: unknown;
    port: unknown;
    pt: unknown;
    codec: unknown;
    fmtp: unknown;
    iface: unknown;
    mcast: unknown;
    simulcast: boolean;
    svc: boolean;
    port2?: unknown;
    port3?: unknown;
    rtcpport?: unknown;
    bufferkf?: boolean;
  },
): StreamSpec {
  // As the reference, a simulcast stream keeps no keyframe: its viewers' layers differ.
  const simulcast = m.simulcast && type === "video";
  const port = m.port as number;
  // No payload type or codec: the reference cannot make the stream either.
  if (typeof m.pt !== "number" || typeof m.codec !== "string" || port > 65535) {
    throw cantCreate(SOURCE_ERROR);
  }
  const codec = m.codec.toLowerCase();
  if (CODECS[codec]?.kind !== type) {
    throw cantCreate(
      `Can't add 'rtp' stream: ${type} codec '${m.codec}' is not supported (${CODEC_NAMES})`,
    );
  }
  if (simulcast && codec !== SIMULCAST_CODEC) {
    throw cantCreate(`Can't add 'rtp' stream: simulcast is supported for VP8 only, not '${codec}'`);
  }
  if (m.pt > 127) throw cantCreate(SOURCE_ERROR);
  return {
    type,
    mid: m.mid,
    label: m.label,
    ...(typeof m.msid === "string" ? { msid: m.msid } : {}),
    port,
    pt: m.pt,
    codec,
    ...(typeof m.fmtp === "string" ? { fmtp: m.fmtp } : {}),
    ...(typeof m.iface === "string" && m.iface !== "" ? { iface: m.iface } : {}),
    ...(isMulticast(m.mcast) && port > 0 ? { mcast: m.mcast } : {}),
    ...(typeof m.rtcpport === "number" ? { rtcpPort: checkPort(m.rtcpport) } : {}),
    ...(m.bufferkf && !simulcast ? { bufferKf: true } : {}),
    ...(m.svc && type === "video" ? { svc: true } : {}),
    ...(simulcast
      ? {
        simulcastPorts: [m.port2, m.port3].map((p) => checkPort(typeof p === "number" ? p : 0)),
      }
      : {}),
  };
}

/** Whether `value` is an IPv4 multicast address (224.0.0.0/4); others bind as usual (reference). */
function isMulticast(value: unknown): value is string {
  if (typeof value !== "string") return false;
  const parts = value.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    return false;
  }
  const first = Number(parts[0]);
  return first >= 224 && first <= 239;
}

function checkPort(port: number): number {
  if (port > 65535) throw cantCreate(SOURCE_ERROR);
  return port;
}

/** A data stream: datagrams to the port reach viewers' data channels. */
function dataStream(m: {
  mid: string;
  label: string;
  port: unknown;
  datatype: unknown;
  buffermsg: unknown;
  iface: unknown;
  mcast: unknown;
}): StreamSpec {
  if (typeof m.mcast === "string" && m.mcast !== "") {
    throw cantCreate("Can't add 'rtp' stream: multicast is not supported");
  }
  const datatype = typeof m.datatype === "string" ? m.datatype.toLowerCase() : "text";
  if (datatype !== "text" && datatype !== "binary") {
    throw new PluginError(
      STREAMING_ERROR.INVALID_ELEMENT,
      "Invalid element (datatype can only be text or binary)",
    );
  }
  return {
    type: "data",
    mid: m.mid,
    label: m.label,
    port: checkPort(m.port as number),
    pt: 0,
    codec: "",
    ...(typeof m.iface === "string" && m.iface !== "" ? { iface: m.iface } : {}),
    ...(datatype === "binary" ? { binary: true } : {}),
    ...(m.buffermsg === true ? { bufferMsg: true } : {}),
  };
}
