/**
 * RTP header extension ids (RFC 8285) across a forward: a packet carries the ids its sender
 * negotiated, and the receiving peer may have negotiated other ids for the same extension, or
 * none. Ids are rewritten per target (as mediasoup does) and extensions the target did not
 * negotiate are blanked into padding (as Janus strips them), in place and without changing
 * the packet's length, so the caller can put the original bytes back for the next target.
 *
 * @module
 */
import { csrcCount, hasExtension } from "./header.ts";

/** `a=extmap` lines of one SDP media section: id -> URI. */
export function extmapIds(section: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of section.matchAll(/^a=extmap:(\d+)(?:\/\w+)? (\S+)/gm)) {
    out.set(Number(m[1]), m[2]!);
  }
  return out;
}

/**
 * The id table from a sender's extensions to a receiver's: `table[senderId]` is the
 * receiver's id for the same URI, 0 when the receiver did not negotiate it (blank it).
 * Undefined when every sender id maps to itself (nothing to do).
 */
export function extensionIdTable(
  sender: ReadonlyMap<number, string>,
  receiver: ReadonlyMap<number, string>,
): Uint8Array | undefined {
  const byUri = new Map<string, number>();
  for (const [id, uri] of receiver) byUri.set(uri, id);
  const table = new Uint8Array(256);
  let identity = true;
  for (const [id, uri] of sender) {
    const to = byUri.get(uri) ?? 0;
    if (id > 0 && id < 256) table[id] = to;
    if (to !== id) identity = false;
  }
  return identity ? undefined : table;
}

/** The extension block of `buf[0, length)`: its profile and element bytes `[start, end)`. */
export function extensionBlock(
  buf: Uint8Array,
  length: number,
): { profile: number; start: number; end: number } | undefined {
  if (length < 16 || !hasExtension(buf)) return undefined;
  const at = 12 + 4 * csrcCount(buf);
  if (length < at + 4) return undefined;
  const profile = (buf[at]! << 8) | buf[at + 1]!;
  const end = at + 4 + 4 * ((buf[at + 2]! << 8) | buf[at + 3]!);
  return end > length ? undefined : { profile, start: at + 4, end };
}

/**
 * Rewrites each element's id through `table` in place; an element mapped to 0 (or to an id
 * its form cannot carry: over 14 in the one-byte form) becomes padding (zero bytes). Returns
 * whether a byte changed. Unknown profiles are left alone.
 */
export function rewriteExtensions(buf: Uint8Array, length: number, table: Uint8Array): boolean {
  const block = extensionBlock(buf, length);
  if (!block) return false;
  const { profile, end } = block;
  let i = block.start;
  let changed = false;
  if (profile === 0xbede) {
    while (i < end) {
      const b = buf[i]!;
      if (b === 0) {
        i++;
        continue;
      }
      const id = b >> 4;
      if (id === 15) break; // reserved: the rest is not parsed (RFC 8285 section 4.2)
      const size = 1 + (b & 0x0f) + 1;
      const to = table[id]!;
      if (to === id) {
        i += size;
        continue;
      }
      changed = true;
      if (to > 0 && to < 15) buf[i] = (to << 4) | (b & 0x0f);
      else buf.fill(0, i, Math.min(end, i + size));
      i += size;
    }
    return changed;
  }
  if ((profile & 0xfff0) !== 0x1000) return false;
  while (i + 1 < end) {
    const id = buf[i]!;
    if (id === 0) {
      i++;
      continue;
    }
    const size = 2 + buf[i + 1]!;
    const to = table[id]!;
    if (to !== id) {
      changed = true;
      if (to > 0) buf[i] = to;
      else buf.fill(0, i, Math.min(end, i + size));
    }
    i += size;
  }
  return changed;
}
