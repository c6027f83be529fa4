/**
 * The AudioBridge ramp on one server: for each N of the ramp, a fresh room (the same `create`
 * on both servers) and N participants (each its own WebSocket, session and handle; wrtc peers
 * of the client hosts, spread over them) that join with their offer, all sending a tone and
 * receiving the room's mix-minus. Once all are up and settled, a steady window measures the
 * server's CPU and, per participant, the packets received and the samples NetEq concealed
 * (audio that did not arrive in time). Everyone leaves and the room is destroyed before the
 * next step.
 *
 * @module
 */
import { type Opened, openHandle, upOrHangup } from "../media/call.ts";
import {
  errorText,
  mean,
  percentOfCore,
  perProcessText,
  pool,
  quantile,
  sleep,
  startCpu,
} from "../media/cpu.ts";
import type { RpcChild } from "../media/rpc_child.ts";
import type { Log, MediaServer } from "../media/server.ts";
import { readSystemBusySeconds } from "../proc.ts";
import { jsepSdp, pluginData } from "../media/signal.ts";
import type { ParticipantEvents, ParticipantMethods, ReceivedAudio } from "./protocol.ts";
import { startRunQueueWait } from "./run_queue.ts";

export const AUDIOBRIDGE = "janus.plugin.audiobridge";

/** A wrtc client process holding participants. */
export type ParticipantHost = RpcChild<ParticipantMethods, ParticipantEvents>;

/** One participant over the measured window. */
export interface ParticipantWindow {
  state: string;
  /** Audio packets received per second (the mix: 50 at 20 ms). */
  pps: number;
  packetsLost: number;
  /** Concealed samples / samples played out over the window, in %. */
  concealedPercent: number;
  concealmentEvents: number;
  /** RMS level of what was played out over the window (0..1); 0 = silence. */
  level: number;
}

/** One step (N participants) on one server. */
export interface RoomStep {
  participants: number;
  /** Participants that reached webrtcup. */
  up: number;
  /** `join` sent → webrtcup, in ms. */
  webrtcupP50Ms: number | undefined;
  webrtcupMaxMs: number | undefined;
  serverCpuPercent: number | undefined;
  /** CPU % of one core of each server process, labelled. */
  byProcess: string;
  /** Server CPU % of one core / participants. */
  cpuPercentPerParticipant: number | undefined;
  ppsMean: number | undefined;
  ppsMin: number | undefined;
  concealedMeanPercent: number | undefined;
  /** The worst participant's concealed share, in %. */
  concealedWorstPercent: number | undefined;
  /** Participants with any concealed sample in the window. */
  withGaps: number;
  levelMin: number | undefined;
  received: ParticipantWindow[];
  /** CPU % of one core of the client hosts. */
  clientCpuPercent: number | undefined;
  /**
   * CPU % of one core used by every other process of the machine meanwhile: on a shared
   * machine, what the server competed with.
   */
  otherCpuPercent: number | undefined;
  /** The most any one server thread spent ready but waiting for a core, in % of the window. */
  runQueueWaitPercent: number | undefined;
  errors: number;
  firstError: string | undefined;
}

/** The ramp on one server. */
export interface RoomResult {
  steps: RoomStep[];
  errors: number;
  firstError: string | undefined;
}

/** Settings of the ramp. */
export interface RampOptions {
  participants: readonly number[];
  /** Room id on the server (created per step, destroyed after it). */
  room: number;
  rate: number;
  seconds: number;
  settle: number;
  timeoutMs: number;
}

/** A participant's connection so far (to tear down whatever exists). */
interface Member extends Opened {
  host: ParticipantHost;
}

/**
 * `call` of a client host, bounded by `timeoutMs`: a host whose wrtc stalls fails the
 * participant instead of the phase.
 */
async function hostCall<K extends keyof ParticipantMethods & string>(
  host: ParticipantHost,
  method: K,
  params: ParticipantMethods[K]["params"],
  timeoutMs: number,
): Promise<ParticipantMethods[K]["result"]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`client host ${host.pid}: no reply to ${method} in ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([host.call(method, params), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Opens a session and a handle, sends one request, closes them. */
async function roomRequest(
  server: MediaServer,
  body: Record<string, unknown>,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const o: Opened = {};
  try {
    const { sig, session, handle } = await openHandle(server, AUDIOBRIDGE, timeoutMs, o);
    return pluginData((await sig.message(session, handle, body)).msg);
  } finally {
    if (o.sig && o.session !== undefined) await o.sig.destroySession(o.session);
    await o.sig?.close();
  }
}

/** Joins room `room` with a new participant of `m.host`; resolves join → webrtcup in ms. */
async function join(
  server: MediaServer,
  m: Member,
  room: number,
  index: number,
  timeoutMs: number,
): Promise<number> {
  const { sig, session, handle } = await openHandle(server, AUDIOBRIDGE, timeoutMs, m);
  // Distinct tones (220..1770 Hz in 50 Hz steps), so that every mix differs.
  const { id, sdp } = await hostCall(
    m.host,
    "create",
    { tone: 220 + 50 * (index % 32) },
    timeoutMs,
  );
  m.peer = id;
  const sent = performance.now();
  const joined = await sig.message(
    session,
    handle,
    { request: "join", room, display: `bench${index}` },
    { type: "offer", sdp },
  );
  const answer = jsepSdp(joined.msg);
  if (pluginData(joined.msg).audiobridge !== "joined" || !answer) {
    throw new Error(`join: ${JSON.stringify(joined.msg).slice(0, 300)}`);
  }
  await hostCall(m.host, "answer", { id, sdp: answer }, timeoutMs);
  // Every candidate was in the offer.
  await sig.trickle(session, handle, []);
  return await upOrHangup(sig, handle, "participant webrtcup") - sent;
}

/** Ends the session, closes the socket and the participant (best effort). */
async function release(m: Member, timeoutMs: number): Promise<void> {
  if (m.sig && m.session !== undefined) await m.sig.destroySession(m.session);
  await m.sig?.close();
  if (m.peer !== undefined) {
    await hostCall(m.host, "close", { id: m.peer }, timeoutMs).catch(() => {});
  }
}

/** What each member received so far (one call per host). */
async function received(
  members: readonly Member[],
  timeoutMs: number,
): Promise<ReceivedAudio[]> {
  const hosts = [...new Set(members.map((m) => m.host))];
  const byHost = new Map<ParticipantHost, ReceivedAudio[]>();
  await Promise.all(hosts.map(async (host) => {
    const ids = members.filter((m) => m.host === host).map((m) => m.peer ?? -1);
    byHost.set(host, (await hostCall(host, "received", { ids }, timeoutMs)).peers);
  }));
  const next = new Map<ParticipantHost, number>();
  return members.map((m) => {
    const i = next.get(m.host) ?? 0;
    next.set(m.host, i + 1);
    return byHost.get(m.host)![i]!;
  });
}

/** What each participant received between two readings. */
export function windowOf(
  before: ReceivedAudio,
  after: ReceivedAudio,
  seconds: number,
): ParticipantWindow {
  const samples = after.totalSamplesReceived - before.totalSamplesReceived;
  const duration = after.totalSamplesDuration - before.totalSamplesDuration;
  const energy = after.totalAudioEnergy - before.totalAudioEnergy;
  return {
    state: after.state,
    pps: (after.packetsReceived - before.packetsReceived) / seconds,
    packetsLost: after.packetsLost - before.packetsLost,
    // No sample played out at all is a gap as long as the window.
    concealedPercent: samples > 0
      ? (after.concealedSamples - before.concealedSamples) / samples * 100
      : 100,
    concealmentEvents: after.concealmentEvents - before.concealmentEvents,
    level: duration > 0 ? Math.sqrt(Math.max(0, energy) / duration) : 0,
  };
}

/** Runs the ramp against one server. */
export async function roomRun(
  server: MediaServer,
  hosts: readonly ParticipantHost[],
  options: RampOptions,
  log: Log,
): Promise<RoomResult> {
  const result: RoomResult = { steps: [], errors: 0, firstError: undefined };
  try {
    for (const n of options.participants) {
      const step = await roomStep(server, hosts, n, options);
      result.steps.push(step);
      log(stepText(server, step));
    }
  } catch (e) {
    result.errors++;
    result.firstError ??= errorText(e);
    log(`  audiobridge ${server.name}: ${errorText(e)}`);
  } finally {
    await server.idle();
  }
  return result;
}

async function roomStep(
  server: MediaServer,
  hosts: readonly ParticipantHost[],
  n: number,
  options: RampOptions,
): Promise<RoomStep> {
  const created = await roomRequest(server, {
    request: "create",
    room: options.room,
    description: "bench",
    sampling_rate: options.rate,
  }, options.timeoutMs);
  if (created.audiobridge !== "created") {
    throw new Error(`create on ${server.name}: ${JSON.stringify(created).slice(0, 300)}`);
  }
  const errors: string[] = [];
  const members: Member[] = Array.from({ length: n }, (_, i) => ({
    host: hosts[i % hosts.length]!,
  }));
  const step: RoomStep = {
    participants: n,
    up: 0,
    webrtcupP50Ms: undefined,
    webrtcupMaxMs: undefined,
    serverCpuPercent: undefined,
    byProcess: "",
    cpuPercentPerParticipant: undefined,
    ppsMean: undefined,
    ppsMin: undefined,
    concealedMeanPercent: undefined,
    concealedWorstPercent: undefined,
    withGaps: 0,
    levelMin: undefined,
    received: [],
    clientCpuPercent: undefined,
    otherCpuPercent: undefined,
    runQueueWaitPercent: undefined,
    errors: 0,
    firstError: undefined,
  };
  try {
    // A few at a time: signalling is not what this measures.
    const times = await pool(members, 4, async (m, i) => {
      try {
        return await join(server, m, options.room, i, options.timeoutMs);
      } catch (e) {
        errors.push(errorText(e));
        return undefined;
      }
    });
    const upMs = times.filter((t): t is number => t !== undefined);
    step.up = upMs.length;
    step.webrtcupP50Ms = quantile(upMs, 0.5);
    step.webrtcupMaxMs = upMs.length > 0 ? Math.max(...upMs) : undefined;
    const live = members.filter((_, i) => times[i] !== undefined);
    if (live.length > 0) {
      await sleep(options.settle * 1000);
      const serverCpu = await startCpu(server.pids);
      const serverWait = await startRunQueueWait(server.pids);
      const clientCpu = await startCpu(() => Promise.resolve(hosts.map((h) => h.pid)));
      const before = await received(live, options.timeoutMs);
      const busy0 = readSystemBusySeconds();
      const t0 = performance.now();
      await sleep(options.seconds * 1000);
      const after = await received(live, options.timeoutMs);
      const elapsed = (performance.now() - t0) / 1000;
      const s = await serverCpu();
      step.runQueueWaitPercent = await serverWait();
      const busy1 = readSystemBusySeconds();
      const peers = after.map((a, i) => windowOf(before[i] ?? a, a, elapsed));
      step.received = peers;
      step.serverCpuPercent = percentOfCore(s);
      step.byProcess = perProcessText(s);
      step.cpuPercentPerParticipant = step.serverCpuPercent / live.length;
      const c = await clientCpu();
      step.clientCpuPercent = percentOfCore(c);
      if (busy0 !== undefined && busy1 !== undefined) {
        const other = busy1 - busy0 - s.cpuSeconds - c.cpuSeconds;
        step.otherCpuPercent = Math.max(0, other) / elapsed * 100;
      }
      const pps = peers.map((p) => p.pps);
      step.ppsMean = mean(pps);
      step.ppsMin = Math.min(...pps);
      const concealed = peers.map((p) => p.concealedPercent);
      step.concealedMeanPercent = mean(concealed);
      step.concealedWorstPercent = Math.max(...concealed);
      step.withGaps = concealed.filter((c) => c > 0).length;
      step.levelMin = Math.min(...peers.map((p) => p.level));
      if (s.lost.length > 0) errors.push(`server processes gone during the window: ${s.lost}`);
    }
  } finally {
    await pool(members, 8, (m) => release(m, options.timeoutMs));
    await roomRequest(server, { request: "destroy", room: options.room }, options.timeoutMs)
      .catch((e) => errors.push(`destroy: ${errorText(e)}`));
    await sleep(300);
  }
  step.errors = errors.length;
  step.firstError = errors[0];
  return step;
}

function stepText(server: MediaServer, step: RoomStep): string {
  const f = (v: number | undefined, d = 0) => v === undefined ? "-" : v.toFixed(d);
  const n = step.participants;
  return `  audiobridge ${String(n).padStart(2)} participants ${server.name.padEnd(9)} ` +
    `up ${step.up}/${n}, webrtcup p50 ${f(step.webrtcupP50Ms)} ms, server CPU ` +
    `${f(step.serverCpuPercent, 1)}% (${f(step.cpuPercentPerParticipant, 2)}%/participant; ` +
    `${step.byProcess}), received ${f(step.ppsMean, 1)} pkt/s (min ${f(step.ppsMin, 1)}), ` +
    `concealed mean ${f(step.concealedMeanPercent, 3)}% worst ` +
    `${f(step.concealedWorstPercent, 3)}% (${step.withGaps} with gaps), level min ` +
    `${f(step.levelMin, 3)}; client CPU ${f(step.clientCpuPercent, 0)}%, other processes ` +
    `${f(step.otherCpuPercent, 0)}%, server thread waiting for a core up to ` +
    `${f(step.runQueueWaitPercent, 0)}%` +
    (step.firstError ? `; ${step.errors} errors, first: ${step.firstError}` : "");
}
