/**
 * `deno task bench`: load and memory figures of the gateway (run in a child
 * process) and, when it answers on loopback, of the reference Janus, with
 * ratios and targets. Prints tables and one final JSON line; writes no files.
 *
 * @module
 */
import { type BenchOptions, parseArgs, USAGE } from "./args.ts";
import {
  audioBridgeJson,
  audioBridgeNotes,
  audioBridgeParticipantLines,
  audioBridgeSummaryRows,
  audioBridgeTable,
} from "./audiobridge/report.ts";
import { PLAYOUT_DELAY_MS } from "./audiobridge/protocol.ts";
import { runAudioBridgeBench } from "./audiobridge/run_audiobridge.ts";
import { browserJson, browserTable } from "./browser/report.ts";
import { runBrowserBench } from "./browser/run_browser.ts";
import { GatewayChild } from "./child.ts";
import type { ChildStats } from "./gateway_child.ts";
import type { Endpoint } from "./janus_client.ts";
import { httpLifecycles, type LoadResult, wsKeepalives, wsLifecycles } from "./lifecycle.ts";
import {
  echoTable,
  fanoutSubscriberLines,
  fanoutTable,
  joinTable,
  mediaJson,
  mediaNotes,
  mediaSummaryRows,
} from "./media/report.ts";
import type { MediaBenchResult } from "./media/results.ts";
import { runMediaBench } from "./media/run_media.ts";
import { measureIdleSessions, type MemoryProbe } from "./memory.ts";
import {
  streamingJson,
  streamingNotes,
  streamingSummaryRows,
  streamingTable,
  streamingViewerLines,
} from "./streaming/report.ts";
import { runStreamingBench } from "./streaming/run_streaming.ts";
import { textRoomJson, textRoomTable } from "./textroom/report.ts";
import { runTextRoomBench } from "./textroom/run_textroom.ts";
import { print } from "./print.ts";
import { readSystemBusySeconds, startUsage } from "./proc.ts";
import {
  findReference,
  type Reference,
  startFreshReference,
  stopStartedReference,
} from "./reference.ts";
import {
  cpuTable,
  errorLines,
  memoryTable,
  met,
  mib,
  type PhaseRun,
  ratio,
  summaryTable,
  type TargetResults,
  TARGETS,
} from "./report.ts";

type LoadPhase = "http" | "ws" | "ka";

const LABEL: Record<LoadPhase, string> = {
  http: "HTTP lifecycles",
  ws: "WS lifecycles",
  ka: "WS keepalives",
};

function runLoad(
  phase: LoadPhase,
  endpoint: Endpoint,
  options: BenchOptions,
  durationMs: number,
): Promise<LoadResult> {
  const common = { durationMs, timeoutMs: options.timeout * 1000 };
  switch (phase) {
    case "http":
      return httpLifecycles(endpoint, { ...common, clients: options.httpClients });
    case "ws":
      return wsLifecycles(endpoint, { ...common, sockets: options.wsSockets });
    case "ka":
      return wsKeepalives(endpoint, {
        ...common,
        sockets: options.kaSockets,
        window: options.kaWindow,
      });
  }
}

/** Warms up, then runs one timed phase while reading server, bench and other CPU. */
async function timedPhase(
  phase: LoadPhase,
  name: string,
  endpoint: Endpoint,
  pid: number | undefined,
  options: BenchOptions,
): Promise<PhaseRun> {
  if (options.warmup > 0) await runLoad(phase, endpoint, options, options.warmup * 1000);
  const server = startUsage(pid);
  const client = startUsage(Deno.pid);
  const busy0 = readSystemBusySeconds();
  const load = await runLoad(phase, endpoint, options, options.duration * 1000);
  const s = server();
  const c = client();
  const busy1 = readSystemBusySeconds();
  const other = busy0 === undefined || busy1 === undefined
    ? undefined
    : Math.max(0, busy1 - busy0 - (s.cpuSeconds ?? 0) - (c.cpuSeconds ?? 0));
  print(
    `  ${LABEL[phase].padEnd(16)} ${name.padEnd(9)} ${load.rate.toFixed(1).padStart(9)}/s` +
      `  (${load.ops} in ${load.seconds} s, ${load.errors} errors)`,
  );
  return {
    load,
    roundRates: [load.rate],
    serverCpuSeconds: s.cpuSeconds,
    clientCpuSeconds: c.cpuSeconds,
    otherCpuSeconds: other,
    serverRssBefore: s.rssBefore,
    serverRssAfter: s.rssAfter,
  };
}

/** Keeps the round with the highest rate, remembering every round's rate. */
function keepBest(target: TargetResults, phase: LoadPhase, run: PhaseRun): void {
  const best = target[phase];
  if (!best) {
    target[phase] = run;
    return;
  }
  const rates = [...best.roundRates, run.load.rate];
  target[phase] = run.load.rate > best.load.rate
    ? { ...run, roundRates: rates }
    : { ...best, roundRates: rates };
}

function childProbe(child: GatewayChild): MemoryProbe {
  return {
    pid: child.pid,
    collect: async () => {
      const stats = await child.gc();
      return { heapUsed: stats.memory.heapUsed, sessions: stats.counts.sessions ?? 0 };
    },
  };
}

interface LeakCheck {
  /** Live objects left in our gateway after every load phase ended (all should be 0). */
  countsAfterLoad: Record<string, number> | undefined;
  /** V8 heap used after GC: fresh vs after the load phases. */
  heapUsedBaseline: number | undefined;
  heapUsedAfterLoad: number | undefined;
  rssBaseline: number | undefined;
  rssAfterLoad: number | undefined;
  /** Counts reported by the gateway's own graceful stop. */
  countsAtStop: Record<string, number> | undefined;
}

async function loadPhases(
  options: BenchOptions,
  reference: Reference | undefined,
  ours: TargetResults,
  ref: TargetResults | undefined,
): Promise<LeakCheck | undefined> {
  const phases = (["http", "ws", "ka"] as const).filter((p) => options.only.has(p));
  if (phases.length === 0) return undefined;
  const child = await GatewayChild.start({
    wsRateLimit: options.wsRateLimit,
    timeoutMs: options.timeout * 1000,
  });
  ours.pid = child.pid;
  let baseline: ChildStats | undefined;
  let afterLoad: ChildStats | undefined;
  let atStop: ChildStats | undefined;
  try {
    baseline = await child.gc();
    for (let round = 1; round <= options.rounds; round++) {
      if (options.rounds > 1) print(` round ${round}/${options.rounds}`);
      for (const phase of phases) {
        keepBest(ours, phase, await timedPhase(phase, "ours", child.endpoint, child.pid, options));
        if (!reference || !ref) continue;
        keepBest(
          ref,
          phase,
          await timedPhase(phase, "reference", reference.endpoint, reference.pid, options),
        );
      }
    }
    // Let closing sockets and pending after-reply work finish before counting.
    await new Promise((r) => setTimeout(r, 500));
    afterLoad = await child.gc();
  } finally {
    atStop = await child.stop();
  }
  return {
    countsAfterLoad: afterLoad?.counts,
    heapUsedBaseline: baseline?.memory.heapUsed,
    heapUsedAfterLoad: afterLoad?.memory.heapUsed,
    rssBaseline: baseline?.memory.rss,
    rssAfterLoad: afterLoad?.memory.rss,
    countsAtStop: atStop?.counts,
  };
}

async function memoryPhase(
  options: BenchOptions,
  reference: Reference | undefined,
  ours: TargetResults,
  ref: TargetResults | undefined,
): Promise<string[]> {
  const notes: string[] = [];
  if (!options.only.has("mem")) return notes;
  const memOptions = {
    sessions: options.sessions,
    concurrency: options.memConcurrency,
    settleMs: options.settle * 1000,
    timeoutMs: options.timeout * 1000,
  };
  // A fresh child: nothing but these sessions has touched its heap.
  const child = await GatewayChild.start({
    wsRateLimit: options.wsRateLimit,
    timeoutMs: options.timeout * 1000,
  });
  try {
    ours.memPid = child.pid;
    ours.mem = await measureIdleSessions(child.endpoint, childProbe(child), memOptions);
    print(`  idle sessions    ours      ${ours.mem.bytesPerSession?.toFixed(0) ?? "-"} B/session`);
  } finally {
    await child.stop();
  }
  if (!reference || !ref) return notes;
  let target = reference;
  if (options.freshRefMem) {
    const fresh = await startFreshReference();
    if ("unreachable" in fresh) {
      notes.push(
        `no fresh reference for the memory phase (${fresh.unreachable}); used the running one`,
      );
    } else {
      target = fresh;
      notes.push(
        `reference memory measured on a fresh Janus ${fresh.version} (pid ${fresh.pid}, port ` +
          `${fresh.endpoint.httpPort}), stopped afterwards`,
      );
    }
  }
  try {
    if (target.pid === undefined) {
      notes.push("reference memory not measured: its pid is unknown (set REF_PID)");
      return notes;
    }
    if (target.startedPid === undefined) {
      notes.push(
        "reference memory measured on the long-running instance: glibc reuses memory it freed " +
          "earlier, so its bytes/session is a lower bound",
      );
    }
    ref.memPid = target.pid;
    ref.mem = await measureIdleSessions(target.endpoint, { pid: target.pid }, memOptions);
    print(`  idle sessions    reference ${ref.mem.bytesPerSession?.toFixed(0) ?? "-"} B/session`);
    const window = target.sessionTimeout;
    const spent = ref.mem.createSeconds + options.settle;
    if (window !== undefined && window > 0 && spent > window) {
      notes.push(
        `reference sessions may have timed out (${
          spent.toFixed(1)
        } s > session_timeout ${window} s)`,
      );
    }
  } finally {
    if (target !== reference) await stopStartedReference(target);
  }
  return notes;
}

/** The echo and videoroom phases, in a network namespace with their own servers. */
async function mediaPhases(
  options: BenchOptions,
): Promise<MediaBenchResult | { failed: string } | undefined> {
  const echo = options.only.has("echo");
  const videoroom = options.only.has("videoroom");
  if (!echo && !videoroom) return undefined;
  print(
    " Media phases (private network namespace; our gateway with " +
      `${options.mediaWorkers} media worker(s) and a private reference):`,
  );
  return await runMediaBench({
    echo,
    videoroom,
    width: options.videoWidth,
    height: options.videoHeight,
    echoCalls: options.echoCalls,
    echoSeconds: options.echoSeconds,
    vrParticipants: options.vrParticipants,
    vrConcurrency: options.vrConcurrency,
    vrRounds: options.vrRounds,
    vrWarmup: options.vrWarmup,
    vrLargeParticipants: options.vrLargeParticipants,
    vrLargeRounds: options.vrLargeRounds,
    vrNotifyJoining: options.vrNotifyJoining,
    vrSubscribers: options.vrSubscribers,
    vrSeconds: options.vrSeconds,
    vrFanoutRounds: options.vrFanoutRounds,
    settle: options.mediaSettle,
    workers: options.mediaWorkers,
    noRef: options.noRef,
    timeoutMs: Math.max(15_000, options.timeout * 1000),
  });
}

function summaryJson(
  options: BenchOptions,
  ours: TargetResults,
  ref: TargetResults | undefined,
  referenceStatus: string,
  leaks: LeakCheck | undefined,
  media: MediaBenchResult | { failed: string } | undefined,
): Record<string, unknown> {
  const figures = (t: TargetResults | undefined) =>
    t && {
      pid: t.pid ?? null,
      mem_pid: t.memPid ?? null,
      http_lifecycles_per_s: t.http?.load.rate ?? null,
      ws_lifecycles_per_s: t.ws?.load.rate ?? null,
      ws_keepalives_per_s: t.ka?.load.rate ?? null,
      bytes_per_idle_session: t.mem?.bytesPerSession ?? null,
      server_cpu_s: {
        http: t.http?.serverCpuSeconds ?? null,
        ws: t.ws?.serverCpuSeconds ?? null,
        ka: t.ka?.serverCpuSeconds ?? null,
        mem_create: t.mem?.createCpuSeconds ?? null,
        mem_destroy: t.mem?.destroyCpuSeconds ?? null,
      },
      bench_cpu_s: {
        http: t.http?.clientCpuSeconds ?? null,
        ws: t.ws?.clientCpuSeconds ?? null,
        ka: t.ka?.clientCpuSeconds ?? null,
      },
      other_processes_cpu_s: {
        http: t.http?.otherCpuSeconds ?? null,
        ws: t.ws?.otherCpuSeconds ?? null,
        ka: t.ka?.otherCpuSeconds ?? null,
      },
      errors: {
        http: t.http?.load.errors ?? null,
        ws: t.ws?.load.errors ?? null,
        ka: t.ka?.load.errors ?? null,
        mem: t.mem?.errors ?? null,
      },
      latency_ms: {
        http_p50: t.http?.load.p50Ms ?? null,
        http_p99: t.http?.load.p99Ms ?? null,
        ws_p50: t.ws?.load.p50Ms ?? null,
        ws_p99: t.ws?.load.p99Ms ?? null,
      },
      heap_bytes_per_idle_session: t.mem?.heapBytesPerSession ?? null,
    };
  const r = (a: number | undefined, b: number | undefined) => ratio(a, b) ?? null;
  const m = (t: keyof typeof TARGETS, a: number | undefined, b: number | undefined) =>
    met(TARGETS[t], a, b) ?? null;
  return {
    bench: "janus-gateway",
    options: {
      duration_s: options.duration,
      warmup_s: options.warmup,
      http_clients: options.httpClients,
      ws_sockets: options.wsSockets,
      ka_sockets: options.kaSockets,
      ka_window: options.kaWindow,
      sessions: options.sessions,
      ws_rate_limit: options.wsRateLimit,
      echo_calls: options.echoCalls,
      echo_seconds: options.echoSeconds,
      vr_participants: options.vrParticipants,
      vr_concurrency: options.vrConcurrency,
      vr_rounds: options.vrRounds,
      vr_warmup: options.vrWarmup,
      vr_large: options.vrLargeParticipants,
      vr_large_rounds: options.vrLargeRounds,
      vr_notify_joining: options.vrNotifyJoining,
      vr_subscribers: options.vrSubscribers,
      video: `${options.videoWidth}x${options.videoHeight}`,
      vr_seconds: options.vrSeconds,
      media_workers: options.mediaWorkers,
      phases: [...options.only],
    },
    cpus: navigator.hardwareConcurrency,
    reference_status: referenceStatus,
    ours: figures(ours),
    reference: figures(ref) ?? null,
    ratios: {
      http_lifecycles: r(ours.http?.load.rate, ref?.http?.load.rate),
      ws_lifecycles: r(ours.ws?.load.rate, ref?.ws?.load.rate),
      ws_keepalives: r(ours.ka?.load.rate, ref?.ka?.load.rate),
      bytes_per_idle_session: r(ours.mem?.bytesPerSession, ref?.mem?.bytesPerSession),
    },
    targets: {
      http_lifecycles_3x_ref: m("http", ours.http?.load.rate, ref?.http?.load.rate),
      ws_lifecycles_2x_ref: m("ws", ours.ws?.load.rate, ref?.ws?.load.rate),
      idle_session_below_4KiB: m("mem", ours.mem?.bytesPerSession, undefined),
    },
    leaks: leaks ?? null,
    media: media === undefined ? null : "failed" in media ? media : mediaJson(media),
  };
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseArgs(Deno.args);
  } catch (e) {
    print(`bench: ${(e as Error).message}`);
    print(USAGE);
    return 2;
  }
  if (options.help) {
    print(USAGE);
    return 0;
  }
  const started = performance.now();
  print(
    `Janus gateway bench: loopback, ${navigator.hardwareConcurrency} CPUs, Deno ${Deno.version.deno}; ` +
      `${options.duration} s per phase (+${options.warmup} s warm-up), ` +
      `${options.httpClients} HTTP clients, ${options.wsSockets} WS sockets, ` +
      `${options.kaSockets}x${options.kaWindow} keepalives, ${options.sessions} idle sessions`,
  );

  const found = options.noRef ? { unreachable: "skipped (--no-ref)" } : await findReference();
  const reference = "unreachable" in found ? undefined : found;
  const referenceStatus = reference
    ? `Janus ${reference.version} at http://${reference.endpoint.host}:${reference.endpoint.httpPort}` +
      `${reference.endpoint.basePath} and ws://${reference.endpoint.host}:${reference.endpoint.wsPort}` +
      `, pid ${reference.pid ?? "?"} (${reference.pidSource})`
    : `reference not measured: ${"unreachable" in found ? found.unreachable : ""}`;
  print(
    reference ? `Reference: ${referenceStatus}` : `Reference: ${referenceStatus}; our figures only`,
  );

  const ours: TargetResults = { name: "ours", pid: undefined };
  const ref: TargetResults | undefined = reference
    ? { name: "reference", pid: reference.pid }
    : undefined;
  let leaks: LeakCheck | undefined;
  let notes: string[] = [];
  try {
    print("Running:");
    leaks = await loadPhases(options, reference, ours, ref);
    notes = await memoryPhase(options, reference, ours, ref);
  } finally {
    if (reference) await stopStartedReference(reference);
  }
  const media = await mediaPhases(options);
  const mediaResult = media && !("failed" in media) ? media : undefined;
  if (options.only.has("browser")) print(" Browser phase (private network namespace; ours only):");
  const browser = options.only.has("browser")
    ? await runBrowserBench({ rounds: 5, workers: options.mediaWorkers })
    : undefined;
  if (options.only.has("textroom")) {
    print(
      " TextRoom fan-out (private network namespace; our gateway with 1 media worker and a " +
        "private reference):",
    );
  }
  const textroom = options.only.has("textroom")
    ? await runTextRoomBench({
      participants: options.trParticipants,
      seconds: options.trSeconds,
      window: options.trWindow,
      size: 64,
      rounds: options.trRounds,
      noRef: options.noRef,
      timeoutMs: Math.max(15_000, options.timeout * 1000),
    })
    : undefined;
  if (options.only.has("streaming")) {
    print(
      " Streaming viewers (private network namespace; our gateway with " +
        `${options.mediaWorkers} media worker(s) and a private reference):`,
    );
  }
  const streaming = options.only.has("streaming")
    ? await runStreamingBench({
      viewers: options.streamingViewers,
      seconds: options.streamingSeconds,
      settle: options.mediaSettle,
      rounds: options.streamingRounds,
      width: options.videoWidth,
      height: options.videoHeight,
      kbps: 1500,
      workers: options.mediaWorkers,
      noRef: options.noRef,
      timeoutMs: Math.max(15_000, options.timeout * 1000),
    })
    : undefined;
  const streamingResult = streaming && !("failed" in streaming) ? streaming : undefined;
  if (options.only.has("audiobridge")) {
    print(
      " AudioBridge room (private network namespace; our gateway with " +
        `${options.mediaWorkers} media worker(s) and a private reference):`,
    );
  }
  const audiobridge = options.only.has("audiobridge")
    ? await runAudioBridgeBench({
      participants: options.abParticipants,
      seconds: options.abSeconds,
      settle: Math.max(2, options.mediaSettle),
      rate: options.abRate,
      hosts: options.abHosts,
      clients: options.abClients,
      workers: options.mediaWorkers,
      noRef: options.noRef,
      timeoutMs: Math.max(15_000, options.timeout * 1000),
    })
    : undefined;
  const audiobridgeResult = audiobridge && !("failed" in audiobridge) ? audiobridge : undefined;

  print("");
  print(summaryTable(ours, ref, [
    ...(mediaResult ? mediaSummaryRows(mediaResult) : []),
    ...(streamingResult ? streamingSummaryRows(streamingResult) : []),
    ...(audiobridgeResult ? audioBridgeSummaryRows(audiobridgeResult) : []),
  ]));
  if (mediaResult) {
    print(`Media phases reference: ${mediaResult.referenceStatus}`);
    if (mediaResult.ours.echo.length > 0) {
      print("");
      const { width, height } = mediaResult.video;
      print(
        `EchoTest, each call ${width}x${height} at 30 fps both ways (CPU in % of one core over ` +
          "the window: ours = gateway + media workers, reference = the janus process; per " +
          "call = total / calls; echoed frames decoded by the wrtc callers)",
      );
      print(echoTable(mediaResult));
    }
    if (mediaResult.ours.join) {
      print("");
      print(
        "VideoRoom join storm (signalling only; connect+join: each participant opens a WS, " +
          "creates, attaches and joins, time = first connect → last joined; join alone: all " +
          "connected and attached first, time = first join sent → last joined)",
      );
      print(joinTable(mediaResult));
    }
    if (mediaResult.ours.fanout) {
      print("");
      const { width, height } = mediaResult.video;
      print(
        `VideoRoom fan-out, 1 publisher ${width}x${height} at 30 fps (CPU in % of one core: ` +
          "ours = gateway + media workers, reference = the janus process; per sub = total / " +
          "subscribers; marginal = (total − publisher alone) / subscribers; subscribers are " +
          "node-datachannel peers counting RTP without decoding: fps = frames ended by a " +
          "marker bit, size = the last VP8 keyframe's header)",
      );
      print(fanoutTable(mediaResult));
      print("Per subscriber, received size@fps:");
      for (const line of fanoutSubscriberLines(mediaResult)) print(`  ${line}`);
    }
    notes.push(...mediaNotes(mediaResult));
  } else if (media && "failed" in media) {
    notes.push(`media phases failed: ${media.failed}`);
  }
  if (browser && "failed" in browser) notes.push(`browser phase failed: ${browser.failed}`);
  else if (browser) {
    print("");
    print(
      "VideoRoom in Chromium (official videoroomtest.html, rtp engine, 640x480 30 fps fake " +
        `camera): ms from a request's ack to the next decoded frame; ${browser.sent}`,
    );
    print(browserTable(browser));
  }
  if (textroom && "failed" in textroom) notes.push(`textroom phase failed: ${textroom.failed}`);
  else if (textroom) {
    print("");
    print(
      `TextRoom fan-out: ${textroom.options.participants} data-channel participants ` +
        `(node-datachannel), one sender with ${textroom.options.window} messages of ` +
        `${textroom.options.size} characters unacknowledged at most; delivered/s = message ` +
        "events received over all participants, best window (CPU in % of one core: ours = " +
        "gateway + media worker, reference = the janus process; µs CPU/delivered includes the " +
        `wait for the last deliveries); reference: ${textroom.referenceStatus}`,
    );
    print(textRoomTable(textroom));
    notes.push(...textroom.notes);
  }
  if (streaming && "failed" in streaming) notes.push(`streaming phase failed: ${streaming.failed}`);
  else if (streamingResult) {
    const { width, height, kbps } = streamingResult.video;
    print("");
    print(
      `Streaming viewers of one mountpoint (${width}x${height} 30 fps VP8 ~${kbps} kbit/s + ` +
        "Opus from ffmpeg, the same packets to both servers; CPU in % of one core: ours = " +
        "gateway + media workers, reference = the janus process; per viewer = total / viewers; " +
        "marginal = (total − fed with no viewer) / viewers; viewers are node-datachannel " +
        "peers counting RTP without decoding: fps = frames ended by a marker bit, size = the " +
        `last VP8 keyframe's header); reference: ${streamingResult.referenceStatus}`,
    );
    print(streamingTable(streamingResult));
    print("Per viewer, received size@fps:");
    for (const line of streamingViewerLines(streamingResult)) print(`  ${line}`);
    notes.push(...streamingNotes(streamingResult));
  }
  if (audiobridge && "failed" in audiobridge) {
    notes.push(`audiobridge phase failed: ${audiobridge.failed}`);
  } else if (audiobridgeResult) {
    print("");
    print(
      `AudioBridge, N participants in one ${audiobridgeResult.rate} Hz room ` +
        `(${audiobridgeResult.clients} peers over ` +
        `${audiobridgeResult.hosts} client processes, each sending a tone as Opus and ` +
        "receiving its mix-minus; CPU in % of one core over the window: ours = gateway + media " +
        "workers, reference = the janus process; per participant = total / participants; " +
        (audiobridgeResult.clients === "wrtc"
          ? "concealed = samples the participant's NetEq made up for audio missing or late / " +
            "samples played out (inbound-rtp concealedSamples / totalSamplesReceived); "
          : `concealed = 20 ms mix frames not there ${PLAYOUT_DELAY_MS} ms after their slot ` +
            "(frame 0's arrival + k periods: missing or late for a jitter buffer that deep) / " +
            "frames due; ") +
        "level = RMS " +
        "of what was played out, 0..1; other CPU = every other process of the machine; " +
        "run-queue wait = the most one server thread spent ready but without a core); " +
        `reference: ${audiobridgeResult.referenceStatus}`,
    );
    print(audioBridgeTable(audiobridgeResult));
    print("Per participant, concealed %:");
    for (const line of audioBridgeParticipantLines(audiobridgeResult)) print(`  ${line}`);
    notes.push(...audioBridgeNotes(audiobridgeResult));
  }
  if (ours.http || ours.ws || ours.ka) {
    print("");
    print(cpuTable(ref ? [ours, ref] : [ours]));
  }
  if (ours.mem || ref?.mem) {
    print("");
    print(memoryTable(ref ? [ours, ref] : [ours]));
  }
  if (leaks) {
    print("");
    const heap = leaks.heapUsedBaseline !== undefined && leaks.heapUsedAfterLoad !== undefined
      ? `${((leaks.heapUsedAfterLoad - leaks.heapUsedBaseline) / 1024).toFixed(0)} KiB`
      : "-";
    print(
      `Leak check (ours, after all load phases, after GC): live ${
        JSON.stringify(leaks.countsAfterLoad)
      }; V8 heap used grew ${heap}; RSS ${mib(leaks.rssBaseline)} → ${
        mib(leaks.rssAfterLoad)
      }; at stop ${JSON.stringify(leaks.countsAtStop)}`,
    );
    print(
      "  (timers:1 is the watchdog; RSS growth under load is V8 young-generation and " +
        "allocator growth, not live objects, when the heap used stays flat)",
    );
  }
  for (const line of [...errorLines(ref ? [ours, ref] : [ours]), ...notes]) print(`Note: ${line}`);
  if (!reference) print("Reference unreachable: ratios and ratio targets not judged.");
  print(`Total bench time ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const summary = summaryJson(options, ours, ref, referenceStatus, leaks, media);
  const browserSummary = browser === undefined
    ? null
    : "failed" in browser
    ? browser
    : browserJson(browser);
  const textroomSummary = textroom === undefined
    ? null
    : "failed" in textroom
    ? textroom
    : textRoomJson(textroom);
  const streamingSummary = streaming === undefined
    ? null
    : "failed" in streaming
    ? streaming
    : streamingJson(streaming);
  const audiobridgeSummary = audiobridge === undefined
    ? null
    : "failed" in audiobridge
    ? audiobridge
    : audioBridgeJson(audiobridge);
  print(
    JSON.stringify({
      ...summary,
      browser: browserSummary,
      textroom: textroomSummary,
      streaming: streamingSummary,
      audiobridge: audiobridgeSummary,
    }),
  );
  return 0;
}

if (import.meta.main) Deno.exit(await main());
