/**
 * Reads a Janus recording (MJR) for playback, as the reference's Record&Play indexes one
 * (`janus_recordplay_get_frames`): the `MJR00002` info header (kind, codec, fmtp, extmaps) or
 * the old `MEETECHO` one (`audio` is Opus, `video` VP8), then the RTP packets of every frame,
 * ordered by RTP timestamp (a wrap counted) and sequence number, with their time from the first
 * packet in ms. Frames shorter than an RTP header are skipped.
 *
 * @module
 */
import { sequenceNumber, timestamp } from "./header.ts";

/** The stream a recording holds. */
export interface MjrStreamInfo {
  kind: "audio" | "video";
  /** Codec as Janus names it (`opus`, `vp8`, ...). */
  codec: string;
  fmtp?: string;
  /** Header extensions the packets carry: id -> URI. */
  extensions: Map<number, string>;
}

/** One recorded RTP packet. */
export interface MjrPacket {
  /** When it is due, in ms after the first packet (from RTP timestamps). */
  atMs: number;
  data: Uint8Array;
}

/** A recording read whole. */
export interface MjrRecording extends MjrStreamInfo {
  packets: MjrPacket[];
  /** From the first packet's time to the last one's, in ms. */
  durationMs: number;
}

/** The clock rate of a recorded codec (Janus records 48 kHz Opus and 90 kHz video). */
export function mjrClockRate(info: { kind: "audio" | "video"; codec: string }): number {
  if (info.kind === "video") return 90000;
  const codec = info.codec.toLowerCase();
  if (codec === "pcmu" || codec === "pcma" || codec === "g722") return 8000;
  if (codec === "g711") return 8000;
  return 48000;
}

const decoder = new TextDecoder();

/**
 * Parses the bytes of an MJR file.
 *
 * @throws {Error} when the file is not a recording of audio or video
 */
export function parseMjr(bytes: Uint8Array, options: { headerOnly?: boolean } = {}): MjrRecording {
  let info: MjrStreamInfo | undefined;
  const raw: { seq: number; ts: number; data: Uint8Array }[] = [];
  let offset = 0;
  while (offset + 10 <= bytes.length) {
    if (bytes[offset] !== 0x4d /* M */) throw new Error("Invalid MJR frame header");
    const format = bytes[offset + 1];
    const len = (bytes[offset + 8]! << 8) | bytes[offset + 9]!;
    const body = offset + 10;
    offset = body + len;
    if (offset > bytes.length) break; // A cut last frame: what came before stays playable.
    if (format === 0x4a /* J: MJR00002 */) {
      if (!info) info = parseInfoHeader(decoder.decode(bytes.subarray(body, body + len)));
      if (options.headerOnly) break;
      continue;
    }
    if (format !== 0x45 /* E: MEET or MEETECHO */) throw new Error("Invalid MJR frame header");
    if (!info && len === 5) {
      const kind = decoder.decode(bytes.subarray(body, body + 5));
      if (kind === "audio") info = { kind: "audio", codec: "opus", extensions: new Map() };
      else if (kind === "video") info = { kind: "video", codec: "vp8", extensions: new Map() };
      else throw new Error(`Unsupported MJR recording type '${kind}'`);
      if (options.headerOnly) break;
      continue;
    }
    if (len < 12) continue;
    const data = bytes.subarray(body, body + len);
    raw.push({ seq: sequenceNumber(data), ts: timestamp(data), data });
  }
  if (!info) throw new Error("No MJR info header");
  const packets = orderPackets(raw, mjrClockRate(info));
  const durationMs = packets.length > 0 ? packets[packets.length - 1]!.atMs : 0;
  return { ...info, packets, durationMs };
}

/** Reads only what a recording holds (its kind and codec), as `list` needs. */
export function readMjrInfo(bytes: Uint8Array): MjrStreamInfo {
  return parseMjr(bytes, { headerOnly: true });
}

function parseInfoHeader(text: string): MjrStreamInfo {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error("Invalid MJR info header");
  }
  const o = (json ?? {}) as Record<string, unknown>;
  const kind = o.t === "a" ? "audio" : o.t === "v" ? "video" : undefined;
  if (!kind) throw new Error(`Unsupported MJR recording type '${String(o.t)}'`);
  if (typeof o.c !== "string") throw new Error("Missing MJR recording codec");
  const extensions = new Map<number, string>();
  if (o.x && typeof o.x === "object") {
    for (const [id, uri] of Object.entries(o.x as Record<string, unknown>)) {
      const n = Number(id);
      if (Number.isInteger(n) && n > 0 && n < 15 && typeof uri === "string") extensions.set(n, uri);
    }
  }
  return {
    kind,
    codec: o.c.toLowerCase(),
    ...(typeof o.f === "string" ? { fmtp: o.f } : {}),
    extensions,
  };
}

/**
 * Packets in playing order: timestamps unwrapped along the file (a jump back of over half the
 * range is a wrap), then a stable sort by timestamp and sequence number (unwrapped too).
 */
function orderPackets(
  raw: { seq: number; ts: number; data: Uint8Array }[],
  clockRate: number,
): MjrPacket[] {
  let tsBase = 0;
  let lastTs = -1;
  let seqBase = 0;
  let lastSeq = -1;
  const keyed = raw.map((p, i) => {
    if (lastTs >= 0 && lastTs - p.ts > 0x80000000) tsBase += 0x100000000;
    else if (lastTs >= 0 && p.ts - lastTs > 0x80000000) tsBase -= 0x100000000;
    lastTs = p.ts;
    if (lastSeq >= 0 && lastSeq - p.seq > 0x8000) seqBase += 0x10000;
    else if (lastSeq >= 0 && p.seq - lastSeq > 0x8000) seqBase -= 0x10000;
    lastSeq = p.seq;
    return { ts: tsBase + p.ts, seq: seqBase + p.seq, i, data: p.data };
  });
  keyed.sort((a, b) => a.ts - b.ts || a.seq - b.seq || a.i - b.i);
  const first = keyed[0]?.ts ?? 0;
  return keyed.map((p) => ({ atMs: ((p.ts - first) * 1000) / clockRate, data: p.data }));
}

/** One recorded data-channel message. */
export interface MjrDataFrame {
  /** When it came, in ms after the recording was created (the reference's playout time). */
  atMs: number;
  data: Uint8Array;
}

/** A data recording read whole (`t` `d` in the info header). */
export interface MjrDataRecording {
  /** `text` or `binary`. */
  codec: string;
  frames: MjrDataFrame[];
}

/**
 * Parses the bytes of a data MJR file as the reference's Record&Play indexes one: each frame's
 * 8-byte wall-clock time (µs) less the header's creation time `s`, in file order.
 *
 * @throws {Error} when the file is not a data recording
 */
export function parseMjrData(bytes: Uint8Array): MjrDataRecording {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Record<string, unknown> | undefined;
  const frames: MjrDataFrame[] = [];
  let offset = 0;
  while (offset + 10 <= bytes.length) {
    if (bytes[offset] !== 0x4d /* M */) throw new Error("Invalid MJR frame header");
    const format = bytes[offset + 1];
    const len = view.getUint16(offset + 8);
    const body = offset + 10;
    offset = body + len;
    if (offset > bytes.length) break;
    if (format === 0x4a /* J */) {
      if (header) continue;
      try {
        header = JSON.parse(decoder.decode(bytes.subarray(body, body + len)));
      } catch {
        throw new Error("Invalid MJR info header");
      }
      if (header?.t !== "d") throw new Error(`Not a data recording ('${String(header?.t)}')`);
      continue;
    }
    if (!header || len <= 8) continue;
    const whenUs = Number(view.getBigUint64(body));
    const createdUs = typeof header.s === "number" ? header.s : whenUs;
    frames.push({ atMs: (whenUs - createdUs) / 1000, data: bytes.slice(body + 8, body + len) });
  }
  if (!header) throw new Error("No MJR info header");
  return { codec: typeof header.c === "string" ? header.c.toLowerCase() : "text", frames };
}
