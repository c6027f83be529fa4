/**
 * Formats the Streaming phase's results: the per-step table (ours beside the reference), one
 * line per viewer, headline rows for the summary table with the issue's target (server CPU per
 * viewer at or below the reference's), notes and the JSON figures.
 *
 * @module
 */
import { fmt, type SummaryRow, table, type Target } from "../report.ts";
import type { StreamingBenchResult } from "./results.ts";
import type { ViewersResult, ViewersStep } from "./viewers.ts";

/** CPU per viewer: ours at most the reference's. */
export const STREAMING_TARGET: Target = { figure: "server CPU %/viewer", ratioAtMost: 1 };

/** Lowest mean fps a step counts as smooth (the feed sends 30). */
const SMOOTH_FPS = 28;

function stepOf(r: ViewersResult | undefined, n: number): ViewersStep | undefined {
  return r?.steps.find((s) => s.viewers === n);
}

function ratioText(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || b <= 0 ? "-" : `${(a / b).toFixed(2)}x`;
}

/** Whether a step's viewers all came up and received the feed's size at a smooth rate. */
function smooth(s: ViewersStep, width: number, height: number): boolean {
  return s.up === s.viewers && s.atSize === s.viewers && (s.fpsMin ?? 0) >= SMOOTH_FPS &&
    s.received.every((p) => p.width === width && p.height === height);
}

/** The ramp per step (0 = the mountpoint fed, no viewer). */
export function streamingTable(result: StreamingBenchResult): string {
  const { width, height } = result.video;
  const rows: string[][] = [[
    "viewers",
    "server",
    "up",
    "webrtcup p50 ms",
    "server CPU %",
    "by process %",
    "CPU %/viewer",
    "rounds %/viewer",
    "ours/ref",
    "target met",
    "marginal %/viewer",
    "fps mean",
    "min",
    "kbit/s/viewer",
    "pkt/s/viewer",
    `at ${width}x${height}`,
    "client CPU %",
    "errors",
  ]];
  const o = result.ours;
  const r = result.reference;
  for (const [name, v] of [["ours", o], ["reference", r]] as const) {
    if (!v) continue;
    const row = Array.from({ length: rows[0]!.length }, () => "");
    row[0] = "0";
    row[1] = name;
    row[4] = fmt(v.baselineCpuPercent, 1);
    row[5] = v.baselineByProcess;
    rows.push(row);
  }
  for (const n of o.steps.map((s) => s.viewers)) {
    for (const [name, v] of [["ours", o], ["reference", r]] as const) {
      const s = stepOf(v, n);
      if (!s) continue;
      const refStep = stepOf(r, n);
      const ours = name === "ours";
      rows.push([
        String(n),
        name,
        `${s.up}/${s.viewers}`,
        fmt(s.webrtcupP50Ms),
        fmt(s.serverCpuPercent, 1),
        s.byProcess,
        fmt(s.cpuPercentPerViewer, 2),
        (s.roundCpuPercent ?? []).map((v) => v.toFixed(2)).join("/") || "-",
        ours ? ratioText(s.cpuPercentPerViewer, refStep?.cpuPercentPerViewer) : "",
        ours ? metText(s, refStep) : "",
        fmt(s.marginalCpuPercentPerViewer, 2),
        fmt(s.fpsMean, 1),
        fmt(s.fpsMin, 1),
        fmt(s.kbpsMean),
        fmt(s.ppsMean),
        `${s.atSize}/${s.viewers}`,
        fmt(s.clientCpuPercent, 0),
        fmt(s.errors),
      ]);
    }
  }
  return table(rows);
}

function metText(s: ViewersStep, ref: ViewersStep | undefined): string {
  const met = cpuMet(s, ref);
  return met === undefined ? "n/a" : met ? "yes" : "NO";
}

/** Ours at or below the reference's CPU per viewer; undefined when not comparable. */
function cpuMet(s: ViewersStep, ref: ViewersStep | undefined): boolean | undefined {
  if (s.cpuPercentPerViewer === undefined || ref?.cpuPercentPerViewer === undefined) {
    return undefined;
  }
  return s.cpuPercentPerViewer <= ref.cpuPercentPerViewer;
}

/** One line per step and server: each viewer's received size@fps. */
export function streamingViewerLines(result: StreamingBenchResult): string[] {
  const out: string[] = [];
  const each = (s: ViewersStep | undefined) =>
    s?.received.map((p) => `${p.width}x${p.height}@${p.fps.toFixed(1)}`).join(" ") ?? "-";
  for (const n of result.ours.steps.map((s) => s.viewers)) {
    out.push(`${String(n).padStart(2)} viewers  ours: ${each(stepOf(result.ours, n))}`);
    if (result.reference) {
      out.push(`${String(n).padStart(2)} viewers  ref:  ${each(stepOf(result.reference, n))}`);
    }
  }
  return out;
}

/** Headline rows: CPU per viewer at each step, and whether every viewer got the feed. */
export function streamingSummaryRows(result: StreamingBenchResult): SummaryRow[] {
  const { width, height } = result.video;
  const rows: SummaryRow[] = result.ours.steps.map((s) => ({
    figure: `Streaming server CPU %/viewer, ${s.viewers} viewers`,
    ours: s.cpuPercentPerViewer,
    reference: stepOf(result.reference, s.viewers)?.cpuPercentPerViewer,
    target: STREAMING_TARGET,
    digits: 2,
  }));
  const count = (v: ViewersResult | undefined) =>
    v ? v.steps.filter((s) => smooth(s, width, height)).length : undefined;
  const steps = result.ours.steps.length;
  rows.push({
    figure: `Streaming steps with every viewer at ${width}x${height} >= ${SMOOTH_FPS} fps`,
    ours: count(result.ours),
    reference: count(result.reference),
    check: { text: `all ${steps}`, met: steps > 0 && count(result.ours) === steps },
  });
  return rows;
}

/** Notes: errors, leftovers, how the figures were taken. */
export function streamingNotes(result: StreamingBenchResult): string[] {
  const notes = [...result.notes];
  for (const [name, v] of [["ours", result.ours], ["reference", result.reference]] as const) {
    if (!v) continue;
    if (v.firstError) notes.push(`streaming ${name}: ${v.firstError}`);
    for (const s of v.steps) {
      if (s.firstError) {
        notes.push(`streaming ${name} ${s.viewers} viewers: ${s.errors} errors, ${s.firstError}`);
      }
    }
  }
  const c = result.countsAfter;
  if (c && ((c.sessions ?? 0) > 0 || (c.handles ?? 0) > 0 || (c.peers ?? 0) > 0)) {
    notes.push(`streaming: ours still had ${JSON.stringify(c)} after the phase`);
  }
  notes.push(`streaming phase took ${result.seconds.toFixed(0)} s`);
  return notes;
}

/** The JSON figures. */
export function streamingJson(result: StreamingBenchResult): Record<string, unknown> {
  const steps = (v: ViewersResult | undefined) =>
    v?.steps.map((s) => ({
      viewers: s.viewers,
      up: s.up,
      webrtcup_p50_ms: s.webrtcupP50Ms ?? null,
      server_cpu_percent: s.serverCpuPercent ?? null,
      by_process: s.byProcess,
      cpu_percent_per_viewer: s.cpuPercentPerViewer ?? null,
      round_cpu_percent_per_viewer: s.roundCpuPercent ?? null,
      marginal_cpu_percent_per_viewer: s.marginalCpuPercentPerViewer ?? null,
      fps_mean: s.fpsMean ?? null,
      fps_min: s.fpsMin ?? null,
      kbps_mean: s.kbpsMean ?? null,
      at_size: s.atSize,
      sizes: s.sizes,
      errors: s.errors,
    })) ?? null;
  return {
    video: result.video,
    reference_status: result.referenceStatus,
    ours: {
      baseline_cpu_percent: result.ours.baselineCpuPercent ?? null,
      steps: steps(result.ours),
    },
    reference: result.reference
      ? {
        baseline_cpu_percent: result.reference.baselineCpuPercent ?? null,
        steps: steps(result.reference),
      }
      : null,
    cpu_per_viewer_at_or_below_ref: result.ours.steps.map((s) => ({
      viewers: s.viewers,
      met: cpuMet(s, stepOf(result.reference, s.viewers)) ?? null,
    })),
    counts_after: result.countsAfter ?? null,
    seconds: result.seconds,
  };
}
