/**
 * The Streaming viewers ramp on one server: with its mountpoint fed by ffmpeg, a window with
 * no viewer (the baseline), then for each N of the ramp N fresh viewers (each its own
 * WebSocket, session and handle; node-datachannel peers of the receiver host that count RTP
 * without decoding) watch, start, and are measured over a steady window: server CPU, and per
 * viewer the frames, bitrate and keyframe size received. They leave before the next step.
 *
 * The gateway's candidates reach a viewer only after `start` is answered: an rtp-engine offer
 * whose peer gets ICE checks before its answer sometimes ended in ICE failure.
 *
 * @module
 */
import {
  type Opened,
  openHandle,
  type PeerWindow,
  trickleCandidates,
  upOrHangup,
} from "../media/call.ts";
import { errorText, percentOfCore, perProcessText, sleep } from "../media/cpu.ts";
import { startCpu } from "../media/cpu.ts";
import type { Log, MediaServer, ReceiverHost } from "../media/server.ts";
import { jsepSdp, pluginData } from "../media/signal.ts";
import { STREAMING } from "./mountpoint.ts";
import { receiversStep } from "../media/receivers_step.ts";

/** One step (N viewers) on one server. */
export interface ViewersStep {
  viewers: number;
  /** Viewers that reached webrtcup. */
  up: number;
  /** `watch` sent → webrtcup, in ms. */
  webrtcupP50Ms: number | undefined;
  webrtcupMaxMs: number | undefined;
  serverCpuPercent: number | undefined;
  /** CPU % of one core of each server process, labelled. */
  byProcess: string;
  /** Server CPU % of one core / viewers (the mountpoint's own share included). */
  cpuPercentPerViewer: number | undefined;
  /** (CPU − CPU with no viewer) / viewers. */
  marginalCpuPercentPerViewer: number | undefined;
  /** With several rounds: each round's CPU per viewer (this step is their median). */
  roundCpuPercent?: number[];
  fpsMean: number | undefined;
  fpsMin: number | undefined;
  kbpsMean: number | undefined;
  ppsMean: number | undefined;
  /** Video packets/s received by the viewers together. */
  ppsTotal: number | undefined;
  /** Viewers whose last keyframe was the feed's size, and the sizes seen. */
  atSize: number;
  sizes: string;
  received: PeerWindow[];
  /** CPU % of one core of the receiver host and ffmpeg. */
  clientCpuPercent: number | undefined;
  errors: number;
  firstError: string | undefined;
}

/** The ramp on one server. */
export interface ViewersResult {
  /** Server CPU % of one core with the mountpoint fed and no viewer. */
  baselineCpuPercent: number | undefined;
  baselineByProcess: string;
  steps: ViewersStep[];
  errors: number;
  firstError: string | undefined;
}

/** Settings of the ramp. */
export interface ViewersOptions {
  viewers: readonly number[];
  mountpoint: number;
  /** Size of the feed's video. */
  width: number;
  height: number;
  seconds: number;
  settle: number;
  timeoutMs: number;
  /** Processes of the client side (receiver host, ffmpeg) whose CPU is reported. */
  clientPids: readonly number[];
}

/** Watches `mountpoint` with a new receiver peer up to webrtcup; resolves watch → up in ms. */
async function watch(
  server: MediaServer,
  host: ReceiverHost,
  mountpoint: number,
  m: Opened,
  timeoutMs: number,
): Promise<number> {
  const { sig, session, handle } = await openHandle(server, STREAMING, timeoutMs, m);
  const sent = performance.now();
  const watched = await sig.message(session, handle, { request: "watch", id: mountpoint });
  const offer = jsepSdp(watched.msg);
  if (!offer) throw new Error(`watch: ${JSON.stringify(watched.msg).slice(0, 300)}`);
  const lines = offer.split("\r\n");
  const candidates = lines.filter((l) => l.startsWith("a=candidate:")).map((l) => l.slice(2));
  const bare = lines.filter((l) => !l.startsWith("a=candidate:") && l !== "a=end-of-candidates")
    .join("\r\n");
  const { id, sdp } = await host.call("accept", { sdp: bare });
  m.peer = id;
  const started = pluginData(
    (await sig.message(session, handle, { request: "start" }, { type: "answer", sdp })).msg,
  );
  const status = (started.result as { status?: unknown } | undefined)?.status;
  if (status !== "starting" && status !== "started") {
    throw new Error(`start: ${JSON.stringify(started).slice(0, 300)}`);
  }
  const mid = /^a=mid:(\S+)/m.exec(offer)?.[1] ?? "0";
  await host.call("addRemote", { id, mid, candidates });
  await trickleCandidates(host, sig, session, handle, id);
  return await upOrHangup(sig, handle, "viewer webrtcup") - sent;
}

/** Runs the ramp against one server. */
export async function viewersRun(
  server: MediaServer,
  host: ReceiverHost,
  options: ViewersOptions,
  log: Log,
): Promise<ViewersResult> {
  const result: ViewersResult = {
    baselineCpuPercent: undefined,
    baselineByProcess: "",
    steps: [],
    errors: 0,
    firstError: undefined,
  };
  const f = (v: number | undefined, d = 0) => v === undefined ? "-" : v.toFixed(d);
  try {
    await sleep(options.settle * 1000);
    const base = await startCpu(server.pids);
    await sleep(options.seconds * 1000);
    const baseline = await base();
    result.baselineCpuPercent = percentOfCore(baseline);
    result.baselineByProcess = perProcessText(baseline);
    log(
      `  streaming no viewer ${server.name.padEnd(9)} server CPU ` +
        `${f(result.baselineCpuPercent, 1)}% (${result.baselineByProcess})`,
    );
    for (const n of options.viewers) {
      const step = await viewersStep(server, host, n, options, result);
      result.steps.push(step);
      log(stepText(server, step));
    }
  } catch (e) {
    result.errors++;
    result.firstError ??= errorText(e);
    log(`  streaming viewers ${server.name}: ${errorText(e)}`);
  } finally {
    await server.idle();
  }
  return result;
}

async function viewersStep(
  server: MediaServer,
  host: ReceiverHost,
  n: number,
  options: ViewersOptions,
  run: ViewersResult,
): Promise<ViewersStep> {
  const f = await receiversStep(server, host, n, {
    // A few at a time: signalling is not what this measures, and 64 at once would time out
    // on a small machine busy encoding the feed.
    concurrency: 8,
    open: (m) => watch(server, host, options.mountpoint, m, options.timeoutMs),
    clientPids: options.clientPids,
    settle: options.settle,
    seconds: options.seconds,
    width: options.width,
    height: options.height,
    baselineCpuPercent: run.baselineCpuPercent,
  });
  return {
    viewers: n,
    up: f.up,
    webrtcupP50Ms: f.webrtcupP50Ms,
    webrtcupMaxMs: f.webrtcupMaxMs,
    serverCpuPercent: f.serverCpuPercent,
    byProcess: f.byProcess,
    cpuPercentPerViewer: f.cpuPercentPerReceiver,
    marginalCpuPercentPerViewer: f.marginalCpuPercentPerReceiver,
    fpsMean: f.fpsMean,
    fpsMin: f.fpsMin,
    kbpsMean: f.kbpsMean,
    ppsMean: f.ppsMean,
    ppsTotal: f.received.length > 0
      ? f.received.reduce((sum, p) => sum + p.videoPps, 0)
      : undefined,
    atSize: f.atSize,
    sizes: f.sizes,
    received: f.received,
    clientCpuPercent: f.clientCpuPercent,
    errors: f.errors.length,
    firstError: f.errors[0],
  };
}

function stepText(server: MediaServer, step: ViewersStep): string {
  const f = (v: number | undefined, d = 0) => v === undefined ? "-" : v.toFixed(d);
  const n = step.viewers;
  return `  streaming ${String(n).padStart(2)} viewers ${server.name.padEnd(9)} ` +
    `up ${step.up}/${n}, webrtcup p50 ${f(step.webrtcupP50Ms)} ms max ` +
    `${f(step.webrtcupMaxMs)} ms, server CPU ${f(step.serverCpuPercent, 1)}% ` +
    `(${f(step.cpuPercentPerViewer, 2)}%/viewer, marginal ` +
    `${f(step.marginalCpuPercentPerViewer, 2)}%; ${step.byProcess}), received ` +
    `${f(step.fpsMean, 1)} fps (min ${f(step.fpsMin, 1)}) ${f(step.kbpsMean)} kbit/s ` +
    `${f(step.ppsMean)} pkt/s, ${step.sizes || "-"}; client CPU ${f(step.clientCpuPercent, 0)}%` +
    (step.firstError ? `; ${step.errors} errors, first: ${step.firstError}` : "");
}
