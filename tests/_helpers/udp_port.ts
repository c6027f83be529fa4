/**
 * Free loopback UDP ports for tests that hand a port to a receiver they start (ffmpeg).
 *
 * @module
 */
import dgram from "node:dgram";
import type { AddressInfo } from "node:net";

/** A UDP port on 127.0.0.1 free right now. */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, "127.0.0.1", () => resolve()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/**
 * An even UDP port on 127.0.0.1 free right now (RTP's convention: ffmpeg binds it and the
 * next one for RTCP).
 */
export async function freeEvenUdpPort(): Promise<number> {
  for (;;) {
    const port = await freeUdpPort();
    if (port % 2 === 0 && port < 65000) return port;
  }
}
