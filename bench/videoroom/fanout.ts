/**
 * VideoRoom fan-out with real media: one wrtc publisher (W×H noisy video at 30 fps, camera-like
 * bitrate, + tone, sendonly) in a fresh room, then for each N of the ramp, N fresh subscribers
 * to its feed (each its own WebSocket and session; node-datachannel peers of the receiver host
 * that count RTP without decoding). Per step: join → webrtcup times of the subscribers, server
 * CPU over a steady window, and per subscriber the frames, bitrate and keyframe size received;
 * the publisher's own sent size and limitation. A first window with the publisher alone gives
 * the baseline that the marginal cost per subscriber uses.
 *
 * @module
 */
import {
  answerAndTrickle,
  counting,
  measureWindow,
  type Opened,
  openHandle,
  type PeerWindow,
  release,
  summarize,
  trickleCandidates,
  upOrHangup,
} from "../media/call.ts";
import {
  errorText,
  percentOfCore,
  perProcessText,
  pool,
  quantile,
  sleep,
  startCpu,
} from "../media/cpu.ts";
import type { SentVideo } from "../media/protocol.ts";
import type { ClientHost, Log, MediaServer, ReceiverHost } from "../media/server.ts";
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
  /** CPU % of one core of each server process, labelled (gateway, rtp worker, wrtc worker). */
  byProcess: string;
  /** Server CPU % of one core divided by the subscribers (the publisher's share included). */
  cpuPercentPerSubscriber: number | undefined;
  /** (CPU − CPU with the publisher alone) / subscribers. */
  marginalCpuPercentPerSubscriber: number | undefined;
  /** With several rounds: each round's CPU per subscriber (this step is their median). */
  roundCpuPercentPerSubscriber?: number[];
  /** Frames per second each subscriber received over the window (marker bits). */
  fps: number[];
  fpsMean: number | undefined;
  fpsMin: number | undefined;
  /** Per subscriber: fps, kbit/s, packets/s, last keyframe's size. */
  received: PeerWindow[];
  kbpsMean: number | undefined;
  /** Video packets/s per subscriber, mean. */
  ppsMean: number | undefined;
  /** Subscribers whose last keyframe had the publisher's size, and the sizes seen. */
  atSize: number;
  sizes: string;
  /** What the publisher sent at the end of the window (its outbound-rtp). */
  publisherSent: SentVideo | undefined;
  /** CPU % of one core of the publisher's and the subscribers' client processes. */
  clientCpuPercent: number | undefined;
  errors: number;
  firstError: string | undefined;
}

/** The fan-out run on one server. */
export interface FanoutResult {
  /** Server CPU % of one core with the publisher alone. */
  baselineCpuPercent: number | undefined;
  /** Its split by process (`perProcessText`). */
  baselineByProcess: string;
  /** What the publisher sent at the end of that window. */
  baselineSent: SentVideo | undefined;
  steps: FanoutStep[];
  errors: number;
  firstError: string | undefined;
}

/** Settings of the run. */
export interface FanoutOptions {
  subscribers: readonly number[];
  /** Size of the publisher's video. */
  width: number;
  height: number;
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
  video: { width: number; height: number; noise: boolean } = {
    width: 320,
    height: 240,
    noise: false,
  },
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
  const { id } = await host.call("create", { kind: "publisher", ...video });
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
  host: ReceiverHost,
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
  const { id, sdp } = await host.call("accept", { sdp: offer });
  m.peer = id;
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
  hosts: { publisher: ClientHost; subscribers: ReceiverHost },
  options: FanoutOptions,
  log: Log,
): Promise<FanoutResult> {
  const { timeoutMs } = options;
  const host = hosts.publisher;
  const result: FanoutResult = {
    baselineCpuPercent: undefined,
    baselineByProcess: "",
    baselineSent: undefined,
    steps: [],
    errors: 0,
    firstError: undefined,
  };
  const room = await createRoom(server.wsUrl, { publishers: 300 }, timeoutMs);
  const publisher: Opened = {};
  const f = (v: number | undefined, d = 0) => v === undefined ? "-" : v.toFixed(d);
  try {
    const video = { width: options.width, height: options.height, noise: true };
    const feed = await publish(server, host, room.id, publisher, timeoutMs, undefined, video);
    const sent = async () =>
      publisher.peer === undefined
        ? undefined
        : (await host.call("counts", { ids: [publisher.peer] })).peers[0]?.sent;
    await sleep(options.settle * 1000);
    const base = await startCpu(server.pids);
    await sleep(options.seconds * 1000);
    const baseline = await base();
    result.baselineCpuPercent = percentOfCore(baseline);
    result.baselineByProcess = perProcessText(baseline);
    result.baselineSent = await sent();
    log(
      `  videoroom publisher alone ${server.name.padEnd(9)} server CPU ` +
        `${f(result.baselineCpuPercent, 1)}%, publisher sends ${sentText(result.baselineSent)}`,
    );
    for (const n of options.subscribers) {
      const step = await fanoutStep(server, hosts, room.id, feed, n, options, result, sent);
      result.steps.push(step);
      log(stepText(server, step));
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
  hosts: { publisher: ClientHost; subscribers: ReceiverHost },
  room: number,
  feed: number,
  n: number,
  options: FanoutOptions,
  run: FanoutResult,
  publisherSent: () => Promise<SentVideo | undefined>,
): Promise<FanoutStep> {
  const host = hosts.subscribers;
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
    byProcess: "",
    cpuPercentPerSubscriber: undefined,
    marginalCpuPercentPerSubscriber: undefined,
    fps: [],
    fpsMean: undefined,
    fpsMin: undefined,
    received: [],
    kbpsMean: undefined,
    ppsMean: undefined,
    atSize: 0,
    sizes: "",
    publisherSent: undefined,
    clientCpuPercent: undefined,
    errors: 0,
    firstError: undefined,
  };
  try {
    const ids = members.flatMap((m, i) => times[i] !== undefined && m.peer ? [m.peer] : []);
    if (ids.length > 0) {
      const w = await measureWindow(
        server,
        counting(host),
        [hosts.publisher.pid, host.pid],
        ids,
        options.settle,
        options.seconds,
      );
      const s = w.server;
      step.publisherSent = await publisherSent();
      const got = summarize(w.peers, options.width, options.height);
      step.received = w.peers;
      step.fps = w.peers.map((p) => p.fps);
      step.fpsMean = got.fpsMean;
      step.fpsMin = got.fpsMin;
      step.kbpsMean = got.kbpsMean;
      step.ppsMean = got.ppsMean;
      step.atSize = got.atSize;
      step.sizes = got.sizes;
      step.serverCpuPercent = percentOfCore(s);
      step.mainCpuPercent = (s.perPid[0] ?? 0) / s.wallSeconds * 100;
      step.byProcess = perProcessText(s);
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
  return step;
}

function sentText(sent: SentVideo | undefined): string {
  return sent ? `${sent.width}x${sent.height} (limited by ${sent.limitation || "-"})` : "-";
}

function stepText(server: MediaServer, step: FanoutStep): string {
  const f = (v: number | undefined, d = 0) => v === undefined ? "-" : v.toFixed(d);
  const n = step.subscribers;
  return `  videoroom ${String(n).padStart(2)} subscribers ${server.name.padEnd(9)} ` +
    `up ${step.up}/${n}, webrtcup p50 ${f(step.webrtcupP50Ms)} ms max ` +
    `${f(step.webrtcupMaxMs)} ms, server CPU ${f(step.serverCpuPercent, 1)}% ` +
    `(${f(step.cpuPercentPerSubscriber, 2)}%/subscriber, first process ` +
    `${f(step.mainCpuPercent, 1)}%, marginal ` +
    `${f(step.marginalCpuPercentPerSubscriber, 2)}%), received ${f(step.fpsMean, 1)} fps ` +
    `(min ${f(step.fpsMin, 1)}) ${f(step.kbpsMean)} kbit/s ${f(step.ppsMean)} pkt/s, ` +
    `${step.sizes || "-"}; publisher sends ${sentText(step.publisherSent)}; client CPU ` +
    `${f(step.clientCpuPercent, 0)}%` +
    (step.firstError ? `; ${step.errors} errors, first: ${step.firstError}` : "");
}
