/**
 * Starts the configured media engines, or none when `media.workers` is 0: wrtc always (the
 * engine of plugins without an entry), the RTP engine at start-up too when some plugin is given
 * it (`media.engines` over `DEFAULT_MEDIA_ENGINES`: EchoTest is on rtp unless told otherwise).
 * Beside rtp, wrtc's workers start lazily, on the first peer a plugin asks of it, and stop
 * after a minute without peers: an unused worker costs memory (60 MiB, `deno task soak`).
 *
 * @module
 */
import { type Config, DEFAULT_MEDIA_ENGINES } from "../config.ts";
import type { EngineName } from "./engine_router.ts";
import type { MediaEngine } from "./types.ts";

/** The media engine for `config`, or undefined when media is off. */
export async function startMediaEngine(config: Config): Promise<MediaEngine | undefined> {
  if (config.media.workers === 0) return undefined;
  const { createMediaEngine, RTP_WORKER_MAIN_URL, WORKER_MAIN_URL } = await import("./engine.ts");
  const { media, general } = config;
  const start = (name: EngineName, lazy = false) =>
    createMediaEngine({
      lazy,
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
      workerMain: name === "rtp" ? RTP_WORKER_MAIN_URL : WORKER_MAIN_URL,
      pinCpus: name === "rtp" && media.pin_rtp_workers,
    });
  const byPlugin = new Map(Object.entries({ ...DEFAULT_MEDIA_ENGINES, ...media.engines }));
  if (![...byPlugin.values()].includes("rtp")) return await start("wrtc");
  const { EngineRouter } = await import("./engine_router.ts");
  const [wrtc, rtp] = await Promise.allSettled([start("wrtc", true), start("rtp")]);
  if (wrtc.status === "rejected" || rtp.status === "rejected") {
    if (wrtc.status === "fulfilled") await wrtc.value.close();
    if (rtp.status === "fulfilled") await rtp.value.close();
    throw wrtc.status === "rejected" ? wrtc.reason : (rtp as PromiseRejectedResult).reason;
  }
  return new EngineRouter({
    engines: new Map<EngineName, MediaEngine>([["wrtc", wrtc.value], ["rtp", rtp.value]]),
    byPlugin,
    fallback: "wrtc",
  });
}
