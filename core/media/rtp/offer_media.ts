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
  /** Payload type of the chosen codec, 0 when the section offers none we take. */
  payloadType: number;
  clockRate: number;
  /** RTX payload type tied to `payloadType` (apt=), 0 when none is offered. */
  rtxPayloadType: number;
  /** The publisher's media SSRC, 0 when the offer lists none. */
  ssrc: number;
  /** The publisher's RTX SSRC, 0 when none. */
  rtxSsrc: number;
  /** Header extensions it offers (`a=extmap`): id -> URI. */
  extensions: Map<number, string>;
}

/** Reads every audio/video section; `codecs` names the codec to take per kind. */
export function readOfferMedia(
  sdp: string,
  codecs: { audio: string; video: string } = { audio: "opus", video: "VP8" },
): OfferMedia[] {
  const sections = sdp.split(/\r?\nm=/).slice(1).map((s) => ("m=" + s).split(/\r?\n/));
  const out: OfferMedia[] = [];
  for (const lines of sections) {
    const kind = /^m=(audio|video) /.exec(lines[0] ?? "")?.[1];
    if (kind !== "audio" && kind !== "video") continue;
    const attr = (name: string) =>
      lines.filter((l) => l.startsWith(`a=${name}:`)).map((l) => l.slice(name.length + 3));
    const want = codecs[kind].toLowerCase();
    let payloadType = 0;
    let clockRate = 0;
    for (const map of attr("rtpmap")) {
      const m = /^(\d+) ([^/]+)\/(\d+)/.exec(map);
      if (m && m[2]!.toLowerCase() === want) {
        payloadType = Number(m[1]);
        clockRate = Number(m[3]);
        break;
      }
    }
    let rtxPayloadType = 0;
    for (const fmtp of attr("fmtp")) {
      const m = /^(\d+) apt=(\d+)$/.exec(fmtp.trim());
      if (m && payloadType > 0 && Number(m[2]) === payloadType) rtxPayloadType = Number(m[1]);
    }
    const fid = attr("ssrc-group").map((g) => /^FID (\d+) (\d+)/.exec(g)).find((m) => m);
    const first = attr("ssrc").map((s) => /^(\d+) /.exec(s)).find((m) => m);
    out.push({
      kind,
      mid: attr("mid")[0]?.trim() ?? "",
      payloadType,
      clockRate,
      rtxPayloadType,
      ssrc: Number(fid?.[1] ?? first?.[1] ?? 0),
      rtxSsrc: Number(fid?.[2] ?? 0),
      extensions: extmapIds(lines.join("\n")),
    });
  }
  return out;
}
