/**
 * Reads the m-lines of an SDP (an answer or offer the core returned): what a plugin needs to
 * forward them and report them. Reading only: SDP is built and edited by the media engine.
 *
 * @module
 */

/** One m-section as plugins read it. */
export interface MediaSection {
  /** `audio`, `video`, `application`... */
  kind: string;
  mindex: number;
  /** Its `a=mid`, else its mindex. */
  mid: string;
  /** 0: rejected. */
  port: number;
  /** The first codec of its m-line (lower case), helper payloads (rtx, red, fec...) skipped. */
  codec?: string;
}

/** One live audio/video m-line. */
export interface MediaLine {
  kind: "audio" | "video";
  mid: string;
}

const HELPERS = new Set(["rtx", "red", "ulpfec", "flexfec-03", "cn", "telephone-event"]);
const STATIC: Record<string, string> = { "0": "pcmu", "8": "pcma", "9": "g722" };

function section(text: string, mindex: number): MediaSection {
  const m = /^m=(\S+) (\d+) \S+ ?([^\r\n]*)/.exec(text);
  const names = new Map<string, string>(Object.entries(STATIC));
  for (const r of text.matchAll(/^a=rtpmap:(\d+) ([^/\r\n]+)/gm)) {
    if (r[1] && r[2]) names.set(r[1], r[2].toLowerCase());
  }
  const payloads = (m?.[3] ?? "").split(" ").filter((p) => p !== "");
  const codec = payloads.map((pt) => names.get(pt)).find((n) => n && !HELPERS.has(n));
  const mid = /^a=mid:(\S+)/m.exec(text)?.[1];
  return {
    kind: m?.[1] ?? "",
    mindex,
    mid: mid ?? String(mindex),
    port: Number(m?.[2] ?? 0),
    ...(codec !== undefined ? { codec } : {}),
  };
}

/** The m-sections of an SDP, in order. */
export function mediaSections(sdp: string): MediaSection[] {
  return sdp.split(/\r?\n(?=m=)/).slice(1).map((text, i) => section(text, i));
}

/** The audio/video m-lines of `sdp` that are not rejected (port 0) and have a mid, in order. */
export function liveMediaLines(sdp: string): MediaLine[] {
  const out: MediaLine[] = [];
  for (const section of sdp.split(/\r?\n(?=m=)/).slice(1)) {
    const m = /^m=(audio|video) (\d+)/.exec(section);
    const mid = /^a=mid:(\S+)/m.exec(section)?.[1];
    if (!m || m[2] === "0" || mid === undefined) continue;
    out.push({ kind: m[1] as "audio" | "video", mid });
  }
  return out;
}

/**
 * The codec of the first live audio and video m-line of an answer, as the reference names a
 * call's `audio_codec` and `video_codec` in its handle info.
 */
export function answeredCodecs(sdp: string): { audio_codec?: string; video_codec?: string } {
  const live = mediaSections(sdp).filter((s) => s.port !== 0 && s.codec !== undefined);
  const audio = live.find((s) => s.kind === "audio")?.codec;
  const video = live.find((s) => s.kind === "video")?.codec;
  return {
    ...(audio !== undefined ? { audio_codec: audio } : {}),
    ...(video !== undefined ? { video_codec: video } : {}),
  };
}
