/**
 * Reads the live audio/video m-lines of an SDP (an answer the core returned): what a plugin
 * needs to forward them. Reading only: SDP is built and edited by the media engine.
 *
 * @module
 */

/** One live audio/video m-line. */
export interface MediaLine {
  kind: "audio" | "video";
  mid: string;
}

/** The audio/video m-lines of `sdp` that are not rejected (port 0), in order. */
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
