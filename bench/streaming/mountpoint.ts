/**
 * The Streaming bench's mountpoint: created through the Janus API on a server (an `rtp`
 * mountpoint, video VP8 PT 100 on mid `v` and audio Opus PT 111 on mid `a`, on chosen free
 * UDP ports), destroyed afterwards; the same request on ours and on the reference.
 *
 * @module
 */
import { createSocket } from "node:dgram";
import { type Opened, openHandle } from "../media/call.ts";
import type { MediaServer } from "../media/server.ts";
import { pluginData } from "../media/signal.ts";
import type { FeedTarget } from "./feed.ts";

export const STREAMING = "janus.plugin.streaming";

/** A free UDP port on loopback (bound, then released). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => resolve());
  });
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Ends the session and closes the socket (no peer here). */
async function closeSignal(opened: Opened): Promise<void> {
  if (opened.sig && opened.session !== undefined) await opened.sig.destroySession(opened.session);
  await opened.sig?.close();
}

/** A mountpoint that exists on a server until `destroy`. */
export interface BenchMountpoint extends FeedTarget {
  id: number;
  destroy(): Promise<void>;
}

/**
 * Creates mountpoint `id` on `server`, listening on two free UDP ports.
 *
 * @throws {Error} when the server refuses it
 */
export async function createMountpoint(
  server: MediaServer,
  id: number,
  timeoutMs: number,
): Promise<BenchMountpoint> {
  const videoPort = await freeUdpPort();
  let audioPort = await freeUdpPort();
  while (audioPort === videoPort) audioPort = await freeUdpPort();
  const opened: Opened = {};
  try {
    const { sig, session, handle } = await openHandle(server, STREAMING, timeoutMs, opened);
    const created = pluginData(
      (await sig.message(session, handle, {
        request: "create",
        type: "rtp",
        id,
        description: "bench 640x480 VP8 + Opus",
        media: [
          { type: "video", mid: "v", port: videoPort, pt: 100, codec: "vp8" },
          { type: "audio", mid: "a", port: audioPort, pt: 111, codec: "opus" },
        ],
      })).msg,
    );
    if (created.streaming !== "created") {
      throw new Error(`create on ${server.name}: ${JSON.stringify(created).slice(0, 300)}`);
    }
  } finally {
    await closeSignal(opened);
  }
  return {
    id,
    videoPort,
    audioPort,
    destroy: async () => {
      const o: Opened = {};
      try {
        const { sig, session, handle } = await openHandle(server, STREAMING, timeoutMs, o);
        await sig.message(session, handle, { request: "destroy", id });
      } finally {
        await closeSignal(o);
      }
    },
  };
}
