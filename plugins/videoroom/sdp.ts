/**
 * The SDP work VideoRoom does around the media engine: read a publisher offer's m-lines,
 * keep only the room's codec on each, answer `recvonly`, and mark unused subscriber
 * m-lines `inactive`. Pure string work.
 *
 * @module
 */

/** One m-section as VideoRoom cares about it. */
export interface MediaSection {
  kind: string;
  mindex: number;
  mid: string;
  port: number;
  /** Payload type -> lower-case codec name. */
  codecs: Map<string, string>;
}

/** Helper payloads that follow another codec (rtx) or stand on their own and are dropped. */
const HELPERS = new Set(["rtx", "red", "ulpfec", "flexfec-03", "cn", "telephone-event"]);
const STATIC: Record<string, string> = { "0": "pcmu", "8": "pcma", "9": "g722" };

function split(sdp: string): { session: string[]; media: string[][] } {
  const out = { session: [] as string[], media: [] as string[][] };
  for (const line of sdp.split(/\r?\n/)) {
    if (line === "") continue;
    if (line.startsWith("m=")) out.media.push([line]);
    else if (out.media.length === 0) out.session.push(line);
    else out.media[out.media.length - 1]?.push(line);
  }
  return out;
}

function join(parts: { session: string[]; media: string[][] }): string {
  return [...parts.session, ...parts.media.flat()].join("\r\n") + "\r\n";
}

function section(lines: readonly string[], mindex: number): MediaSection {
  const m = /^m=(\S+) (\d+) \S+ ?(.*)$/.exec(lines[0] ?? "");
  const codecs = new Map<string, string>();
  const payloads = (m?.[3] ?? "").split(" ").filter((p) => p !== "");
  for (const pt of payloads) if (STATIC[pt]) codecs.set(pt, STATIC[pt]);
  for (const line of lines) {
    const r = /^a=rtpmap:(\d+) ([^/]+)/.exec(line);
    if (r?.[1] && r[2]) codecs.set(r[1], r[2].toLowerCase());
  }
  const mid = lines.find((l) => l.startsWith("a=mid:"))?.slice(6) ?? String(mindex);
  return { kind: m?.[1] ?? "", mindex, mid, port: Number(m?.[2] ?? 0), codecs };
}

/** The m-sections of an SDP. */
export function mediaSections(sdp: string): MediaSection[] {
  return split(sdp).media.map((lines, i) => section(lines, i));
}

/**
 * Keeps, on each audio/video m-line, only the first codec of the room's list that the offer
 * has (plus the rtx that repairs it), as the reference does; an m-line with none is rejected
 * (port 0). With `only`, just the listed m-lines (mindex -> codec) are narrowed (our own
 * subscriber offers: each m-line keeps its feed's codec, the others are left alone).
 *
 * @returns the rewritten offer and the codec picked per mindex (undefined when rejected)
 */
export function pickCodecs(
  sdp: string,
  allowed: { audio: readonly string[]; video: readonly string[] },
  only?: ReadonlyMap<number, string>,
): { sdp: string; codecs: (string | undefined)[] } {
  const parts = split(sdp);
  const codecs: (string | undefined)[] = [];
  parts.media = parts.media.map((lines, i) => {
    const s = section(lines, i);
    const forced = only?.get(i);
    if ((s.kind !== "audio" && s.kind !== "video") || s.port === 0 || (only && !forced)) {
      codecs.push(undefined);
      return lines;
    }
    const offered = [...s.codecs.entries()].filter(([, name]) => !HELPERS.has(name));
    const list = forced ? [forced] : allowed[s.kind];
    const codec = list.find((c) => offered.some(([, name]) => name === c));
    if (forced && !codec) {
      codecs.push(undefined);
      return lines;
    }
    codecs.push(codec);
    if (!codec) return rejectSection(lines);
    const keep = new Set(offered.filter(([, name]) => name === codec).map(([pt]) => pt));
    for (const line of lines) {
      const apt = /^a=fmtp:(\d+) apt=(\d+)/.exec(line);
      if (apt?.[1] && apt[2] && keep.has(apt[2]) && s.codecs.get(apt[1]) === "rtx") {
        keep.add(apt[1]);
      }
    }
    const [head, ...rest] = lines;
    const m = /^(m=\S+ \d+ \S+)/.exec(head ?? "")?.[1] ?? "";
    const order = (head ?? "").split(" ").slice(3).filter((pt) => keep.has(pt));
    const kept = rest.filter((line) => {
      const pt = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)/.exec(line)?.[1];
      return pt === undefined || keep.has(pt);
    });
    return [`${m} ${order.join(" ")}`, ...kept];
  });
  return { sdp: join(parts), codecs };
}

function rejectSection(lines: string[]): string[] {
  const [head, ...rest] = lines;
  return [(head ?? "").replace(/^(m=\S+ )\d+/, "$10"), ...rest];
}

/** Rewrites the direction of every live audio/video m-line of an answer to `recvonly`. */
export function answerRecvonly(sdp: string): string {
  const parts = split(sdp);
  parts.media = parts.media.map((lines, i) => {
    const s = section(lines, i);
    if ((s.kind !== "audio" && s.kind !== "video") || s.port === 0) return lines;
    return lines.map((l) => l === "a=sendrecv" || l === "a=sendonly" ? "a=recvonly" : l);
  });
  return join(parts);
}

/** Marks the given m-lines (by mindex) of an offer `inactive` and drops their `a=msid`. */
export function markInactive(sdp: string, mindexes: ReadonlySet<number>): string {
  if (mindexes.size === 0) return sdp;
  const parts = split(sdp);
  parts.media = parts.media.map((lines, i) => {
    if (!mindexes.has(i)) return lines;
    return lines.filter((l) => !l.startsWith("a=msid:")).map((l) =>
      /^a=(sendrecv|sendonly|recvonly)$/.test(l) ? "a=inactive" : l
    );
  });
  return join(parts);
}
