/**
 * The gateway's metrics: what the core counts as it goes (requests, errors, latency, WebRTC
 * setup time and failures) and what is read from the gateway at scrape time (sessions,
 * handles, PeerConnections by state, event queues, plugin gauges, media workers, process).
 *
 * @module
 */
import { cpuUsage } from "node:process";
import type { Gateway } from "../gateway.ts";
import type { PeerCloseReason } from "../media/types.ts";
import { HANDLE_REQUESTS, type JsonObject, ROOT_REQUESTS, SESSION_REQUESTS } from "../protocol.ts";
import { metricName, Registry } from "./registry.ts";
import { processCpuSeconds, residentBytes } from "./proc.ts";
import { COUNTER_KEYS, type KindCounters } from "../media/media_counters.ts";

/** Longest wait for the media workers' totals at scrape time, in ms (a late one counts next time). */
const MEDIA_TOTALS_DEADLINE_MS = 300;

/** The `/metrics` family of each media counter. */
const MEDIA_COUNTER_FAMILIES: Readonly<Record<keyof KindCounters, [string, string]>> = {
  packetsReceived: ["janus_media_packets_received_total", "RTP packets received from peers"],
  bytesReceived: ["janus_media_bytes_received_total", "RTP bytes received from peers"],
  packetsSent: ["janus_media_packets_sent_total", "RTP packets sent (forwarded) to peers"],
  bytesSent: ["janus_media_bytes_sent_total", "RTP bytes sent (forwarded) to peers"],
  nacksReceived: ["janus_media_nacks_received_total", "Sequence numbers peers NACKed to us"],
  nacksSent: ["janus_media_nacks_sent_total", "Sequence numbers we NACKed to peers"],
  plisReceived: ["janus_media_plis_received_total", "Keyframe requests (PLI, FIR) from peers"],
  plisSent: ["janus_media_plis_sent_total", "Keyframe requests (PLI) we sent to peers"],
  rtxSent: ["janus_media_rtx_sent_total", "Packets resent on a NACK (RTX when negotiated)"],
};

/** Request latency buckets, in seconds: most requests take well under a millisecond. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Offer-to-`webrtcup` buckets, in seconds: ICE and DTLS over loopback to slow networks. */
const SETUP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30];

const KNOWN = new Set([...ROOT_REQUESTS, ...SESSION_REQUESTS, ...HANDLE_REQUESTS]);

/** The `janus` label of a request: a known request name, else `unknown` or `invalid`. */
export function requestLabel(request: unknown): string {
  if (typeof request !== "object" || request === null || Array.isArray(request)) return "invalid";
  const janus = (request as JsonObject).janus;
  if (typeof janus !== "string") return "invalid";
  const name = janus.toLowerCase();
  return KNOWN.has(name) ? name : "unknown";
}

/** Counters and histograms of one gateway, and its `/metrics` text. */
export class GatewayMetrics {
  readonly registry: Registry = new Registry();
  readonly #started = Date.now();
  readonly #requests = this.registry.counter(
    "janus_requests_total",
    "Janus API requests handled, by request (janus).",
  );
  readonly #errors = this.registry.counter(
    "janus_request_errors_total",
    "Janus API requests answered with an error, by request (janus) and Janus error code.",
  );
  readonly #latency = this.registry.histogram(
    "janus_request_duration_seconds",
    "Time from a parsed Janus API request to its reply.",
    LATENCY_BUCKETS,
  );
  readonly #setup = this.registry.histogram(
    "janus_webrtc_setup_seconds",
    "Time from the first offer of a PeerConnection to its webrtcup.",
    SETUP_BUCKETS,
  );
  readonly #iceFailures = this.registry.counter(
    "janus_ice_failures_total",
    "PeerConnections ended because ICE failed.",
  );
  readonly #dtlsFailures = this.registry.counter(
    "janus_dtls_failures_total",
    "PeerConnections ended by a DTLS alert or error.",
  );
  readonly #workerGone = this.registry.counter(
    "janus_media_worker_lost_peers_total",
    "PeerConnections ended because their media worker died or hung.",
  );

  constructor(gateway: Gateway) {
    this.#scrapeGauges(gateway);
    this.#mediaCounters(gateway);
  }

  /** A Janus API request was answered `reply` after `seconds`. */
  request(request: unknown, reply: JsonObject, seconds: number): void {
    const janus = requestLabel(request);
    this.#requests.inc({ janus });
    this.#latency.observe(seconds);
    if (reply.janus === "error") {
      const error = reply.error;
      const code = typeof error === "object" && error !== null && !Array.isArray(error)
        ? (error as JsonObject).code
        : undefined;
      this.#errors.inc({ janus, code: typeof code === "number" ? String(code) : "unknown" });
    }
  }

  /** A PeerConnection came up `seconds` after its first offer. */
  webrtcUp(seconds: number): void {
    this.#setup.observe(seconds);
  }

  /** A PeerConnection went away by itself. */
  peerLost(reason: PeerCloseReason): void {
    if (reason === "ICE failed") this.#iceFailures.inc();
    else if (reason === "DTLS alert" || reason === "DTLS error") this.#dtlsFailures.inc();
    else if (reason === "Worker gone") this.#workerGone.inc();
  }

  /** The text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.render();
  }

  #scrapeGauges(gateway: Gateway): void {
    const r = this.registry;
    const sessions = r.gauge("janus_sessions", "Live Janus sessions.");
    const handles = r.gauge("janus_handles", "Live handles (plugin attachments).");
    const pcs = r.gauge(
      "janus_peerconnections",
      "PeerConnections of handles, by state: new (no answer yet), negotiated, connected (webrtcup).",
      { labelled: true },
    );
    const queued = r.gauge(
      "janus_event_queue_events",
      "Events waiting in session queues for a long poll.",
    );
    const queuedBytes = r.gauge("janus_event_queue_bytes", "JSON bytes of the waiting events.");
    const deepest = r.gauge(
      "janus_event_queue_max_events",
      "Events waiting in the fullest session queue.",
    );
    const overflows = r.counter(
      "janus_event_queue_overflows_total",
      "Sessions ended because their waiting events passed limits.event_queue_bytes.",
    );
    const workers = r.gauge("janus_media_workers", "Live media worker processes.");
    const failures = r.counter(
      "janus_media_worker_failures_total",
      "Media workers that died or hung and were replaced (recycled ones are not counted).",
    );
    const mediaPeers = r.gauge("janus_media_peers", "PeerConnections in media workers.");
    const workerRss = r.gauge(
      "janus_media_worker_resident_memory_bytes",
      "Resident memory of the live media workers, summed.",
    );
    const workerCpu = r.gauge(
      "janus_media_worker_cpu_seconds",
      "CPU time (user and system) used by the live media workers so far, summed.",
    );
    const rss = r.gauge("process_resident_memory_bytes", "Resident memory of the gateway process.");
    const cpu = r.counter(
      "process_cpu_seconds_total",
      "User and system CPU time of the gateway process.",
    );
    const start = r.gauge("process_start_time_seconds", "Start time of the gateway, Unix seconds.");
    r.onCollect(() => {
      const counts = gateway.counts();
      sessions.set({}, counts.sessions);
      handles.set({}, counts.handles);
      const states = { new: 0, negotiated: 0, connected: 0 };
      let events = 0;
      let bytes = 0;
      let max = 0;
      for (const session of gateway.sessions.values()) {
        events += session.queue.size;
        bytes += session.queue.bytes;
        max = Math.max(max, session.queue.size);
        for (const handle of session.handles.values()) {
          const webrtc = handle.webrtc;
          if (!webrtc.active) continue;
          if (webrtc.flags().ready === true) states.connected++;
          else if (webrtc.negotiated) states.negotiated++;
          else states.new++;
        }
      }
      for (const [state, n] of Object.entries(states)) pcs.set({ state }, n);
      queued.set({}, events);
      queuedBytes.set({}, bytes);
      deepest.set({}, max);
      overflows.setTotal({}, gateway.queueOverflows);
      this.#pluginGauges(gateway);
      const media = gateway.media;
      const mc = media?.counts() ?? { peers: 0, workers: 0 };
      workers.set({}, mc.workers);
      failures.setTotal({}, media?.workerFailures?.() ?? 0);
      mediaPeers.set({}, mc.peers);
      let wRss = 0;
      let wCpu = 0;
      for (const pid of media?.workerPids?.() ?? []) {
        wRss += residentBytes(pid) ?? 0;
        wCpu += processCpuSeconds(pid) ?? 0;
      }
      workerRss.set({}, wRss);
      workerCpu.set({}, wCpu);
      rss.set({}, Deno.memoryUsage().rss);
      const usage = cpuUsage();
      cpu.setTotal({}, (usage.user + usage.system) / 1e6);
      start.set({}, Math.floor(this.#started / 1000));
    });
  }

  /**
   * `janus_media_*_total{engine,kind}`: each worker's totals since it started, summed per
   * engine (gone workers' last totals included).
   */
  #mediaCounters(gateway: Gateway): void {
    const families = COUNTER_KEYS.map((key) => {
      const [name, help] = MEDIA_COUNTER_FAMILIES[key];
      return [key, this.registry.counter(name, `${help}, by media engine and kind.`)] as const;
    });
    this.registry.onCollect(async () => {
      const stats = await gateway.media?.mediaStats?.({
        peers: false,
        deadlineMs: MEDIA_TOTALS_DEADLINE_MS,
      });
      for (const [engine, totals] of Object.entries(stats?.totals ?? {})) {
        for (const kind of ["audio", "video"] as const) {
          for (const [key, counter] of families) {
            const labels = { engine, kind };
            counter.setTotal(labels, Math.max(counter.get(labels), totals[kind][key]));
          }
        }
      }
    });
  }

  /** `janus_plugin_<key>{plugin}` for every gauge a plugin reports. */
  #pluginGauges(gateway: Gateway): void {
    const families = new Set<ReturnType<Registry["dynamicGauge"]>>();
    for (const [id, plugin] of gateway.plugins) {
      const values = plugin.metrics?.() ?? {};
      for (const [key, value] of Object.entries(values)) {
        const gauge = this.registry.dynamicGauge(
          `janus_plugin_${metricName(key)}`,
          `Plugin gauge '${key}', by plugin package.`,
        );
        if (!families.has(gauge)) {
          gauge.reset();
          families.add(gauge);
        }
        gauge.set({ plugin: id }, value);
      }
    }
  }
}
