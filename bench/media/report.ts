/**
 * Tables, headline rows and JSON of the media phases (EchoTest ramp, VideoRoom join storm
 * and fan-out), ours vs the private reference.
 *
 * @module
 */
import type { FanoutResult, FanoutStep } from "../videoroom/fanout.ts";
import type { JoinResult } from "../videoroom/join.ts";
import { fmt, met, ratio, type SummaryRow, table, type Target } from "../report.ts";
import type { EchoStep } from "./echo.ts";
import type { SentVideo } from "./protocol.ts";
import type { MediaBenchResult } from "./results.ts";

/** The media targets (issue 10 for the EchoTest and the fan-out). */
export const MEDIA_TARGETS: Readonly<Record<"echoCpu" | "fanoutCpu" | "join", Target>> = {
  echoCpu: { figure: "EchoTest server CPU per call", ratioAtMost: 1.5 },
  fanoutCpu: { figure: "VideoRoom fan-out server CPU per subscriber", ratioAtMost: 1 },
  join: { figure: "VideoRoom join storm time", ratioAtMost: 0.5 },
};

/** Whether every one of `n` subscribers was up and received the size sent. */
function allAtSize(step: FanoutStep | undefined): boolean | undefined {
  if (!step) return undefined;
  return step.up === step.subscribers && step.atSize === step.subscribers;
}

function sentText(sent: SentVideo | undefined): string {
  if (!sent) return "-";
  const limited = sent.limitation && sent.limitation !== "none" ? ` (${sent.limitation})` : "";
  return `${sent.width}x${sent.height}${limited}`;
}

function x(value: number | undefined): string {
  return value === undefined ? "-" : `${value.toFixed(2)}x`;
}

function stepOf(steps: readonly EchoStep[] | undefined, calls: number): EchoStep | undefined {
  return steps?.find((s) => s.calls === calls);
}

/** EchoTest per step: setup times, server CPU, echoed fps, ours/ref of CPU per call. */
export function echoTable(result: MediaBenchResult): string {
  const rows: string[][] = [[
    "calls",
    "server",
    "up",
    "answer p50 ms",
    "webrtcup p50 ms",
    "max ms",
    "server CPU %",
    "by process %",
    "CPU %/call",
    "ours/ref per call",
    "µs/echoed pkt",
    "echoed fps mean",
    "min",
    "kbit/s",
    "echoed size",
    "client CPU %",
    "errors",
  ]];
  const calls = [...new Set(result.ours.echo.map((s) => s.calls))];
  for (const n of calls) {
    const o = stepOf(result.ours.echo, n);
    const r = stepOf(result.reference?.echo, n);
    for (const [name, s] of [["ours", o], ["reference", r]] as const) {
      if (!s) continue;
      rows.push([
        String(n),
        name,
        `${s.up}/${s.calls}`,
        fmt(s.answerP50Ms),
        fmt(s.webrtcupP50Ms),
        fmt(s.webrtcupMaxMs),
        fmt(s.serverCpuPercent, 1),
        s.byProcess,
        fmt(s.cpuPercentPerCall, 2),
        name === "ours" ? x(ratio(o?.cpuPercentPerCall, r?.cpuPercentPerCall)) : "",
        fmt(s.cpuMicrosPerPacket, 1),
        fmt(s.fpsMean, 1),
        fmt(s.fpsMin, 1),
        fmt(s.kbpsMean),
        s.sizes || "-",
        fmt(s.clientCpuPercent, 0),
        fmt(s.errors),
      ]);
    }
  }
  return table(rows);
}

/** The join storm: best time, rounds, latencies, events by kind. */
export function joinTable(result: MediaBenchResult): string {
  const rows: string[][] = [[
    "server",
    "timed",
    "joined",
    "best s",
    "rounds s",
    "each p50 ms",
    "max ms",
    "join req p50 ms",
    "joined ev",
    "joining ev",
    "publishers ev",
    "other ev",
    "total ev",
    "delivered s",
    "server CPU s",
    "client CPU s",
    "errors",
  ]];
  const runs = [["ours", result.ours], ["reference", result.reference]] as const;
  for (const key of ["join", "joinOnly", "joinLarge"] as const) {
    for (const [name, t] of runs) {
      const j = t?.[key];
      if (j) rows.push(joinRow(name, j));
    }
  }
  return table(rows);
}

function joinRow(name: string, j: JoinResult): string[] {
  return [
    name,
    j.preconnected ? "join alone" : "connect+join",
    `${j.joined}/${j.participants}`,
    fmt(j.joinSeconds, 3),
    j.roundSeconds.map((s) => fmt(s, 3)).join(" "),
    fmt(j.joinP50Ms, 1),
    fmt(j.joinMaxMs, 1),
    fmt(j.joinRequestP50Ms, 2),
    fmt(j.events.joined),
    `${fmt(j.events.joining)}/${fmt(j.expectedJoining)}`,
    fmt(j.events.publishers),
    fmt(j.events.other),
    fmt(j.events.total),
    fmt(j.deliveredSeconds, 3),
    fmt(j.serverCpuSeconds, 2),
    fmt(j.clientCpuSeconds, 3),
    fmt(j.errors),
  ];
}

function fanoutStep(f: FanoutResult | undefined, n: number) {
  return f?.steps.find((s) => s.subscribers === n);
}

/** The fan-out per step (0 = the publisher alone). */
export function fanoutTable(result: MediaBenchResult): string {
  const { width, height } = result.video;
  const rows: string[][] = [[
    "subscribers",
    "server",
    "up",
    "webrtcup p50 ms",
    "server CPU %",
    "by process %",
    "CPU %/sub",
    "rounds %/sub",
    "ours/ref per sub",
    "marginal %/sub",
    "fps/sub mean",
    "min",
    "kbit/s/sub",
    "pkt/s/sub",
    `at ${width}x${height}`,
    "received sizes",
    "publisher sends",
    "client CPU %",
    "errors",
  ]];
  const o = result.ours.fanout;
  const r = result.reference?.fanout;
  for (const [name, f] of [["ours", o], ["reference", r]] as const) {
    if (!f) continue;
    const row = Array.from({ length: rows[0]!.length }, () => "");
    row[0] = "0";
    row[1] = name;
    row[4] = fmt(f.baselineCpuPercent, 1);
    row[5] = f.baselineByProcess;
    row[16] = sentText(f.baselineSent);
    rows.push(row);
  }
  for (const n of o?.steps.map((s) => s.subscribers) ?? []) {
    for (const [name, f] of [["ours", o], ["reference", r]] as const) {
      const s = fanoutStep(f, n);
      if (!s) continue;
      rows.push([
        String(n),
        name,
        `${s.up}/${s.subscribers}`,
        fmt(s.webrtcupP50Ms),
        fmt(s.serverCpuPercent, 1),
        s.byProcess,
        fmt(s.cpuPercentPerSubscriber, 2),
        (s.roundCpuPercent ?? []).map((v) => v.toFixed(2)).join("/") || "-",
        name === "ours"
          ? x(ratio(s.cpuPercentPerSubscriber, fanoutStep(r, n)?.cpuPercentPerSubscriber))
          : "",
        fmt(s.marginalCpuPercentPerSubscriber, 2),
        fmt(s.fpsMean, 1),
        fmt(s.fpsMin, 1),
        fmt(s.kbpsMean),
        fmt(s.ppsMean),
        `${s.atSize}/${s.subscribers}`,
        s.sizes || "-",
        sentText(s.publisherSent),
        fmt(s.clientCpuPercent, 0),
        fmt(s.errors),
      ]);
    }
  }
  return table(rows);
}

/** One line per subscriber of each step: received fps and size (ours | reference). */
export function fanoutSubscriberLines(result: MediaBenchResult): string[] {
  const out: string[] = [];
  const o = result.ours.fanout;
  const r = result.reference?.fanout;
  const each = (s: FanoutStep | undefined) =>
    s?.received.map((p) => `${p.width}x${p.height}@${p.fps.toFixed(1)}`).join(" ") ?? "-";
  for (const n of o?.steps.map((s) => s.subscribers) ?? []) {
    out.push(`${String(n).padStart(2)} subs  ours: ${each(fanoutStep(o, n))}`);
    if (r) out.push(`${String(n).padStart(2)} subs  ref:  ${each(fanoutStep(r, n))}`);
  }
  return out;
}

/** Headline rows for the summary table. */
export function mediaSummaryRows(result: MediaBenchResult): SummaryRow[] {
  const rows: SummaryRow[] = [];
  const ref = result.reference;
  const { width, height } = result.video;
  for (const s of result.ours.echo) {
    rows.push({
      figure: `EchoTest server CPU %/call, ${s.calls} calls (${width}x${height})`,
      ours: s.cpuPercentPerCall,
      reference: stepOf(ref?.echo, s.calls)?.cpuPercentPerCall,
      target: MEDIA_TARGETS.echoCpu,
      digits: 2,
    });
  }
  for (const s of result.ours.echo) {
    rows.push({
      figure: `EchoTest server CPU µs/echoed packet, ${s.calls} calls`,
      ours: s.cpuMicrosPerPacket,
      reference: stepOf(ref?.echo, s.calls)?.cpuMicrosPerPacket,
      digits: 1,
    });
  }
  const last = result.ours.echo.at(-1);
  if (last) {
    const r = stepOf(ref?.echo, last.calls);
    rows.push({
      figure: `EchoTest offer→webrtcup p50 ms, ${last.calls} calls`,
      ours: last.webrtcupP50Ms,
      reference: r?.webrtcupP50Ms,
    });
    rows.push({
      figure: `EchoTest echoed fps/client, ${last.calls} calls`,
      ours: last.fpsMean,
      reference: r?.fpsMean,
      digits: 1,
    });
  }
  const j = result.ours.join;
  if (j) {
    rows.push({
      figure: `VideoRoom ${j.participants} publisher joins, s`,
      ours: j.joinSeconds,
      reference: ref?.join?.joinSeconds,
      target: MEDIA_TARGETS.join,
      digits: 3,
    });
    rows.push({
      figure: "VideoRoom join storm events delivered",
      ours: j.events.total,
      reference: ref?.join?.events.total,
    });
  }
  const only = result.ours.joinOnly;
  if (only) {
    rows.push({
      figure: `VideoRoom ${only.participants} join requests alone, s`,
      ours: only.joinSeconds,
      reference: ref?.joinOnly?.joinSeconds,
      digits: 4,
    });
  }
  const large = result.ours.joinLarge;
  if (large) {
    rows.push({
      figure: `VideoRoom ${large.participants} publisher joins, s`,
      ours: large.joinSeconds,
      reference: ref?.joinLarge?.joinSeconds,
      digits: 3,
    });
  }
  const f = result.ours.fanout;
  for (const s of f?.steps ?? []) {
    rows.push({
      figure: `VideoRoom fan-out server CPU %/subscriber, ${s.subscribers} subs`,
      ours: s.cpuPercentPerSubscriber,
      reference: fanoutStep(ref?.fanout, s.subscribers)?.cpuPercentPerSubscriber,
      target: MEDIA_TARGETS.fanoutCpu,
      digits: 2,
    });
  }
  for (const s of f?.steps ?? []) {
    const r = fanoutStep(ref?.fanout, s.subscribers);
    rows.push({
      figure: `VideoRoom subscribers receiving ${width}x${height}, ${s.subscribers} subs`,
      ours: s.atSize,
      reference: r?.atSize,
      check: { text: `all ${s.subscribers}`, met: allAtSize(s) },
    });
  }
  for (const s of f?.steps ?? []) {
    rows.push({
      figure: `VideoRoom received fps/subscriber (min), ${s.subscribers} subs`,
      ours: s.fpsMin,
      reference: fanoutStep(ref?.fanout, s.subscribers)?.fpsMin,
      digits: 1,
    });
  }
  return rows;
}

/** Whether two bitrates differ by more than a fifth (then CPU per call compares unequal loads). */
function unequal(a: number | undefined, b: number | undefined): boolean {
  return a !== undefined && b !== undefined && Math.abs(a - b) > 0.2 * Math.max(a, b);
}

/** Lines about errors, leaks and notes of the media phases. */
export function mediaNotes(result: MediaBenchResult): string[] {
  const out = [...result.notes];
  for (const s of result.ours.echo) {
    const r = stepOf(result.reference?.echo, s.calls);
    if (unequal(s.kbpsMean, r?.kbpsMean)) {
      out.push(
        `echo ${s.calls} calls: the callers settled at ${fmt(s.kbpsMean)} kbit/s (ours) and ` +
          `${fmt(r?.kbpsMean)} kbit/s (reference), each following its server's feedback: CPU ` +
          "per call compares unequal loads; µs/echoed packet is the comparable figure",
      );
    }
  }
  for (const s of result.ours.fanout?.steps ?? []) {
    const r = fanoutStep(result.reference?.fanout, s.subscribers);
    if (unequal(s.kbpsMean, r?.kbpsMean)) {
      out.push(
        `videoroom ${s.subscribers} subscribers: ${fmt(s.kbpsMean)} kbit/s per subscriber ` +
          `(ours) vs ${fmt(r?.kbpsMean)} (reference): CPU per subscriber compares unequal loads`,
      );
    }
  }
  const counts = result.ours.countsAfter;
  if (counts) {
    const left = Object.entries(counts).filter(([k, v]) => v !== 0 && k !== "timers");
    if (left.length > 0) out.push(`ours after the media phases: live ${JSON.stringify(counts)}`);
  }
  for (const [name, t] of [["ours", result.ours], ["reference", result.reference]] as const) {
    if (!t) continue;
    for (const s of t.echo) {
      if (s.firstError) {
        out.push(`${name} echo ${s.calls} calls: ${s.errors} errors, first: ${s.firstError}`);
      }
    }
    if (t.join?.firstError) {
      out.push(`${name} videoroom join: ${t.join.errors} errors, first: ${t.join.firstError}`);
    }
    if (t.fanout?.firstError) {
      out.push(`${name} videoroom fan-out: ${t.fanout.firstError}`);
    }
    for (const s of t.fanout?.steps ?? []) {
      if (s.firstError) {
        out.push(
          `${name} videoroom ${s.subscribers} subscribers: ${s.errors} errors, first: ` +
            s.firstError,
        );
      }
    }
  }
  return out;
}

/** The media part of the final JSON line. */
export function mediaJson(result: MediaBenchResult): Record<string, unknown> {
  const echoRatios: Record<string, number | null> = {};
  const echoMet: Record<string, boolean | null> = {};
  for (const s of result.ours.echo) {
    const r = stepOf(result.reference?.echo, s.calls)?.cpuPercentPerCall;
    echoRatios[`calls_${s.calls}`] = ratio(s.cpuPercentPerCall, r) ?? null;
    echoMet[`calls_${s.calls}`] = met(MEDIA_TARGETS.echoCpu, s.cpuPercentPerCall, r) ?? null;
  }
  const fanoutRatios: Record<string, number | null> = {};
  const fanoutMet: Record<string, boolean | null> = {};
  const sizeMet: Record<string, boolean | null> = {};
  for (const s of result.ours.fanout?.steps ?? []) {
    const r = fanoutStep(result.reference?.fanout, s.subscribers)?.cpuPercentPerSubscriber;
    const key = `subscribers_${s.subscribers}`;
    fanoutRatios[key] = ratio(s.cpuPercentPerSubscriber, r) ?? null;
    fanoutMet[key] = met(MEDIA_TARGETS.fanoutCpu, s.cpuPercentPerSubscriber, r) ?? null;
    sizeMet[key] = allAtSize(s) ?? null;
  }
  const j = result.ours.join;
  const rj = result.reference?.join;
  return {
    reference_status: result.referenceStatus,
    seconds: result.seconds,
    ours: result.ours,
    reference: result.reference ?? null,
    video: result.video,
    ratios: {
      echo_cpu_per_call: echoRatios,
      videoroom_fanout_cpu_per_subscriber: fanoutRatios,
      videoroom_join_time: ratio(j?.joinSeconds, rj?.joinSeconds) ?? null,
      videoroom_join_requests_alone_time: ratio(
        result.ours.joinOnly?.joinSeconds,
        result.reference?.joinOnly?.joinSeconds,
      ) ?? null,
      videoroom_large_join_time: ratio(
        result.ours.joinLarge?.joinSeconds,
        result.reference?.joinLarge?.joinSeconds,
      ) ?? null,
    },
    targets: {
      echo_cpu_per_call_within_1_5x_ref: echoMet,
      videoroom_fanout_cpu_per_subscriber_at_most_ref: fanoutMet,
      videoroom_every_subscriber_at_publisher_size: sizeMet,
      videoroom_join_half_ref_time: met(MEDIA_TARGETS.join, j?.joinSeconds, rj?.joinSeconds) ??
        null,
    },
    notes: mediaNotes(result),
  };
}
