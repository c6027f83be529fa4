/**
 * Where a VideoCall recording goes, named as the reference names it: `<filename>-<type>` with
 * the user's `filename` (a path whose folder is made when missing), else
 * `videocall-<user>-<peer>-<µs now>-<type>` (`unknown` for a missing name), plus `.mjr`,
 * relative to the gateway's working folder: the reference's VideoCall has no recordings
 * folder setting. The media worker writes it (`PluginWebRTC.startRecording`).
 *
 * @module
 */
import { basename, resolve } from "node:path";
import { mediaSections } from "../_shared/media_lines.ts";

/** One medium a VideoCall user records. */
export type RecordedKind = "audio" | "video";

/** The absolute path of one medium's recording. */
export function recordingPath(options: {
  base: string | undefined;
  user: string | undefined;
  peer: string | undefined;
  /** When `set` asked, in µs (one value for every file of the request). */
  nowUs: number;
  type: RecordedKind;
}): string {
  const name = options.base !== undefined
    ? `${options.base}-${options.type}`
    : `videocall-${options.user ?? "unknown"}-${
      options.peer ?? "unknown"
    }-${options.nowUs}-${options.type}`;
  return resolve(`${name}.mjr`);
}

/** What admin `handle_info` and the `configured` event show of a recording: its file name. */
export function recordingName(path: string): string {
  return basename(path);
}

/**
 * The first live audio and video m-line of `sdp` (what the user sends us; the reference keeps
 * one recorder per medium), with its codec.
 */
export function recordableLines(sdp: string): { kind: RecordedKind; mid: string; codec: string }[] {
  const out: { kind: RecordedKind; mid: string; codec: string }[] = [];
  for (const kind of ["audio", "video"] as const) {
    const s = mediaSections(sdp).find((m) => m.kind === kind && m.port !== 0 && m.codec);
    if (s?.codec) out.push({ kind, mid: s.mid, codec: s.codec });
  }
  return out;
}
