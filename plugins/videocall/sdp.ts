/**
 * The little VideoCall reads of an SDP: which audio/video m-lines (mid, kind) carry media and
 * whether a data channel is negotiated.
 *
 * @module
 */

/** One audio or video m-line. */
export interface MediaLine {
  mid: string;
  kind: "audio" | "video";
}

/** The audio/video m-lines that are not rejected (port 0), in order. */
export function mediaLines(sdp: string): MediaLine[] {
  const out: MediaLine[] = [];
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    const m = /^(audio|video) (\d+) /.exec(section);
    if (!m || m[2] === "0") continue;
    const mid = /\r?\na=mid:(\S+)/.exec(section)?.[1];
    if (mid !== undefined) out.push({ mid, kind: m[1] as "audio" | "video" });
  }
  return out;
}

/** Whether the SDP has a data channel m-line that is not rejected. */
export function hasDataChannel(sdp: string): boolean {
  return /\r?\nm=application [1-9]\d* [^\r\n]*DTLS\/SCTP/.test(sdp);
}
