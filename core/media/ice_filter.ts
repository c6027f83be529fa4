/**
 * Filtering and rewriting of our own ICE candidates. libwebrtc gathers on every interface
 * and has no option to restrict that, so the gateway drops candidates against Janus-style
 * `ice_enforce_list` / `ice_ignore_list` entries, checks the RTP port range and rewrites
 * addresses for a 1:1 NAT before a candidate reaches an SDP or a trickle.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { WorkerConfig } from "./protocol.ts";

/** The fields of a candidate line we look at. */
export interface ParsedCandidate {
  foundation: string;
  component: string;
  protocol: string;
  priority: string;
  address: string;
  port: number;
  type: string;
}

/** Parses `candidate:...` (with or without `a=`); undefined when it is not one. */
export function parseCandidate(line: string): ParsedCandidate | undefined {
  const text = line.startsWith("a=") ? line.slice(2) : line;
  const m = /^candidate:(\S+) (\d+) (\S+) (\d+) (\S+) (\d+) typ (\S+)/.exec(text);
  if (!m) return undefined;
  const [, foundation = "", component = "", protocol = "", priority = "", address = ""] = m;
  return {
    foundation,
    component,
    protocol: protocol.toLowerCase(),
    priority,
    address,
    port: Number(m[6]),
    type: m[7] ?? "",
  };
}

/** Options of {@link createCandidateFilter}. */
export interface CandidateFilterOptions {
  /** Only candidates matching one entry are kept (address prefix or interface name). */
  enforce?: readonly string[];
  /** Candidates matching one entry are dropped (address prefix or interface name). */
  ignore?: readonly string[];
  /** Keep TCP candidates (Janus `ice_tcp`); default false: only UDP ones are offered. */
  tcp?: boolean;
  /** Public address to write instead of our host addresses (same IP family only). */
  nat1to1?: string;
  /** Host candidates outside this UDP/TCP port range are dropped (see below). */
  portRange?: { min: number; max: number };
  /** Interface name -> its addresses, to resolve entries that are interface names. */
  interfaces?: ReadonlyMap<string, readonly string[]>;
  /** Told about every candidate that is dropped, with why. */
  onDrop?: (candidate: string, why: string) => void;
}

/** Maps a candidate value to what we may announce, or undefined to drop it. */
export type CandidateFilter = (candidate: string) => string | undefined;

function isIpv6(address: string): boolean {
  return address.includes(":");
}

function matches(
  entry: string,
  address: string,
  interfaces: ReadonlyMap<string, readonly string[]> | undefined,
): boolean {
  const e = entry.trim();
  if (e === "") return false;
  if (interfaces?.get(e)?.includes(address)) return true;
  return address.startsWith(e);
}

/**
 * Builds the filter for one engine's settings.
 *
 * The worker binds ICE inside the port range through wrtc's non-standard `portRange`; this
 * filter still drops (and logs through `onDrop`) any candidate outside it, as a guard.
 */
export function createCandidateFilter(options: CandidateFilterOptions): CandidateFilter {
  const enforce = (options.enforce ?? []).filter((e) => e.trim() !== "");
  const ignore = (options.ignore ?? []).filter((e) => e.trim() !== "");
  const { nat1to1, portRange, interfaces } = options;
  const drop = (candidate: string, why: string): undefined => {
    options.onDrop?.(candidate, why);
    return undefined;
  };
  return (candidate: string): string | undefined => {
    const c = parseCandidate(candidate);
    if (!c) return drop(candidate, "unparsable candidate");
    if (c.address.endsWith(".local")) return drop(candidate, "mDNS candidate");
    if (c.protocol === "tcp" && options.tcp !== true) return drop(candidate, "TCP (ice_tcp off)");
    if (enforce.length > 0 && !enforce.some((e) => matches(e, c.address, interfaces))) {
      return drop(candidate, "not in the enforce list");
    }
    if (ignore.some((e) => matches(e, c.address, interfaces))) {
      return drop(candidate, "in the ignore list");
    }
    // Port 9 is the discard port of active TCP candidates: nothing is bound there.
    const bound = !(c.protocol === "tcp" && c.port === 9);
    if (portRange && bound && c.type === "host") {
      if (c.port < portRange.min || c.port > portRange.max) {
        return drop(candidate, `port outside ${portRange.min}-${portRange.max}`);
      }
    }
    if (nat1to1 && c.type === "host" && isIpv6(nat1to1) === isIpv6(c.address)) {
      return rewriteAddress(candidate, c.address, nat1to1);
    }
    return candidate;
  };
}

/** Replaces the connection address (the 5th field) of a candidate line. */
export function rewriteAddress(candidate: string, from: string, to: string): string {
  const parts = candidate.split(" ");
  if (parts[4] === from) parts[4] = to;
  return parts.join(" ");
}

/** Interface name -> addresses, from `Deno.networkInterfaces()`. */
export function localInterfaces(): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const i of Deno.networkInterfaces()) {
    const list = map.get(i.name) ?? [];
    list.push(i.address);
    map.set(i.name, list);
  }
  return map;
}

/**
 * A candidate as the reference lists its own in `handle_info`: no `candidate:` prefix and no
 * extension attributes (`generation`, `ufrag`, `network-id`...), only the address fields,
 * `raddr` / `rport` and `tcptype`.
 */
export function shortCandidate(candidate: string): string {
  const text = candidate.replace(/^a=/, "").replace(/^candidate:/, "");
  const parts = text.split(" ");
  const out = parts.slice(0, 8);
  for (let i = 8; i + 1 < parts.length; i += 2) {
    const key = parts[i];
    if (key === "raddr" || key === "rport" || key === "tcptype") out.push(key, parts[i + 1] ?? "");
  }
  return out.join(" ");
}

/**
 * A worker's filter from its `configure` settings (either engine): a candidate dropped for its
 * port is a misconfiguration worth a warning, the others are routine.
 */
export function workerCandidateFilter(
  config: WorkerConfig,
  interfaces: ReadonlyMap<string, readonly string[]>,
  log: Logger,
): CandidateFilter {
  return createCandidateFilter({
    enforce: config.iceEnforceList,
    ignore: config.iceIgnoreList,
    ...(config.nat1to1 !== undefined ? { nat1to1: config.nat1to1 } : {}),
    ...(config.rtpPortRange !== undefined ? { portRange: config.rtpPortRange } : {}),
    interfaces,
    tcp: config.iceTcp,
    onDrop: (candidate, why) => {
      const line = `dropped candidate (${why}): ${candidate}`;
      if (why.startsWith("port outside")) log.warn(line);
      else log.verbose(line);
    },
  });
}
