/**
 * A small Ogg demuxer for Opus files (RFC 7845): Ogg pages -> packets of the first logical
 * stream, the `OpusHead` header (channels, pre-skip) and the duration from the last granule
 * position. No CRC check: a damaged page just yields a damaged packet for the decoder.
 *
 * @module
 */

/** What an Ogg/Opus file holds. */
export interface OggOpus {
  channels: number;
  /** Samples at 48 kHz to drop from the start of the decoded audio. */
  preSkip: number;
  /** Opus packets (the headers excluded), in order. */
  packets: Uint8Array[];
  /** Playing time in ms (last granule position less the pre-skip, at 48 kHz). */
  durationMs: number;
}

const CAPTURE = [0x4f, 0x67, 0x67, 0x53]; // "OggS"
const HEAD = "OpusHead";
const TAGS = "OpusTags";

function startsWith(data: Uint8Array, text: string): boolean {
  if (data.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (data[i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * Reads an Ogg/Opus file's bytes.
 *
 * @throws {Error} when it is not Ogg, or its first stream is not Opus
 */
export function parseOggOpus(bytes: Uint8Array): OggOpus {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const packets: Uint8Array[] = [];
  let serial: number | undefined;
  let partial: Uint8Array[] = [];
  let lastGranule = 0;
  let pos = 0;
  while (pos + 27 <= bytes.length) {
    if (CAPTURE.some((b, i) => bytes[pos + i] !== b)) throw new Error("Not an Ogg file");
    const granuleLo = view.getUint32(pos + 6, true);
    const granuleHi = view.getInt32(pos + 10, true);
    const pageSerial = view.getUint32(pos + 14, true);
    const segments = bytes[pos + 26]!;
    const table = pos + 27;
    let body = table + segments;
    if (body > bytes.length) break;
    serial ??= pageSerial;
    const mine = pageSerial === serial;
    for (let s = 0; s < segments; s++) {
      const len = bytes[table + s]!;
      if (body + len > bytes.length) break;
      if (mine) partial.push(bytes.subarray(body, body + len));
      body += len;
      // A segment shorter than 255 ends a packet.
      if (mine && len < 255) {
        const total = partial.reduce((n, p) => n + p.length, 0);
        const packet = new Uint8Array(total);
        let at = 0;
        for (const p of partial) {
          packet.set(p, at);
          at += p.length;
        }
        packets.push(packet);
        partial = [];
      }
    }
    // -1 marks a page where no packet ends.
    if (mine && !(granuleHi === -1 && granuleLo === 0xffffffff)) {
      lastGranule = granuleHi * 0x100000000 + granuleLo;
    }
    pos = body;
  }
  const head = packets[0];
  if (!head || !startsWith(head, HEAD) || head.length < 19) {
    throw new Error("Not an Opus file (no OpusHead)");
  }
  const channels = head[9]!;
  const preSkip = head[10]! | (head[11]! << 8);
  const audio = packets.slice(1).filter((p, i) => !(i === 0 && startsWith(p, TAGS)));
  return {
    channels,
    preSkip,
    packets: audio,
    durationMs: Math.max(0, ((lastGranule - preSkip) / 48000) * 1000),
  };
}
