/**
 * The media engines' SDP work (both use it; plugins never edit SDP): reject m-lines an engine
 * cannot use, narrow offers to one codec per m-line, cap bitrate with `b=AS`, replace the
 * gathered candidates of a local description by the filtered ones followed by
 * `a=end-of-candidates`, rename the mids of new m-lines of our own offers, shape what we send
 * like the reference (`o=`, `msid-semantic`, data direction) and as the plugin asked
 * (direction, one codec or `inactive` per m-line). Pure string work, unit-tested without wrtc.
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

/** Whether `sdp` has a live (not rejected) m=application line: data channels can open. */
export function hasDataLine(sdp: string): boolean {
  return splitSdp(sdp).media.some((s) => mediaKind(s) === "application" && mediaPort(s) !== 0);
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
  split.session = unbundle(split.session, rejected);
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

/** The mid of each m-section, in order (undefined for a section without `a=mid`). */
export function sectionMids(sdp: string): (string | undefined)[] {
  return splitSdp(sdp).media.map((section) => attribute(section, "mid"));
}

/**
 * Gives the m-sections at the listed indexes a new mid (their `a=mid` line and their entry in
 * the BUNDLE group). wrtc takes such an offer of its own in `setLocalDescription` for m-lines
 * that have no mid yet: it maps them to their transceivers by index and adopts the new mid.
 */
export function renameMids(sdp: string, renames: ReadonlyMap<number, string>): string {
  if (renames.size === 0) return sdp;
  const split = splitSdp(sdp);
  const byOld = new Map<string, string>();
  for (const [index, mid] of renames) {
    const section = split.media[index];
    if (!section) continue;
    const at = section.findIndex((l) => l.startsWith("a=mid:"));
    if (at < 0) continue;
    byOld.set(section[at]?.slice(6) ?? "", mid);
    section[at] = `a=mid:${mid}`;
  }
  split.session = split.session.map((line) => {
    if (!line.startsWith("a=group:BUNDLE")) return line;
    const [head, ...mids] = line.split(" ");
    return [head, ...mids.map((m) => byOld.get(m) ?? m)].join(" ");
  });
  return joinSdp(split);
}

/** Drops `mids` from the BUNDLE group of a session part. */
function unbundle(session: string[], mids: readonly string[]): string[] {
  return session.map((line) => {
    if (!line.startsWith("a=group:BUNDLE")) return line;
    const kept = line.split(" ").slice(1).filter((m) => !mids.includes(m));
    return ["a=group:BUNDLE", ...kept].join(" ");
  });
}

/** Payload type -> lower-case codec name of a section (static payloads included). */
function payloadNames(section: readonly string[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const pt of (section[0] ?? "").split(" ").slice(3)) {
    const name = STATIC_PAYLOADS[pt];
    if (name) names.set(pt, name);
  }
  for (const line of section) {
    const m = /^a=rtpmap:(\d+) ([^/]+)/.exec(line);
    if (m?.[1] && m[2]) names.set(m[1], m[2].toLowerCase());
  }
  return names;
}

/** Preferred codecs per kind, in order (lower or upper case). */
export interface CodecPreferences {
  audio?: readonly string[];
  video?: readonly string[];
}

/** The first payload of a section whose codec is `codec` (lower case), and its rtx payloads. */
function payloadsOf(section: readonly string[], codec: string): Set<string> | undefined {
  const names = payloadNames(section);
  const pt = (section[0] ?? "").split(" ").slice(3).find((p) => names.get(p) === codec);
  if (pt === undefined) return undefined;
  const keep = new Set([pt]);
  for (const line of section) {
    const rtx = /^a=fmtp:(\d+) apt=(\d+)\s*$/.exec(line);
    if (rtx?.[1] && rtx[2] === pt && names.get(rtx[1]) === "rtx") keep.add(rtx[1]);
  }
  return keep;
}

/** The section with only the payloads in `keep` (m-line, rtpmap, fmtp and rtcp-fb lines). */
function keepPayloads(section: readonly string[], keep: ReadonlySet<string>): string[] {
  const [head = "", ...rest] = section;
  const prefix = head.split(" ").slice(0, 3).join(" ");
  const payloads = head.split(" ").slice(3);
  return [
    [prefix, ...payloads.filter((p) => keep.has(p))].join(" "),
    ...rest.filter((line) => {
      const p = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)/.exec(line)?.[1];
      return p === undefined || keep.has(p);
    }),
  ];
}

/**
 * Narrows each live audio/video m-line of an offer to one codec, as the reference answers:
 * with a list for that kind, the first listed codec that the m-line offers and `supported`
 * has (none: the m-line is rejected with port 0; an empty list rejects every m-line of the
 * kind); without one, the first offered codec in `supported`. The rtx repairing it is kept,
 * every other payload (red, fec, cn, telephone-event, other codecs) goes.
 *
 * @returns the rewritten offer and the codec kept per mindex (undefined: untouched or rejected)
 */
export function keepSingleCodec(
  sdp: string,
  supported: { audio: ReadonlySet<string>; video: ReadonlySet<string> },
  preferred: CodecPreferences = {},
): { sdp: string; codecs: (string | undefined)[] } {
  const split = splitSdp(sdp);
  const codecs: (string | undefined)[] = [];
  const rejected: string[] = [];
  split.media = split.media.map((section) => {
    const kind = mediaKind(section);
    if ((kind !== "audio" && kind !== "video") || mediaPort(section) === 0) {
      codecs.push(undefined);
      return section;
    }
    const offered = offeredCodecs(section).filter((c) => supported[kind].has(c));
    const list = preferred[kind]?.map((c) => c.toLowerCase());
    const codec = list ? list.find((c) => offered.includes(c)) : offered[0];
    const keep = codec === undefined ? undefined : payloadsOf(section, codec);
    if (codec === undefined || keep === undefined) {
      codecs.push(undefined);
      rejected.push(attribute(section, "mid") ?? "");
      const out = [...section];
      setPort(out, 0);
      return out;
    }
    codecs.push(codec);
    return keepPayloads(section, keep);
  });
  if (rejected.length > 0) split.session = unbundle(split.session, rejected);
  return { sdp: joinSdp(split), codecs };
}

/**
 * Sets `params` (name -> value) in the `a=fmtp` line of every Opus payload of the live audio
 * m-lines, replacing a value already there; an Opus payload without one gets one after its
 * rtpmap. `maxplaybackrate` in our answer bounds the band the remote's encoder sends.
 */
export function setOpusParams(
  sdp: string,
  params: Readonly<Record<string, string | number>>,
): string {
  const names = Object.keys(params);
  if (names.length === 0) return sdp;
  // Parameter names are case-insensitive (RFC 7587).
  const replaced = new Set(names.map((n) => n.toLowerCase()));
  const split = splitSdp(sdp);
  split.media = split.media.map((section) => {
    if (mediaKind(section) !== "audio" || mediaPort(section) === 0) return section;
    const opus = [...payloadNames(section)].filter(([, n]) => n === "opus").map(([pt]) => pt);
    let out = [...section];
    for (const pt of opus) {
      const at = out.findIndex((l) => l.startsWith(`a=fmtp:${pt} `));
      const kept = at < 0 ? [] : out[at]!.slice(`a=fmtp:${pt} `.length).split(";")
        .map((p) => p.trim())
        .filter((p) => p !== "" && !replaced.has(p.split("=")[0]!.toLowerCase()));
      const line = `a=fmtp:${pt} ${[...kept, ...names.map((n) => `${n}=${params[n]}`)].join(";")}`;
      if (at >= 0) out[at] = line;
      else {
        const rtpmap = out.findIndex((l) => l.startsWith(`a=rtpmap:${pt} `));
        out = [...out.slice(0, rtpmap + 1), line, ...out.slice(rtpmap + 1)];
      }
    }
    return out;
  });
  return joinSdp(split);
}

/** The direction of an m-line as an offer or answer writes it. */
export type MediaDirection = "sendrecv" | "sendonly" | "recvonly" | "inactive";

const SENDS = new Set<string>(["sendrecv", "sendonly"]);
const RECEIVES = new Set<string>(["sendrecv", "recvonly"]);

function directionOf(sends: boolean, receives: boolean): MediaDirection {
  if (sends) return receives ? "sendrecv" : "sendonly";
  return receives ? "recvonly" : "inactive";
}

/** What a plugin asked of the SDP an engine hands out (see `shapeLocalSdp`). */
export interface LocalSdpEdits {
  direction?: MediaDirection;
  /** Mid -> codec name. */
  codecs?: Readonly<Record<string, string>>;
  /** Mids. */
  inactive?: readonly string[];
  /** Set in every Opus fmtp (see `setOpusParams`). */
  opusParams?: Readonly<Record<string, string | number>>;
}

/** The edits of an answer a plugin asked for: its direction, the Opus `maxplaybackrate`. */
export function answerEdits(
  options: { direction?: MediaDirection; opusMaxPlaybackRate?: number },
): LocalSdpEdits {
  const { direction, opusMaxPlaybackRate: rate } = options;
  return {
    ...(direction ? { direction } : {}),
    ...(rate ? { opusParams: { maxplaybackrate: rate } } : {}),
  };
}

/**
 * What we hand out of our own SDP, shaped as the plugin asked (`AnswerOptions.direction`,
 * `OfferOptions.codecs` and `inactive`), in the copy that leaves the engine:
 * - `direction`: each live audio/video m-line sends and receives at most what it allows;
 * - `codecs` (mid -> codec): that m-line offers only the codec (and its rtx) when it has it;
 * - `inactive` (mids): those m-lines are `inactive` and lose their `a=msid`;
 * - `opusParams`: set in every Opus fmtp (`AnswerOptions.opusMaxPlaybackRate`).
 */
export function shapeLocalSdp(sdp: string, edits: LocalSdpEdits): string {
  const { direction, codecs, inactive, opusParams } = edits;
  if (opusParams !== undefined) sdp = setOpusParams(sdp, opusParams);
  if (direction === undefined && codecs === undefined && !inactive?.length) return sdp;
  const split = splitSdp(sdp);
  split.media = split.media.map((section) => {
    const kind = mediaKind(section);
    if ((kind !== "audio" && kind !== "video") || mediaPort(section) === 0) return section;
    const mid = attribute(section, "mid");
    let out = [...section];
    const codec = mid === undefined ? undefined : codecs?.[mid]?.toLowerCase();
    const keep = codec === undefined ? undefined : payloadsOf(out, codec);
    if (keep) out = keepPayloads(out, keep);
    if (mid !== undefined && inactive?.includes(mid)) {
      out = out.filter((l) => !l.startsWith("a=msid:")).map((l) =>
        /^a=(sendrecv|sendonly|recvonly)$/.test(l) ? "a=inactive" : l
      );
    } else if (direction !== undefined) {
      out = out.map((l) => {
        const now = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(l)?.[1];
        if (now === undefined) return l;
        const sends = SENDS.has(now) && SENDS.has(direction);
        return `a=${directionOf(sends, RECEIVES.has(now) && RECEIVES.has(direction))}`;
      });
    }
    return out;
  });
  return joinSdp(split);
}

/** The session id and version of an SDP's `o=` line. */
export interface SdpOrigin {
  sessionId: string;
  version: number;
}

/** Reads the `o=` line; undefined when there is none. */
export function sessionOrigin(sdp: string): SdpOrigin | undefined {
  const m = /^o=\S+ (\d+) (\d+) /m.exec(sdp);
  return m?.[1] && m[2] ? { sessionId: m[1], version: Number(m[2]) } : undefined;
}

/** The same SDP with its `o=` session version one higher (for a renegotiation). */
export function bumpSessionVersion(sdp: string): string {
  return sdp.replace(
    /^(o=\S+ \d+ )(\d+)/m,
    (_, head: string, v: string) => `${head}${BigInt(v) + 1n}`,
  );
}

/**
 * Shapes an SDP we send as the reference does: `a=msid-semantic: WMS *`, `a=sendrecv` on a
 * live `m=application` section without a direction, a rejected audio/video m-line reduced to
 * `m=<kind> 0 <proto> 0`, its `c=`, `a=inactive` and `a=mid` (wrtc repeats every offered codec
 * there), no empty BUNDLE group, and (answers) the given `o=` session id and version. Only the
 * copy sent to the client changes: wrtc keeps its local description.
 */
export function conformSdp(sdp: string, options: { origin?: SdpOrigin } = {}): string {
  const split = splitSdp(sdp);
  const { origin } = options;
  split.session = split.session.map((line) => {
    if (line.startsWith("a=msid-semantic:")) return "a=msid-semantic: WMS *";
    if (origin && line.startsWith("o=")) {
      const parts = line.split(" ");
      parts[1] = origin.sessionId;
      parts[2] = String(origin.version);
      return parts.join(" ");
    }
    return line;
  });
  if (!split.session.some((l) => l.startsWith("a=msid-semantic:"))) {
    split.session.push("a=msid-semantic: WMS *");
  }
  split.session = split.session.filter((l) => l.trim() !== "a=group:BUNDLE");
  split.media = split.media.map(tidyRejected);
  for (const section of split.media) {
    if (mediaKind(section) !== "application" || mediaPort(section) === 0) continue;
    if (section.some((l) => /^a=(sendrecv|sendonly|recvonly|inactive)$/.test(l))) continue;
    const at = section.findIndex((l) => l.startsWith("c="));
    section.splice(at >= 0 ? at + 1 : 1, 0, "a=sendrecv");
  }
  return joinSdp(split);
}

/** A rejected audio/video m-section as the reference writes it; any other one unchanged. */
function tidyRejected(section: string[]): string[] {
  const kind = mediaKind(section);
  if ((kind !== "audio" && kind !== "video") || mediaPort(section) !== 0) return section;
  const proto = (section[0] ?? "").split(" ")[2] ?? "UDP/TLS/RTP/SAVPF";
  const mid = attribute(section, "mid");
  return [
    `m=${kind} 0 ${proto} 0`,
    // No address: libdatachannel writes its candidate's there, the reference none.
    ...(section.some((l) => l.startsWith("c=")) ? ["c=IN IP4 0.0.0.0"] : []),
    "a=inactive",
    ...(mid !== undefined ? [`a=mid:${mid}`] : []),
  ];
}

/**
 * Whether a remote candidate belongs to a bundled m-line other than the first of its BUNDLE
 * group: the reference acks and ignores those (one transport carries the whole group).
 */
export function bundledAway(
  sdp: string,
  candidate: { sdpMid?: string | null; sdpMLineIndex?: number | null },
): boolean {
  const group = /^a=group:BUNDLE (.*)$/m.exec(sdp)?.[1]?.trim().split(/\s+/) ?? [];
  if (group.length < 2) return false;
  const mid = candidate.sdpMid ?? sectionMids(sdp)[candidate.sdpMLineIndex ?? 0];
  return mid !== undefined && group.includes(mid) && mid !== group[0];
}
