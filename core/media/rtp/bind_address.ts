/**
 * The address the RTP engine's ICE agent binds to. libjuice skips loopback addresses when it
 * gathers on every interface, and binds one address when told to: the first local address
 * matching an `ice_enforce_list` entry (address prefix or interface name), else 127.0.0.1
 * on a host whose every address is loopback-range (test namespaces), else none (every
 * interface; the candidate filter still applies).
 *
 * @module
 */

function loopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1";
}

/** Picks the bind address; `interfaces` maps interface names to addresses. */
export function chooseBindAddress(
  enforce: readonly string[],
  interfaces: ReadonlyMap<string, readonly string[]>,
): string | undefined {
  const all = [...interfaces.entries()].flatMap(([name, list]) =>
    list.map((address) => ({ name, address }))
  );
  // IPv4 first: the clients we serve on loopback gather IPv4.
  const ordered = [
    ...all.filter((a) => !a.address.includes(":")),
    ...all.filter((a) => a.address.includes(":")),
  ];
  for (const entry of enforce.map((e) => e.trim()).filter((e) => e !== "")) {
    const hit = ordered.find((a) => a.name === entry || a.address.startsWith(entry));
    if (hit) return hit.address;
  }
  if (all.length > 0 && all.every((a) => loopback(a.address))) return "127.0.0.1";
  return undefined;
}
