/**
 * SDP rewriting around wrtc: reject m-lines it cannot decode, cap bitrate with `b=AS`, and
 * replace the gathered candidates of a local description by the filtered ones followed by
 * `a=end-of-candidates`. Pure string work, unit-tested without wrtc.
 *
 * @module
 */
import type { CandidateFilter } from "./ice_filter.ts";
import { parseCandidate } from "./ice_filter.ts";

/** An SDP split into its session part and its m-sections, as lines without CRLF. */
export interface SplitSdp {
  session: string[];
  media: string[][];
}

/** Codecs that only help another codec: they never make an m-line usable on their own. */
const HELPER_CODECS = new Set(["rtx", "red", "ulpfec", "flexfec-03", "cn", "telephone-event"]);

/** Static payload types that may appear without an `a=rtpmap`. */
const STATIC_PAYLOADS: Record<string, string> = { "0": "pcmu", "8": "pcma", "9": "g722" };

/** Splits an SDP into session and media sections. */
export function splitSdp(sdp: string): SplitSdp {
  const lines = sdp.split(/\r?\n/).filter((l) => l !== "");
  const out: SplitSdp = { session: [], media: [] };
  for (const line of lines) {
    if (line.startsWith("m=")) out.media.push([line]);
    else if (out.media.length === 0) out.session.push(line);
    else out.media[out.media.length - 1]?.push(line);
  }
  return out;
}

/** Joins a split SDP back with CRLF line ends. */
export function joinSdp(split: SplitSdp): string {
  return [...split.session, ...split.media.flat()].join("\r\n") + "\r\n";
}

/** The value of the first `a=NAME:` line of a section. */
export function attribute(section: readonly string[], name: string): string | undefined {
  const prefix = `a=${name}:`;
  return section.find((l) => l.startsWith(prefix))?.slice(prefix.length);
}

/** `audio`, `video`, `application`... of a section. */
export function mediaKind(section: readonly string[]): string {
  return /^m=(\S+)/.exec(section[0] ?? "")?.[1] ?? "";
}

/** The port of a section's m-line. */
export function mediaPort(section: readonly string[]): number {
  return Number(/^m=\S+ (\d+)/.exec(section[0] ?? "")?.[1] ?? "0");
}

function setPort(section: string[], port: number): void {
  section[0] = (section[0] ?? "").replace(/^(m=\S+ )\d+/, `$1${port}`);
}

/** Lower-case codec names an m-section offers (helper codecs excluded). */
export function offeredCodecs(section: readonly string[]): string[] {
  const payloads = (section[0] ?? "").split(" ").slice(3);
  const names = new Map<string, string>();
  for (const line of section) {
    const m = /^a=rtpmap:(\d+) ([^/]+)/.exec(line);
    if (m?.[1] && m[2]) names.set(m[1], m[2].toLowerCase());
  }
  const out: string[] = [];
  for (const pt of payloads) {
    const name = names.get(pt) ?? STATIC_PAYLOADS[pt];
    if (name && !HELPER_CODECS.has(name)) out.push(name);
  }
  return out;
}

/**
 * Sets to 0 the port of every audio/video m-line offering no codec in `supported`
 * (lower-case names per kind) and drops those mids from the BUNDLE group, so that wrtc
 * rejects them in its answer instead of failing the whole offer (it does for H264-only video).
 *
 * @returns the rewritten SDP and the mids that were rejected
 */
export function rejectUnsupportedMedia(
  sdp: string,
  supported: { audio: ReadonlySet<string>; video: ReadonlySet<string> },
): { sdp: string; rejected: string[] } {
  const split = splitSdp(sdp);
  const rejected: string[] = [];
  for (const section of split.media) {
    const kind = mediaKind(section);
    if ((kind !== "audio" && kind !== "video") || mediaPort(section) === 0) continue;
    const codecs = offeredCodecs(section);
    if (codecs.some((c) => supported[kind].has(c))) continue;
    setPort(section, 0);
    rejected.push(attribute(section, "mid") ?? "");
  }
  if (rejected.length === 0) return { sdp, rejected };
  split.session = split.session.map((line) => {
    if (!line.startsWith("a=group:BUNDLE")) return line;
    const mids = line.split(" ").slice(1).filter((m) => !rejected.includes(m));
    return ["a=group:BUNDLE", ...mids].join(" ");
  });
  return { sdp: joinSdp(split), rejected };
}

/** Adds `b=AS:<kbps>` (and drops other `b=` lines) in every video m-section that is not rejected. */
export function applyBitrateCap(sdp: string, bitsPerSecond: number): string {
  const kbps = Math.max(1, Math.round(bitsPerSecond / 1000));
  const split = splitSdp(sdp);
  for (const [i, section] of split.media.entries()) {
    if (mediaKind(section) !== "video" || mediaPort(section) === 0) continue;
    const kept = section.filter((l) => !l.startsWith("b="));
    const at = kept.findIndex((l) => l.startsWith("c="));
    kept.splice(at >= 0 ? at + 1 : 1, 0, `b=AS:${kbps}`);
    split.media[i] = kept;
  }
  return joinSdp(split);
}

/**
 * Replaces each section's candidates by the filtered ones and ends each live section with
 * `a=end-of-candidates`. When the default candidate (m-line port and `c=`) was dropped or
 * rewritten, the m-line and `c=` follow the first kept UDP candidate, or go to `9 0.0.0.0`.
 *
 * @returns the SDP and the candidate lines it now announces (without `a=`)
 */
export function finalizeCandidates(
  sdp: string,
  filter: CandidateFilter,
): { sdp: string; candidates: string[] } {
  const split = splitSdp(sdp);
  const announced: string[] = [];
  for (const [i, section] of split.media.entries()) {
    const port = mediaPort(section);
    const kept: string[] = [];
    const rest: string[] = [];
    for (const line of section) {
      if (line === "a=end-of-candidates") continue;
      if (!line.startsWith("a=candidate:")) {
        rest.push(line);
        continue;
      }
      const value = filter(line.slice(2));
      if (value !== undefined) kept.push(value);
    }
    announced.push(...kept);
    if (port === 0) {
      split.media[i] = rest;
      continue;
    }
    if (port !== 9) retargetDefault(rest, kept);
    split.media[i] = [...rest, ...kept.map((c) => `a=${c}`), "a=end-of-candidates"];
  }
  return { sdp: joinSdp(split), candidates: announced };
}

function retargetDefault(section: string[], kept: readonly string[]): void {
  const udp = kept.map((c) => parseCandidate(c)).find((c) =>
    c?.protocol === "udp" && c.component === "1"
  );
  const port = udp?.port ?? 9;
  const address = udp?.address ?? "0.0.0.0";
  setPort(section, port);
  const family = address.includes(":") ? "IP6" : "IP4";
  const at = section.findIndex((l) => l.startsWith("c="));
  if (at >= 0) section[at] = `c=IN ${family} ${address}`;
}

/** Codec names (lower case) of the rtpmap lines of every section of `kind`. */
export function codecNames(sdp: string, kind: "audio" | "video"): Set<string> {
  const out = new Set<string>();
  for (const section of splitSdp(sdp).media) {
    if (mediaKind(section) !== kind) continue;
    for (const name of offeredCodecs(section)) out.add(name);
  }
  return out;
}

/** Mid -> kind for the audio/video sections of an SDP. */
export function midKinds(sdp: string): Map<string, "audio" | "video"> {
  const out = new Map<string, "audio" | "video">();
  for (const section of splitSdp(sdp).media) {
    const kind = mediaKind(section);
    const mid = attribute(section, "mid");
    if ((kind === "audio" || kind === "video") && mid !== undefined) out.set(mid, kind);
  }
  return out;
}
