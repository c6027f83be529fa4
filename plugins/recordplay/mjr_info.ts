/**
 * What a recording file holds, read from its first MJR frame (Janus's `record.c` layout): the
 * `MJR00002` JSON info header (`t` kind, `c` codec) or the old `MEETECHO` one (`audio` is Opus,
 * `video` VP8), as the reference's `janus_recordplay_parse_codec` reads it for `list`.
 *
 * @module
 */

/** A recording's kind and codec (lower case). */
export interface MjrHeader {
  kind: "audio" | "video" | "data";
  codec: string;
}

/** Reads the header of the MJR file at `path`; undefined when it is missing or not a recording. */
export async function readMjrHeader(path: string): Promise<MjrHeader | undefined> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch {
    return undefined;
  }
  try {
    const head = new Uint8Array(10 + 0xffff);
    let got = 0;
    while (got < head.length) {
      const n = await file.read(head.subarray(got));
      if (n === null) break;
      got += n;
    }
    return parseMjrHeader(head.subarray(0, got));
  } finally {
    file.close();
  }
}

/** The header of MJR bytes (at least the first frame). */
export function parseMjrHeader(bytes: Uint8Array): MjrHeader | undefined {
  if (bytes.length < 10 || bytes[0] !== 0x4d) return undefined;
  const len = (bytes[8]! << 8) | bytes[9]!;
  const body = new TextDecoder().decode(bytes.subarray(10, 10 + len));
  if (bytes.length < 10 + len) return undefined;
  if (bytes[1] === 0x45 && len === 5) {
    if (body === "audio") return { kind: "audio", codec: "opus" };
    if (body === "video") return { kind: "video", codec: "vp8" };
    if (body === "data") return { kind: "data", codec: "text" };
    return undefined;
  }
  if (bytes[1] !== 0x4a) return undefined;
  try {
    const info = JSON.parse(body) as { t?: unknown; c?: unknown };
    const kind = info.t === "a" ? "audio" : info.t === "v" ? "video" : info.t === "d" ? "data" : "";
    if (kind === "" || typeof info.c !== "string") return undefined;
    return { kind, codec: info.c.toLowerCase() };
  } catch {
    return undefined;
  }
}
