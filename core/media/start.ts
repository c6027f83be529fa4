/**
 * Starts the configured media engine, or none when `media.workers` is 0.
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { MediaEngine } from "./types.ts";

/** The media engine for `config`, or undefined when media is off. */
export async function startMediaEngine(config: Config): Promise<MediaEngine | undefined> {
  if (config.media.workers === 0) return undefined;
  const { createMediaEngine } = await import("./engine.ts");
  const { media, general } = config;
  return await createMediaEngine({
    workers: media.workers,
    maxPeersPerWorker: media.max_peers_per_worker,
    maxWorkerRssBytes: media.max_worker_rss_mb * 1024 * 1024,
    iceEnforceList: media.ice_enforce_list,
    iceIgnoreList: media.ice_ignore_list,
    ...(media.nat_1_1_mapping ? { nat1to1: media.nat_1_1_mapping } : {}),
    ...(media.rtp_port_range ? { rtpPortRange: media.rtp_port_range } : {}),
    slowLinkThreshold: general.slowlink_threshold,
    noMediaMs: general.no_media_timer * 1000,
    callTimeoutMs: media.call_timeout_ms,
    iceTcp: media.ice_tcp,
  });
}
