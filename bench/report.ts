/**
 * Formats bench results: aligned text tables and the final JSON line.
 *
 * @module
 */
import type { LoadResult } from "./lifecycle.ts";
import type { MemoryResult } from "./memory.ts";

/** One timed load against one server, with the server's and the bench's CPU. */
export interface PhaseRun {
  /** The best round (highest rate); its CPU figures below. */
  load: LoadResult;
  /** Rates of every round, in order. */
  roundRates: number[];
  serverCpuSeconds: number | undefined;
  clientCpuSeconds: number | undefined;
  /** CPU seconds used by every other process meanwhile (noise on a shared machine). */
  otherCpuSeconds: number | undefined;
  serverRssBefore: number | undefined;
  serverRssAfter: number | undefined;
}

/** Everything measured on one server. */
export interface TargetResults {
  name: string;
  /** The process measured by the load phases. */
  pid: number | undefined;
  /** The process measured by the memory phase (a fresh one). */
  memPid?: number | undefined;
  http?: PhaseRun;
  ws?: PhaseRun;
  ka?: PhaseRun;
  mem?: MemoryResult;
}

/** A goal: ratio (ours/reference) at least `min` or at most `max`, or an absolute maximum. */
export interface Target {
  figure: string;
  ratioAtLeast?: number;
  /** For costs (CPU, time): ours/reference must not exceed this. */
  ratioAtMost?: number;
  below?: number;
}

/** The targets of the brief. */
export const TARGETS: Readonly<Record<"http" | "ws" | "mem", Target>> = {
  http: { figure: "HTTP lifecycles/s", ratioAtLeast: 3 },
  ws: { figure: "WS lifecycles/s", ratioAtLeast: 2 },
  mem: { figure: "bytes per idle session", below: 4096 },
};

/** Renders rows as an aligned table (first row is the header). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length));
  }
  const line = (row: readonly string[]) =>
    row.map((cell, i) => i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))
      .join("  ").trimEnd();
  const [head, ...body] = rows;
  if (!head) return "";
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(head), rule, ...body.map(line)].join("\n");
}

/** A number with a fixed precision, or "-". */
export function fmt(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return "-";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** Bytes as MiB with one decimal, or "-". */
export function mib(bytes: number | undefined): string {
  return bytes === undefined ? "-" : `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** ours / reference, when both exist and the reference is not zero. */
export function ratio(ours: number | undefined, ref: number | undefined): number | undefined {
  return ours === undefined || ref === undefined || ref === 0 ? undefined : ours / ref;
}

/** Whether a target is met; undefined when it cannot be judged. */
export function met(
  target: Target,
  ours: number | undefined,
  ref: number | undefined,
): boolean | undefined {
  if (target.below !== undefined) return ours === undefined ? undefined : ours < target.below;
  const r = ratio(ours, ref);
  if (r !== undefined && target.ratioAtMost !== undefined) return r <= target.ratioAtMost;
  return r === undefined || target.ratioAtLeast === undefined
    ? undefined
    : r >= target.ratioAtLeast;
}

function targetText(target: Target | undefined): string {
  if (!target) return "";
  if (target.below !== undefined) return `< ${fmt(target.below)} B`;
  if (target.ratioAtMost !== undefined) return `<= ${target.ratioAtMost}x ref`;
  return target.ratioAtLeast === undefined ? "" : `>= ${target.ratioAtLeast}x ref`;
}

function yesNo(value: boolean | undefined): string {
  return value === undefined ? "n/a" : value ? "yes" : "NO";
}

/** A headline row from another phase (e.g. the media phases, with their own reference). */
export interface SummaryRow {
  figure: string;
  ours: number | undefined;
  reference: number | undefined;
  target?: Target;
  digits?: number;
  /** A target judged by the caller (e.g. "every subscriber at 640x480"), instead of `target`. */
  check?: { text: string; met: boolean | undefined };
}

/** The headline table: each figure, ours vs reference, ratio, target; then `extra` rows. */
export function summaryTable(
  ours: TargetResults,
  ref: TargetResults | undefined,
  extra: readonly SummaryRow[] = [],
): string {
  const rows: string[][] = [["figure", "ours", "reference", "ours/ref", "target", "met"]];
  const add = (figure: string, o: number | undefined, r: number | undefined, t?: Target, d = 0) => {
    const x = ratio(o, r);
    rows.push([
      figure,
      fmt(o, d),
      ref ? fmt(r, d) : "unreachable",
      x === undefined ? "-" : `${x.toFixed(2)}x`,
      targetText(t),
      t ? yesNo(met(t, o, r)) : "",
    ]);
  };
  add("HTTP lifecycles/s", ours.http?.load.rate, ref?.http?.load.rate, TARGETS.http, 1);
  add("WS lifecycles/s", ours.ws?.load.rate, ref?.ws?.load.rate, TARGETS.ws, 1);
  add("WS keepalives/s", ours.ka?.load.rate, ref?.ka?.load.rate, undefined, 0);
  add(
    "bytes / idle session (RSS)",
    ours.mem?.bytesPerSession,
    ref?.mem?.bytesPerSession,
    TARGETS.mem,
  );
  for (const row of extra) {
    const x = ratio(row.ours, row.reference);
    rows.push([
      row.figure,
      fmt(row.ours, row.digits ?? 0),
      fmt(row.reference, row.digits ?? 0),
      x === undefined ? "-" : `${x.toFixed(2)}x`,
      row.check ? row.check.text : targetText(row.target),
      row.check
        ? yesNo(row.check.met)
        : row.target
        ? yesNo(met(row.target, row.ours, row.reference))
        : "",
    ]);
  }
  return table(rows);
}

function perOpMicros(run: PhaseRun | undefined): number | undefined {
  if (!run || run.serverCpuSeconds === undefined || run.load.ops === 0) return undefined;
  return run.serverCpuSeconds / run.load.ops * 1e6;
}

/** Per phase: server and bench CPU, CPU per operation, latency, errors. */
export function cpuTable(targets: readonly TargetResults[]): string {
  const rows: string[][] = [[
    "phase",
    "server",
    "ops",
    "rounds /s",
    "server CPU s",
    "server CPU/op µs",
    "bench CPU s",
    "other CPU s",
    "p50 ms",
    "p99 ms",
    "errors",
    "server RSS before → after",
  ]];
  const phases: ["http" | "ws" | "ka", string][] = [
    ["http", "HTTP lifecycles"],
    ["ws", "WS lifecycles"],
    ["ka", "WS keepalives"],
  ];
  for (const [key, label] of phases) {
    for (const t of targets) {
      const run = t[key];
      if (!run) continue;
      rows.push([
        label,
        t.name,
        fmt(run.load.ops),
        run.roundRates.map((r) => fmt(r)).join(" "),
        fmt(run.serverCpuSeconds, 2),
        fmt(perOpMicros(run), 1),
        fmt(run.clientCpuSeconds, 2),
        fmt(run.otherCpuSeconds, 2),
        fmt(run.load.p50Ms, 2),
        fmt(run.load.p99Ms, 2),
        fmt(run.load.errors),
        `${mib(run.serverRssBefore)} → ${mib(run.serverRssAfter)}`,
      ]);
    }
  }
  return table(rows);
}

/** The memory phase in detail. */
export function memoryTable(targets: readonly TargetResults[]): string {
  const rows: string[][] = [[
    "server",
    "sessions",
    "RSS at start",
    "RSS warmed",
    "RSS with sessions",
    "after destroy",
    "B/session RSS",
    "B/session heap",
    "heap kept/session",
    "create/s",
    "CPU µs/create",
    "CPU µs/destroy",
    "errors",
  ]];
  for (const t of targets) {
    const m = t.mem;
    if (!m) continue;
    rows.push([
      t.name,
      fmt(m.created),
      mib(m.rssAtStart),
      mib(m.rssBefore),
      mib(m.rssAfter),
      mib(m.rssAfterDestroy),
      fmt(m.bytesPerSession),
      fmt(m.heapBytesPerSession),
      fmt(m.heapRetainedPerSession),
      fmt(m.created / m.createSeconds),
      fmt(m.createCpuSeconds === undefined ? undefined : m.createCpuSeconds / m.created * 1e6, 1),
      fmt(m.destroyCpuSeconds === undefined ? undefined : m.destroyCpuSeconds / m.created * 1e6, 1),
      fmt(m.errors),
    ]);
  }
  return table(rows);
}

/** First errors seen, one line each. */
export function errorLines(targets: readonly TargetResults[]): string[] {
  const out: string[] = [];
  for (const t of targets) {
    for (const key of ["http", "ws", "ka"] as const) {
      const e = t[key]?.load.firstError;
      if (e) out.push(`${t.name} ${key}: ${t[key]?.load.errors} errors, first: ${e}`);
    }
    if (t.mem?.firstError) {
      out.push(`${t.name} mem: ${t.mem.errors} errors, first: ${t.mem.firstError}`);
    }
  }
  return out;
}
