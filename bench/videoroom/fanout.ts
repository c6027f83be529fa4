/**
 * VideoRoom fan-out with real media: one wrtc publisher (320x240 pattern at 30 fps + tone,
 * sendonly) in a fresh room, then for each N of the ramp, N fresh subscribers to its feed
 * (each its own WebSocket and session). Per step: join → webrtcup times of the subscribers,
 * server CPU over a steady window and the frames each subscriber decoded. A first window
 * with the publisher alone gives the baseline that the marginal cost per subscriber uses.
 *
 * @module
 */
import {
  answerAndTrickle,
  measureWindow,
  type Opened,
  openHandle,
  release,
  trickleCandidates,
  upOrHangup,
} from "../media/call.ts";
import { errorText, mean, percentOfCore, pool, quantile, sleep, startCpu } from "../media/cpu.ts";
import type { ClientHost, Log, MediaServer } from "../media/server.ts";
import { jsepSdp, pluginData } from "../media/signal.ts";
import { createRoom, VIDEOROOM } from "./room.ts";

/** One step (N subscribers) on one server. */
export interface FanoutStep {
  subscribers: number;
  /** Subscribers that reached webrtcup. */
  up: number;
  /** Subscriber join sent → webrtcup, in ms. */
  webrtcupP50Ms: number | undefined;
  webrtcupMaxMs: number | undefined;
  serverCpuPercent: number | undefined;
  /** CPU % of one core of the server's first process (ours: the gateway, without workers). */
  mainCpuPercent: number | undefined;
  /** Server CPU % of one core divided by the subscribers (the publisher's share included). */
  cpuPercentPerSubscriber: number | undefined;
  /** (CPU − CPU with the publisher alone) / subscribers. */
  marginalCpuPercentPerSubscriber: number | undefined;
  /** Frames decoded per second by each subscriber over the window. */
  fps: number[];
  fpsMean: number | undefined;
  fpsMin: number | undefined;
  clientCpuPercent: number | undefined;
  errors: number;
  firstError: string | undefined;
}

/** The fan-out run on one server. */
export interface FanoutResult {
  /** Server CPU % of one core with the publisher alone. */
  baselineCpuPercent: number | undefined;
  steps: FanoutStep[];
  errors: number;
  firstError: string | undefined;
}

/** Settings of the run. */
export interface FanoutOptions {
  subscribers: readonly number[];
  seconds: number;
  settle: number;
  timeoutMs: number;
}

/** Joins `room` as a publisher with a new wrtc peer, up to webrtcup; returns its feed id. */
export async function publish(
  server: MediaServer,
  host: ClientHost,
  room: number,
  m: Opened,
  timeoutMs: number,
  display = "bench-publisher",
): Promise<number> {
  const { sig, session, handle } = await openHandle(server, VIDEOROOM, timeoutMs, m);
  const joined = pluginData(
    (await sig.message(session, handle, {
      request: "join",
      ptype: "publisher",
      room,
      display,
    })).msg,
  );
  const feed = joined.id;
  if (joined.videoroom !== "joined" || typeof feed !== "number") {
    throw new Error(`publisher join: ${JSON.stringify(joined).slice(0, 300)}`);
  }
  const { id } = await host.call("create", { kind: "publisher" });
  m.peer = id;
  const { sdp } = await host.call("offer", { id });
  const configured = await sig.message(session, handle, {
    request: "configure",
    audio: true,
    video: true,
  }, { type: "offer", sdp });
  const answer = jsepSdp(configured.msg);
  if (!answer) throw new Error(`configure: no answer in ${JSON.stringify(configured.msg)}`);
  await answerAndTrickle(host, sig, session, handle, id, answer);
  await upOrHangup(sig, handle, "publisher webrtcup");
  return feed;
}

async function subscribe(
  server: MediaServer,
  host: ClientHost,
  room: number,
  feed: number,
  m: Opened,
  timeoutMs: number,
): Promise<number> {
  const { sig, session, handle } = await openHandle(server, VIDEOROOM, timeoutMs, m);
  const sent = performance.now();
  const attached = await sig.message(session, handle, {
    request: "join",
    ptype: "subscriber",
    room,
    streams: [{ feed }],
  });
  const offer = jsepSdp(attached.msg);
  if (pluginData(attached.msg).videoroom !== "attached" || !offer) {
    throw new Error(`subscriber join: ${JSON.stringify(attached.msg).slice(0, 300)}`);
  }
  const { id } = await host.call("create", { kind: "subscriber" });
  m.peer = id;
  const { sdp } = await host.call("accept", { id, sdp: offer });
  const started = await sig.message(session, handle, { request: "start", room }, {
    type: "answer",
    sdp,
  });
  if (pluginData(started.msg).started !== "ok") {
    throw new Error(`start: ${JSON.stringify(started.msg).slice(0, 300)}`);
  }
  await trickleCandidates(host, sig, session, handle, id);
  return await upOrHangup(sig, handle, "subscriber webrtcup") - sent;
}

/** Runs the ramp against one server. */
export async function fanoutRun(
  server: MediaServer,
  host: ClientHost,
  options: FanoutOptions,
  log: Log,
): Promise<FanoutResult> {
  const { timeoutMs } = options;
  const result: FanoutResult = {
    baselineCpuPercent: undefined,
    steps: [],
    errors: 0,
    firstError: undefined,
  };
  const room = await createRoom(server.wsUrl, { publishers: 300 }, timeoutMs);
  const publisher: Opened = {};
  const f = (v: number | undefined, d = 0) => v === undefined ? "-" : v.toFixed(d);
  try {
    const feed = await publish(server, host, room.id, publisher, timeoutMs);
    await sleep(options.settle * 1000);
    const base = await startCpu(server.pids);
    await sleep(options.seconds * 1000);
    result.baselineCpuPercent = percentOfCore(await base());
    log(
      `  videoroom publisher alone ${server.name.padEnd(9)} server CPU ` +
        `${f(result.baselineCpuPercent, 1)}%`,
    );
    for (const n of options.subscribers) {
      result.steps.push(await fanoutStep(server, host, room.id, feed, n, options, result, log));
    }
  } catch (e) {
    result.errors++;
    result.firstError ??= errorText(e);
    log(`  videoroom fan-out ${server.name}: ${errorText(e)}`);
  } finally {
    await release(host, publisher);
    await room.destroy();
    await server.idle();
  }
  return result;
}

async function fanoutStep(
  server: MediaServer,
  host: ClientHost,
  room: number,
  feed: number,
  n: number,
  options: FanoutOptions,
  run: FanoutResult,
  log: Log,
): Promise<FanoutStep> {
  const errors: string[] = [];
  const members: Opened[] = Array.from({ length: n }, () => ({}));
  const times = await pool(members, n, async (m) => {
    try {
      return await subscribe(server, host, room, feed, m, options.timeoutMs);
    } catch (e) {
      errors.push(errorText(e));
      return undefined;
    }
  });
  const upMs = times.filter((t): t is number => t !== undefined);
  const step: FanoutStep = {
    subscribers: n,
    up: upMs.length,
    webrtcupP50Ms: quantile(upMs, 0.5),
    webrtcupMaxMs: upMs.length > 0 ? Math.max(...upMs) : undefined,
    serverCpuPercent: undefined,
    mainCpuPercent: undefined,
    cpuPercentPerSubscriber: undefined,
    marginalCpuPercentPerSubscriber: undefined,
    fps: [],
    fpsMean: undefined,
    fpsMin: undefined,
    clientCpuPercent: undefined,
    errors: 0,
    firstError: undefined,
  };
  try {
    const ids = members.flatMap((m, i) => times[i] !== undefined && m.peer ? [m.peer] : []);
    if (ids.length > 0) {
      const w = await measureWindow(server, host, ids, options.settle, options.seconds);
      const s = w.server;
      step.fps = w.fps;
      step.fpsMean = mean(step.fps);
      step.fpsMin = Math.min(...step.fps);
      step.serverCpuPercent = percentOfCore(s);
      step.mainCpuPercent = (s.perPid[0] ?? 0) / s.wallSeconds * 100;
      step.cpuPercentPerSubscriber = step.serverCpuPercent / ids.length;
      if (run.baselineCpuPercent !== undefined) {
        step.marginalCpuPercentPerSubscriber = (step.serverCpuPercent - run.baselineCpuPercent) /
          ids.length;
      }
      step.clientCpuPercent = percentOfCore(await w.client());
      if (s.lost.length > 0) errors.push(`server processes gone during the window: ${s.lost}`);
    }
  } finally {
    await Promise.all(members.map((m) => release(host, m)));
    await sleep(300);
  }
  step.errors = errors.length;
  step.firstError = errors[0];
  const f = (v: number | undefined, d = 0) => v === undefined ? "-" : v.toFixed(d);
  log(
    `  videoroom ${String(n).padStart(2)} subscribers ${server.name.padEnd(9)} ` +
      `up ${step.up}/${n}, webrtcup p50 ${f(step.webrtcupP50Ms)} ms max ` +
      `${f(step.webrtcupMaxMs)} ms, server CPU ${f(step.serverCpuPercent, 1)}% ` +
      `(${f(step.cpuPercentPerSubscriber, 1)}%/subscriber, first process ` +
      `${f(step.mainCpuPercent, 1)}%, marginal ` +
      `${f(step.marginalCpuPercentPerSubscriber, 1)}%), decoded ${f(step.fpsMean, 1)} fps ` +
      `(min ${f(step.fpsMin, 1)}), client CPU ${f(step.clientCpuPercent, 0)}%` +
      (step.firstError ? `; ${step.errors} errors, first: ${step.firstError}` : ""),
  );
  return step;
}
