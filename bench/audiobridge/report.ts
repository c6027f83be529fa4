/**
 * Formats the AudioBridge phase's results: the per-step table (ours beside the reference), one
 * line per step with each participant's concealed share, headline rows for the summary table
 * with the targets (server CPU per participant within 2x of the reference's; no
 * concealed audio at the largest step), notes and the JSON figures.
 *
 * @module
 */
import { fmt, type SummaryRow, table, type Target } from "../report.ts";
import type { RoomResult, RoomStep } from "./ramp.ts";
import type { AudioBridgeBenchResult } from "./results.ts";

/** CPU per participant: ours at most twice the reference's. */
export const AUDIOBRIDGE_TARGET: Target = {
  figure: "server CPU %/participant",
  ratioAtMost: 2,
};

function stepOf(r: RoomResult | undefined, n: number): RoomStep | undefined {
  return r?.steps.find((s) => s.participants === n);
}

function ratioText(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || b <= 0 ? "-" : `${(a / b).toFixed(2)}x`;
}

/** Packets/s of a mix sent every 20 ms, and the least a step's participants must all get. */
const MIX_PPS = 50;
const DELIVERED = 0.9 * MIX_PPS;

/**
 * Whether a step ran whole: everyone up, no error (e.g. no media worker lost) and every mix
 * delivered (a server that skips periods also spends less).
 */
function whole(s: RoomStep): boolean {
  return s.up === s.participants && s.errors === 0 && (s.ppsMin ?? 0) >= DELIVERED;
}

/**
 * Ours within 2x of the reference's CPU per participant; not met when ours did not run whole
 * (a lost worker or skipped mixes save CPU), undefined when the reference's step did not.
 */
function cpuMet(s: RoomStep, ref: RoomStep | undefined): boolean | undefined {
  if (!ref || !whole(ref) || ref.cpuPercentPerParticipant === undefined) return undefined;
  if (!whole(s) || s.cpuPercentPerParticipant === undefined) return false;
  return s.cpuPercentPerParticipant <= 2 * ref.cpuPercentPerParticipant;
}

/** Whether every participant of a step was up and none had a concealed sample. */
function gapFree(s: RoomStep | undefined): boolean | undefined {
  if (!s || s.concealedWorstPercent === undefined) return undefined;
  return s.up === s.participants && s.withGaps === 0;
}

/** The ramp per step. */
export function audioBridgeTable(result: AudioBridgeBenchResult): string {
  const rows: string[][] = [[
    "participants",
    "server",
    "up",
    "webrtcup p50 ms",
    "server CPU %",
    "by process %",
    "CPU %/participant",
    "ours/ref",
    "within 2x",
    "pkt/s mean",
    "min",
    "concealed % mean",
    "worst",
    "with gaps",
    "level min",
    "client CPU %",
    "other CPU %",
    "run-queue wait %",
    "errors",
  ]];
  const o = result.ours;
  const r = result.reference;
  for (const n of o.steps.map((s) => s.participants)) {
    for (const [name, v] of [["ours", o], ["reference", r]] as const) {
      const s = stepOf(v, n);
      if (!s) continue;
      const refStep = stepOf(r, n);
      const ours = name === "ours";
      const met = ours ? cpuMet(s, refStep) : undefined;
      rows.push([
        String(n),
        name,
        `${s.up}/${s.participants}`,
        fmt(s.webrtcupP50Ms),
        fmt(s.serverCpuPercent, 1),
        s.byProcess,
        fmt(s.cpuPercentPerParticipant, 2),
        ours ? ratioText(s.cpuPercentPerParticipant, refStep?.cpuPercentPerParticipant) : "",
        ours ? (met === undefined ? "n/a" : met ? "yes" : "NO") : "",
        fmt(s.ppsMean, 1),
        fmt(s.ppsMin, 1),
        fmt(s.concealedMeanPercent, 3),
        fmt(s.concealedWorstPercent, 3),
        `${s.withGaps}/${s.received.length}`,
        fmt(s.levelMin, 2),
        fmt(s.clientCpuPercent, 0),
        fmt(s.otherCpuPercent, 0),
        fmt(s.runQueueWaitPercent, 0),
        fmt(s.errors),
      ]);
    }
  }
  return table(rows);
}

/** One line per step and server: each participant's concealed % (0 printed as "0"). */
export function audioBridgeParticipantLines(result: AudioBridgeBenchResult): string[] {
  const out: string[] = [];
  const each = (s: RoomStep | undefined) =>
    s?.received.map((p) => p.concealedPercent === 0 ? "0" : p.concealedPercent.toFixed(2))
      .join(" ") ?? "-";
  for (const n of result.ours.steps.map((s) => s.participants)) {
    out.push(`${String(n).padStart(2)} participants  ours: ${each(stepOf(result.ours, n))}`);
    if (result.reference) {
      out.push(
        `${String(n).padStart(2)} participants  ref:  ${each(stepOf(result.reference, n))}`,
      );
    }
  }
  return out;
}

/** Headline rows: CPU per participant at each step, and the largest step's worst gap. */
export function audioBridgeSummaryRows(result: AudioBridgeBenchResult): SummaryRow[] {
  const rows: SummaryRow[] = result.ours.steps.map((s) => ({
    figure: `AudioBridge server CPU %/participant, ${s.participants} in the room`,
    ours: s.cpuPercentPerParticipant,
    reference: stepOf(result.reference, s.participants)?.cpuPercentPerParticipant,
    digits: 2,
    check: {
      text: `<= ${AUDIOBRIDGE_TARGET.ratioAtMost}x ref`,
      met: cpuMet(s, stepOf(result.reference, s.participants)),
    },
  }));
  const last = result.ours.steps.at(-1);
  if (last) {
    rows.push({
      figure: `AudioBridge worst concealed %, ${last.participants} in the room`,
      ours: last.concealedWorstPercent,
      reference: stepOf(result.reference, last.participants)?.concealedWorstPercent,
      digits: 3,
      check: { text: "0 (no gap)", met: gapFree(last) },
    });
  }
  return rows;
}

/** Notes: errors, leftovers, how the figures were taken. */
export function audioBridgeNotes(result: AudioBridgeBenchResult): string[] {
  const notes = [...result.notes];
  for (const [name, v] of [["ours", result.ours], ["reference", result.reference]] as const) {
    if (!v) continue;
    if (v.firstError) notes.push(`audiobridge ${name}: ${v.firstError}`);
    for (const s of v.steps) {
      if (s.firstError) {
        notes.push(
          `audiobridge ${name} ${s.participants} participants: ${s.errors} errors, ${s.firstError}`,
        );
      }
    }
  }
  const c = result.countsAfter;
  if (c && ((c.sessions ?? 0) > 0 || (c.handles ?? 0) > 0 || (c.peers ?? 0) > 0)) {
    notes.push(`audiobridge: ours still had ${JSON.stringify(c)} after the phase`);
  }
  notes.push(`audiobridge phase took ${result.seconds.toFixed(0)} s`);
  return notes;
}

/** The JSON figures. */
export function audioBridgeJson(result: AudioBridgeBenchResult): Record<string, unknown> {
  const steps = (v: RoomResult | undefined) =>
    v?.steps.map((s) => ({
      participants: s.participants,
      up: s.up,
      webrtcup_p50_ms: s.webrtcupP50Ms ?? null,
      server_cpu_percent: s.serverCpuPercent ?? null,
      by_process: s.byProcess,
      cpu_percent_per_participant: s.cpuPercentPerParticipant ?? null,
      pps_mean: s.ppsMean ?? null,
      pps_min: s.ppsMin ?? null,
      concealed_mean_percent: s.concealedMeanPercent ?? null,
      concealed_worst_percent: s.concealedWorstPercent ?? null,
      concealed_percent: s.received.map((p) => p.concealedPercent),
      with_gaps: s.withGaps,
      level_min: s.levelMin ?? null,
      client_cpu_percent: s.clientCpuPercent ?? null,
      other_cpu_percent: s.otherCpuPercent ?? null,
      run_queue_wait_percent: s.runQueueWaitPercent ?? null,
      errors: s.errors,
    })) ?? null;
  const last = result.ours.steps.at(-1);
  return {
    sampling_rate: result.rate,
    client_processes: result.hosts,
    reference_status: result.referenceStatus,
    ours: { steps: steps(result.ours) },
    reference: result.reference ? { steps: steps(result.reference) } : null,
    cpu_per_participant_within_2x_ref: result.ours.steps.map((s) => {
      const ref = stepOf(result.reference, s.participants)?.cpuPercentPerParticipant;
      const ours = s.cpuPercentPerParticipant;
      return {
        participants: s.participants,
        ratio: ours === undefined || ref === undefined || ref <= 0 ? null : ours / ref,
        met: cpuMet(s, stepOf(result.reference, s.participants)) ?? null,
      };
    }),
    gap_free_at_largest: last
      ? { participants: last.participants, met: gapFree(last) ?? null }
      : null,
    counts_after: result.countsAfter ?? null,
    seconds: result.seconds,
  };
}
