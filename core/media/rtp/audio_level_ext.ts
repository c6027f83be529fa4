/**
 * RFC 6464 client-to-mixer audio level read from an RTP packet's header extension (RFC 8285
 * one-byte or two-byte form), without decoding the audio: the level is -dBov, 0 loudest and
 * 127 silence, as Janus reads it for VideoRoom's `talking` events.
 *
 * @module
 */
import { csrcCount, hasExtension } from "./header.ts";

/** The extension's URI in SDP (`a=extmap:<id> <uri>`). */
export const AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

/** The extmap id of the audio-level extension in one SDP media section, 0 when absent. */
export function audioLevelId(section: string): number {
  const m = /^a=extmap:(\d+)(?:\/\w+)? urn:ietf:params:rtp-hdrext:ssrc-audio-level\s*$/m.exec(
    section,
  );
  return m ? Number(m[1]) : 0;
}

/** The level carried under extension `id` in `buf[0, length)`, or -1 when there is none. */
export function readAudioLevel(buf: Uint8Array, length: number, id: number): number {
  if (id <= 0 || length < 16 || !hasExtension(buf)) return -1;
  const at = 12 + 4 * csrcCount(buf);
  if (length < at + 4) return -1;
  const profile = (buf[at]! << 8) | buf[at + 1]!;
  const end = at + 4 + 4 * ((buf[at + 2]! << 8) | buf[at + 3]!);
  if (end > length) return -1;
  let i = at + 4;
  if (profile === 0xbede) {
    while (i < end) {
      const b = buf[i]!;
      if (b === 0) {
        i++; // padding
        continue;
      }
      const extId = b >> 4;
      const len = (b & 0x0f) + 1;
      if (extId === 15) return -1;
      if (extId === id) return i + 1 < end ? buf[i + 1]! & 0x7f : -1;
      i += 1 + len;
    }
    return -1;
  }
  if ((profile & 0xfff0) === 0x1000) {
    while (i + 1 < end) {
      const extId = buf[i]!;
      if (extId === 0) {
        i++;
        continue;
      }
      const len = buf[i + 1]!;
      if (extId === id) return len > 0 && i + 2 < end ? buf[i + 2]! & 0x7f : -1;
      i += 2 + len;
    }
  }
  return -1;
}
