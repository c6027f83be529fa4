/**
 * One step of a one-to-many ramp (VideoRoom subscribers, Streaming viewers): N receivers of
 * the receiver host opened a few at a time, one measured window (server and client CPU, and
 * what each receiver got), then every receiver released.
 *
 * @module
 */
import {
  counting,
  measureWindow,
  type Opened,
  type PeerWindow,
  type ReceivedSummary,
  release,
  summarize,
} from "./call.ts";
import { errorText, percentOfCore, perProcessText, pool, quantile, sleep } from "./cpu.ts";
import type { MediaServer, ReceiverHost } from "./server.ts";

/** How the step runs. */
export interface ReceiversStepOptions {
  /** Receivers opened (and released) at once. */
  concurrency: number;
  /** Opens one receiver up to webrtcup; resolves the ms it took. */
  open(m: Opened): Promise<number>;
  clientPids: readonly number[];
  settle: number;
  seconds: number;
  width: number;
  height: number;
  /** Server CPU % with no receiver, for the marginal cost. */
  baselineCpuPercent: number | undefined;
  /** Run after the window, while the receivers are still up. */
  afterWindow?: () => Promise<void>;
}

/** What the step measured (figures undefined when no receiver came up). */
export interface ReceiversFigures extends ReceivedSummary {
  up: number;
  webrtcupP50Ms: number | undefined;
  webrtcupMaxMs: number | undefined;
  received: PeerWindow[];
  serverCpuPercent: number | undefined;
  /** CPU % of one core of the server's first process. */
  mainCpuPercent: number | undefined;
  byProcess: string;
  cpuPercentPerReceiver: number | undefined;
  marginalCpuPercentPerReceiver: number | undefined;
  clientCpuPercent: number | undefined;
  errors: string[];
}

/** Opens `n` receivers, measures one window, releases them. */
export async function receiversStep(
  server: MediaServer,
  host: ReceiverHost,
  n: number,
  options: ReceiversStepOptions,
): Promise<ReceiversFigures> {
  const errors: string[] = [];
  const members: Opened[] = Array.from({ length: n }, () => ({}));
  const times = await pool(members, options.concurrency, async (m) => {
    try {
      return await options.open(m);
    } catch (e) {
      errors.push(errorText(e));
      return undefined;
    }
  });
  const upMs = times.filter((t): t is number => t !== undefined);
  const figures: ReceiversFigures = {
    up: upMs.length,
    webrtcupP50Ms: quantile(upMs, 0.5),
    webrtcupMaxMs: upMs.length > 0 ? Math.max(...upMs) : undefined,
    received: [],
    fpsMean: undefined,
    fpsMin: undefined,
    kbpsMean: undefined,
    ppsMean: undefined,
    atSize: 0,
    sizes: "",
    serverCpuPercent: undefined,
    mainCpuPercent: undefined,
    byProcess: "",
    cpuPercentPerReceiver: undefined,
    marginalCpuPercentPerReceiver: undefined,
    clientCpuPercent: undefined,
    errors,
  };
  try {
    const ids = members.flatMap((m, i) => times[i] !== undefined && m.peer ? [m.peer] : []);
    if (ids.length > 0) {
      const w = await measureWindow(
        server,
        counting(host),
        options.clientPids,
        ids,
        options.settle,
        options.seconds,
      );
      const s = w.server;
      await options.afterWindow?.();
      const got = summarize(w.peers, options.width, options.height);
      const cpu = percentOfCore(s);
      Object.assign(figures, {
        received: w.peers,
        fpsMean: got.fpsMean,
        fpsMin: got.fpsMin,
        kbpsMean: got.kbpsMean,
        ppsMean: got.ppsMean,
        atSize: got.atSize,
        sizes: got.sizes,
        serverCpuPercent: cpu,
        mainCpuPercent: (s.perPid[0] ?? 0) / s.wallSeconds * 100,
        byProcess: perProcessText(s),
        cpuPercentPerReceiver: cpu / ids.length,
        marginalCpuPercentPerReceiver: options.baselineCpuPercent === undefined
          ? undefined
          : (cpu - options.baselineCpuPercent) / ids.length,
        clientCpuPercent: percentOfCore(await w.client()),
      });
      if (s.lost.length > 0) errors.push(`server processes gone during the window: ${s.lost}`);
    }
  } finally {
    await pool(members, options.concurrency, (m) => release(host, m));
    await sleep(300);
  }
  return figures;
}
