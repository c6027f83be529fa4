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
  type Opened,
  openHandle,
  type PeerWindow,
  release,
  trickleCandidates,
  upOrHangup,
} from "../media/call.ts";
import { errorText, percentOfCore, perProcessText, sleep, startCpu } from "../media/cpu.ts";
import type { SentVideo } from "../media/protocol.ts";
import type { ClientHost, Log, MediaServer, ReceiverHost } from "../media/server.ts";
import { jsepSdp, pluginData } from "../media/signal.ts";
import { createRoom, VIDEOROOM } from "./room.ts";
import { receiversStep } from "../media/receivers_step.ts";

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
  roundCpuPercent?: number[];
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
  let sent: SentVideo | undefined;
  const f = await receiversStep(server, host, n, {
    concurrency: n,
    open: (m) => subscribe(server, host, room, feed, m, options.timeoutMs),
    clientPids: [hosts.publisher.pid, host.pid],
    settle: options.settle,
    seconds: options.seconds,
    width: options.width,
    height: options.height,
    baselineCpuPercent: run.baselineCpuPercent,
    afterWindow: async () => {
      sent = await publisherSent();
    },
  });
  return {
    subscribers: n,
    up: f.up,
    webrtcupP50Ms: f.webrtcupP50Ms,
    webrtcupMaxMs: f.webrtcupMaxMs,
    serverCpuPercent: f.serverCpuPercent,
    mainCpuPercent: f.mainCpuPercent,
    byProcess: f.byProcess,
    cpuPercentPerSubscriber: f.cpuPercentPerReceiver,
    marginalCpuPercentPerSubscriber: f.marginalCpuPercentPerReceiver,
    fps: f.received.map((p) => p.fps),
    fpsMean: f.fpsMean,
    fpsMin: f.fpsMin,
    received: f.received,
    kbpsMean: f.kbpsMean,
    ppsMean: f.ppsMean,
    atSize: f.atSize,
    sizes: f.sizes,
    publisherSent: sent,
    clientCpuPercent: f.clientCpuPercent,
    errors: f.errors.length,
    firstError: f.errors[0],
  };
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
