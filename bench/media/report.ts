/**
 * Tables, headline rows and JSON of the media phases (EchoTest ramp, VideoRoom join storm
 * and fan-out), ours vs the private reference.
 *
 * @module
 */
import type { FanoutResult } from "../videoroom/fanout.ts";
import type { JoinResult } from "../videoroom/join.ts";
import { fmt, met, ratio, type SummaryRow, table, type Target } from "../report.ts";
import type { EchoStep } from "./echo.ts";
import type { MediaBenchResult } from "./results.ts";

/** The media targets of the brief. */
export const MEDIA_TARGETS: Readonly<Record<"echoCpu" | "join", Target>> = {
  echoCpu: { figure: "EchoTest server CPU per call", ratioAtMost: 8 },
  join: { figure: "VideoRoom join storm time", ratioAtMost: 0.5 },
};

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
    "of it gateway %",
    "CPU %/call",
    "ours/ref per call",
    "echoed fps mean",
    "min",
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
        name === "ours" ? fmt(s.mainCpuPercent, 1) : "",
        fmt(s.cpuPercentPerCall, 2),
        name === "ours" ? x(ratio(o?.cpuPercentPerCall, r?.cpuPercentPerCall)) : "",
        fmt(s.fpsMean, 1),
        fmt(s.fpsMin, 1),
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
  const rows: string[][] = [[
    "subscribers",
    "server",
    "up",
    "webrtcup p50 ms",
    "max ms",
    "server CPU %",
    "of it gateway %",
    "CPU %/sub",
    "marginal %/sub",
    "ours/ref per sub",
    "decoded fps mean",
    "min",
    "client CPU %",
    "errors",
  ]];
  const o = result.ours.fanout;
  const r = result.reference?.fanout;
  for (const [name, f] of [["ours", o], ["reference", r]] as const) {
    if (!f) continue;
    rows.push([
      "0",
      name,
      "",
      "",
      "",
      fmt(f.baselineCpuPercent, 1),
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
    ]);
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
        fmt(s.webrtcupMaxMs),
        fmt(s.serverCpuPercent, 1),
        name === "ours" ? fmt(s.mainCpuPercent, 1) : "",
        fmt(s.cpuPercentPerSubscriber, 2),
        fmt(s.marginalCpuPercentPerSubscriber, 2),
        name === "ours"
          ? x(ratio(s.cpuPercentPerSubscriber, fanoutStep(r, n)?.cpuPercentPerSubscriber))
          : "",
        fmt(s.fpsMean, 1),
        fmt(s.fpsMin, 1),
        fmt(s.clientCpuPercent, 0),
        fmt(s.errors),
      ]);
    }
  }
  return table(rows);
}

/** Headline rows for the summary table. */
export function mediaSummaryRows(result: MediaBenchResult): SummaryRow[] {
  const rows: SummaryRow[] = [];
  const ref = result.reference;
  for (const s of result.ours.echo) {
    rows.push({
      figure: `EchoTest server CPU %/call, ${s.calls} calls`,
      ours: s.cpuPercentPerCall,
      reference: stepOf(ref?.echo, s.calls)?.cpuPercentPerCall,
      target: MEDIA_TARGETS.echoCpu,
      digits: 2,
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
      figure: `VideoRoom server CPU %/subscriber, ${s.subscribers} subs`,
      ours: s.cpuPercentPerSubscriber,
      reference: fanoutStep(ref?.fanout, s.subscribers)?.cpuPercentPerSubscriber,
      digits: 2,
    });
  }
  const lastSub = f?.steps.at(-1);
  if (lastSub) {
    rows.push({
      figure: `VideoRoom decoded fps/subscriber, ${lastSub.subscribers} subs`,
      ours: lastSub.fpsMean,
      reference: fanoutStep(ref?.fanout, lastSub.subscribers)?.fpsMean,
      digits: 1,
    });
  }
  return rows;
}

/** Lines about errors, leaks and notes of the media phases. */
export function mediaNotes(result: MediaBenchResult): string[] {
  const out = [...result.notes];
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
  const j = result.ours.join;
  const rj = result.reference?.join;
  return {
    reference_status: result.referenceStatus,
    seconds: result.seconds,
    ours: result.ours,
    reference: result.reference ?? null,
    ratios: {
      echo_cpu_per_call: echoRatios,
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
      echo_cpu_per_call_within_8x_ref: echoMet,
      videoroom_join_half_ref_time: met(MEDIA_TARGETS.join, j?.joinSeconds, rj?.joinSeconds) ??
        null,
    },
    notes: mediaNotes(result),
  };
}
