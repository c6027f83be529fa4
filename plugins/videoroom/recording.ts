/**
 * Where a VideoRoom recording goes, named as the reference names it: `<base>-<type>-<mindex>`
 * with the publisher's `filename`, else `videoroom-<room>-user-<id>-<µs now>-<type>-<mindex>`,
 * plus `.mjr`, in the room's `rec_dir` (made when missing; without one, relative to the
 * gateway's working folder). The media worker writes it (`PluginWebRTC.startRecording`).
 *
 * @module
 */
import { join, resolve } from "node:path";

/** The absolute path of one stream's recording. */
export function recordingPath(options: {
  recDir: string | undefined;
  base: string | undefined;
  room: number;
  user: number;
  type: "audio" | "video" | "data";
  mindex: number;
}): string {
  const name = options.base !== undefined
    ? `${options.base}-${options.type}-${options.mindex}`
    : `videoroom-${options.room}-user-${options.user}-${
      Date.now() * 1000
    }-${options.type}-${options.mindex}`;
  const file = `${name}.mjr`;
  return resolve(options.recDir !== undefined ? join(options.recDir, file) : file);
}
