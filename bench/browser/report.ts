/**
 * The browser phase's table and JSON: each figure against the 500 ms target.
 *
 * @module
 */
import { table } from "../report.ts";
import { type BrowserBenchResult, VIDEO_BACK_TARGET_MS } from "./results.ts";

const FIGURES: readonly { key: keyof BrowserBenchResult; label: string }[] = [
  { key: "resumeMs", label: "start after pause" },
  { key: "switchMs", label: "switch" },
  { key: "resumeAfterSwitchMs", label: "start right after a switch" },
  { key: "joinMs", label: "join (first frame)" },
];

/** Median, worst and how many came back at all, of one figure's samples. */
function summary(samples: readonly (number | null)[]) {
  const got = samples.filter((s): s is number => s !== null).sort((a, b) => a - b);
  const missing = samples.length - got.length;
  const median = got.length > 0 ? got[Math.floor((got.length - 1) / 2)]! : undefined;
  const worst = missing > 0 ? undefined : got[got.length - 1];
  const met = worst !== undefined && worst <= VIDEO_BACK_TARGET_MS;
  return { samples: samples.length, missing, median, worst, met };
}

/** One row per figure: samples, median, worst, met/missed. */
export function browserTable(result: BrowserBenchResult): string {
  const ms = (v: number | undefined) => v === undefined ? "-" : v.toFixed(0);
  const rows: string[][] = [[
    "video back after (ack → first frame)",
    "samples",
    "median ms",
    "worst ms",
    `target ≤ ${VIDEO_BACK_TARGET_MS} ms`,
  ]];
  for (const { key, label } of FIGURES) {
    const s = summary(result[key] as (number | null)[]);
    const worst = s.missing > 0 ? `${s.missing} never` : ms(s.worst);
    rows.push([label, String(s.samples), ms(s.median), worst, s.met ? "met" : "missed"]);
  }
  return table(rows);
}

/** The figures for the bench's final JSON line. */
export function browserJson(result: BrowserBenchResult): Record<string, unknown> {
  const out: Record<string, unknown> = {
    target_ms: VIDEO_BACK_TARGET_MS,
    sent: result.sent,
    load_average: result.loadAverage,
  };
  for (const { key } of FIGURES) {
    const s = summary(result[key] as (number | null)[]);
    out[key] = {
      samples_ms: result[key],
      median_ms: s.median ?? null,
      worst_ms: s.worst ?? null,
      met: s.met,
    };
  }
  return out;
}
