/**
 * EchoTest under load: N concurrent calls, each a wrtc client sending W×H noisy video at 30 fps
 * (camera-like bitrate, `bench_peer.ts`) plus a 440 Hz tone over the Janus API (WebSocket), set
 * up at once; then a steady window in which the server's CPU and what the clients receive back
 * (decoded frames, their size, bitrate) are counted.
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
  upOrHangup,
} from "./call.ts";
import { errorText, percentOfCore, perProcessText, pool, quantile } from "./cpu.ts";
import type { ClientHost, Log, MediaServer } from "./server.ts";
import { jsepSdp, type Signal } from "./signal.ts";

const ECHOTEST = "janus.plugin.echotest";

/** One ramp step on one server. */
export interface EchoStep {
  calls: number;
  /** Calls that reached webrtcup. */
  up: number;
  /** Offer sent → webrtcup received, per established call, in ms. */
  webrtcupMs: number[];
  webrtcupP50Ms: number | undefined;
  webrtcupMaxMs: number | undefined;
  /** Offer sent → the event carrying the answer, p50, in ms. */
  answerP50Ms: number | undefined;
  /** Server CPU over the steady window, in CPU seconds and % of one core. */
  serverCpuSeconds: number | undefined;
  serverCpuPercent: number | undefined;
  /** CPU % of one core of the server's first process (ours: the gateway, without workers). */
  mainCpuPercent: number | undefined;
  /** CPU % of one core of each server process, labelled (gateway, rtp worker, wrtc worker). */
  byProcess: string;
  /** Server CPU % of one core per established call. */
  cpuPercentPerCall: number | undefined;
  /** Echoed frames decoded per second by each client over the window. */
  fps: number[];
  fpsMean: number | undefined;
  fpsMin: number | undefined;
  /** What each client received back over the window. */
  received: PeerWindow[];
  /** Echoed video kbit/s per client, mean. */
  kbpsMean: number | undefined;
  /**
   * Server CPU µs per packet echoed (audio and video, as the clients received them): the
   * per-call figure normalised by the load, should the two servers' callers have settled at
   * different bitrates (each sender's bandwidth estimate follows its server's feedback).
   */
  cpuMicrosPerPacket: number | undefined;
  /** Clients whose last echoed frame had the size sent, and the sizes seen. */
  atSize: number;
  sizes: string;
  /** CPU % of one core of the client host over the window (context: the machine is shared). */
  clientCpuPercent: number | undefined;
  windowSeconds: number | undefined;
  /** Processes counted as the server. */
  serverPids: number[];
  errors: number;
  firstError: string | undefined;
}

/** Settings of a step. */
export interface EchoOptions {
  /** Size of the video each client sends. */
  width: number;
  height: number;
  /** Seconds of the measured window. */
  seconds: number;
  /** Seconds between the last webrtcup and the window (bitrate ramp-up). */
  settle: number;
  timeoutMs: number;
}

interface Call {
  sig: Signal;
  session: number;
  peer: number;
  answerMs: number;
  webrtcupMs: number;
}

async function startCall(
  server: MediaServer,
  host: ClientHost,
  options: EchoOptions,
  opened: Opened,
): Promise<Call> {
  const { sig, session, handle } = await openHandle(server, ECHOTEST, options.timeoutMs, opened);
  const { width, height } = options;
  const { id } = await host.call("create", { kind: "echo", width, height, noise: true });
  opened.peer = id;
  const { sdp } = await host.call("offer", { id });
  const sentAt = performance.now();
  const event = await sig.message(session, handle, { audio: true, video: true }, {
    type: "offer",
    sdp,
  });
  const answer = jsepSdp(event.msg);
  if (!answer) throw new Error(`no answer in ${JSON.stringify(event.msg).slice(0, 200)}`);
  await answerAndTrickle(host, sig, session, handle, id, answer);
  const upAt = await upOrHangup(
    sig,
    handle,
    "webrtcup",
    (reason) => `hangup before webrtcup: ${reason}`,
  );
  return { sig, session, peer: id, answerMs: event.at - sentAt, webrtcupMs: upAt - sentAt };
}

/** Sets up `calls` concurrent calls on `server`, measures a window, tears them down. */
export async function echoStep(
  server: MediaServer,
  host: ClientHost,
  calls: number,
  options: EchoOptions,
  log: Log,
): Promise<EchoStep> {
  const errors: string[] = [];
  const opened: Opened[] = Array.from({ length: calls }, () => ({}));
  const results = await pool(opened, calls, async (slot) => {
    try {
      return await startCall(server, host, options, slot);
    } catch (e) {
      errors.push(errorText(e));
      return undefined;
    }
  });
  const up = results.filter((c): c is Call => c !== undefined);
  const webrtcupMs = up.map((c) => c.webrtcupMs);
  const step: EchoStep = {
    calls,
    up: up.length,
    webrtcupMs,
    webrtcupP50Ms: quantile(webrtcupMs, 0.5),
    webrtcupMaxMs: webrtcupMs.length > 0 ? Math.max(...webrtcupMs) : undefined,
    answerP50Ms: quantile(up.map((c) => c.answerMs), 0.5),
    serverCpuSeconds: undefined,
    serverCpuPercent: undefined,
    mainCpuPercent: undefined,
    byProcess: "",
    cpuPercentPerCall: undefined,
    fps: [],
    fpsMean: undefined,
    fpsMin: undefined,
    received: [],
    kbpsMean: undefined,
    cpuMicrosPerPacket: undefined,
    atSize: 0,
    sizes: "",
    clientCpuPercent: undefined,
    windowSeconds: undefined,
    serverPids: [],
    errors: errors.length,
    firstError: errors[0],
  };
  try {
    if (up.length > 0) {
      const ids = up.map((c) => c.peer);
      const w = await measureWindow(
        server,
        counting(host),
        [host.pid],
        ids,
        options.settle,
        options.seconds,
      );
      const s = w.server;
      const c = await w.client();
      const got = summarize(w.peers, options.width, options.height);
      step.received = w.peers;
      step.fps = w.peers.map((p) => p.fps);
      step.fpsMean = got.fpsMean;
      step.fpsMin = got.fpsMin;
      step.kbpsMean = got.kbpsMean;
      const packets = w.peers.reduce((a, p) => a + p.videoPps + p.audioPps, 0) * s.wallSeconds;
      step.cpuMicrosPerPacket = packets > 0 ? s.cpuSeconds / packets * 1e6 : undefined;
      step.atSize = got.atSize;
      step.sizes = got.sizes;
      step.serverCpuSeconds = s.cpuSeconds;
      step.serverCpuPercent = percentOfCore(s);
      step.mainCpuPercent = (s.perPid[0] ?? 0) / s.wallSeconds * 100;
      step.byProcess = perProcessText(s);
      step.cpuPercentPerCall = step.serverCpuPercent / up.length;
      step.clientCpuPercent = percentOfCore(c);
      step.windowSeconds = s.wallSeconds;
      step.serverPids = s.pids;
      if (s.lost.length > 0) errors.push(`server processes gone during the window: ${s.lost}`);
      const broken = w.peers.filter((p) => p.state !== "connected").length;
      if (broken > 0) errors.push(`${broken} client peers not connected at the end`);
    }
  } finally {
    await Promise.all(opened.map((slot) => release(host, slot)));
    await server.idle();
  }
  step.errors = errors.length;
  step.firstError = errors[0];
  const f = (v: number | undefined, d = 0) => v === undefined ? "-" : v.toFixed(d);
  log(
    `  echo ${String(calls).padStart(2)} calls  ${server.name.padEnd(9)} ` +
      `up ${up.length}/${calls}, webrtcup p50 ${f(step.webrtcupP50Ms)} ms max ` +
      `${f(step.webrtcupMaxMs)} ms (answer p50 ${f(step.answerP50Ms)} ms), server CPU ${
        f(step.serverCpuPercent, 1)
      }% ` +
      `(${f(step.cpuPercentPerCall, 1)}%/call, ${
        f(step.cpuMicrosPerPacket, 1)
      } µs/packet, first process ${f(step.mainCpuPercent, 1)}%), echoed ${
        f(step.fpsMean, 1)
      } fps ` +
      `(min ${f(step.fpsMin, 1)}) ${f(step.kbpsMean)} kbit/s, ${step.sizes || "-"}, client CPU ` +
      `${f(step.clientCpuPercent, 0)}%` +
      (step.firstError ? `; ${step.errors} errors, first: ${step.firstError}` : ""),
  );
  return step;
}
