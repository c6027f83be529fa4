/**
 * A forwarder's host resolved as the reference plugins resolve it (getaddrinfo, the first
 * address), for VideoRoom's and AudioBridge's `rtp_forward`.
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

/** The address of `host` in `family` (0: any), or undefined when it does not resolve. */
export async function resolveHost(host: string, family: 0 | 4 | 6): Promise<string | undefined> {
  if (isIP(host) !== 0 && (family === 0 || isIP(host) === family)) return host;
  try {
    const all = await lookup(host, { family, all: true });
    // getaddrinfo's order as the reference met it: "localhost" is 127.0.0.1.
    return (all.find((a) => a.family === 4) ?? all[0])?.address;
  } catch {
    return undefined;
  }
}
