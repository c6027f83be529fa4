/**
 * What the RTP engine needs from an offer's audio/video sections to answer and forward them:
 * mid, the codec's payload type and clock rate, its RTX payload type, and the publisher's
 * SSRCs (media and RTX from `a=ssrc-group:FID`) and header extension ids (`a=extmap`).
 * libdatachannel demultiplexes by SSRC only, so these must be known before any packet arrives.
 *
 * @module
 */
import { extmapIds } from "./header_ext.ts";

export interface OfferMedia {
  kind: "audio" | "video";
  mid: string;
  /** The chosen codec's name, lower case ("opus", "pcmu", "vp8"...), "" when none. */
  codec: string;
  /** Payload type of the chosen codec (0 is PCMU's: `codec` "" says none was taken). */
  payloadType: number;
  clockRate: number;
  /** Channels the rtpmap names (multiopus' 6), 0 when it names none. */
  channels: number;
  /** The chosen payload type's `a=fmtp` parameters, "" when none. */
  fmtp: string;
  /** RTX payload type tied to `payloadType` (apt=), 0 when none is offered. */
  rtxPayloadType: number;
  /** The publisher's media SSRC, 0 when the offer lists none. */
  ssrc: number;
  /** The publisher's RTX SSRC, 0 when none. */
  rtxSsrc: number;
  /** Header extensions it offers (`a=extmap`): id -> URI. */
  extensions: Map<number, string>;
}

/** Codec names (any case) taken per kind: one name, or a set (the first offered is taken). */
export type CodecChoice = {
  audio: string | ReadonlySet<string>;
  video: string | ReadonlySet<string>;
};

/** Reads every audio/video section; `codecs` names the codec(s) to take per kind. */
export function readOfferMedia(
  sdp: string,
  codecs: CodecChoice = { audio: "opus", video: "VP8" },
): OfferMedia[] {
  const sections = sdp.split(/\r?\nm=/).slice(1).map((s) => ("m=" + s).split(/\r?\n/));
  const out: OfferMedia[] = [];
  for (const lines of sections) {
    const kind = /^m=(audio|video) /.exec(lines[0] ?? "")?.[1];
    if (kind !== "audio" && kind !== "video") continue;
    const attr = (name: string) =>
      lines.filter((l) => l.startsWith(`a=${name}:`)).map((l) => l.slice(name.length + 3));
    const choice = codecs[kind];
    const wanted = typeof choice === "string" ? new Set([choice]) : choice;
    const want = new Set([...wanted].map((c) => c.toLowerCase()));
    let codec = "";
    let payloadType = 0;
    let clockRate = 0;
    let channels = 0;
    for (const map of attr("rtpmap")) {
      const m = /^(\d+) ([^/]+)\/(\d+)(?:\/(\d+))?/.exec(map);
      if (m && want.has(m[2]!.toLowerCase())) {
        codec = m[2]!.toLowerCase();
        payloadType = Number(m[1]);
        clockRate = Number(m[3]);
        channels = Number(m[4] ?? 0);
        break;
      }
    }
    // G.711's static payload types may come without an rtpmap.
    if (codec === "") {
      const formats = (lines[0] ?? "").split(" ").slice(3);
      const fixed = [["0", "pcmu"], ["8", "pcma"]].find(([pt, name]) =>
        formats.includes(pt!) && want.has(name!)
      );
      if (fixed) {
        codec = fixed[1]!;
        clockRate = 8000;
      }
    }
    let rtxPayloadType = 0;
    let fmtp = "";
    for (const line of attr("fmtp")) {
      const m = /^(\d+) (.*)$/.exec(line.trim());
      if (!m || codec === "") continue;
      // The chosen codec's parameters, and the RTX payload tied to it (apt=).
      if (Number(m[1]) === payloadType) fmtp = m[2]!;
      const apt = /^apt=(\d+)$/.exec(m[2]!);
      if (apt && payloadType > 0 && Number(apt[1]) === payloadType) rtxPayloadType = Number(m[1]);
    }
    const fid = attr("ssrc-group").map((g) => /^FID (\d+) (\d+)/.exec(g)).find((m) => m);
    const first = attr("ssrc").map((s) => /^(\d+) /.exec(s)).find((m) => m);
    out.push({
      kind,
      mid: attr("mid")[0]?.trim() ?? "",
      codec,
      payloadType,
      clockRate,
      channels,
      fmtp,
      rtxPayloadType,
      ssrc: Number(fid?.[1] ?? first?.[1] ?? 0),
      rtxSsrc: Number(fid?.[2] ?? 0),
      extensions: extmapIds(lines.join("\n")),
    });
  }
  return out;
}
