/**
 * The soak's report: our figures and the reference's side by side, the target verdict, and
 * one JSON line.
 *
 * @module
 */
import type { SoakOptions } from "./args.ts";
import type { Sample, SoakResult } from "./target.ts";

const MIB = 1024 * 1024;

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) =>
    r.map((c, i) => i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)).join("  ")
  );
}

const f = (v: number | undefined, digits = 1, sign = false) =>
  v === undefined || !Number.isFinite(v) ? "-" : `${sign && v >= 0 ? "+" : ""}${v.toFixed(digits)}`;
const m = (bytes: number | undefined) => f(bytes === undefined ? undefined : bytes / MIB);

/** Whether `r` meets the target: no errors, nothing leaked, a flat RSS. */
export function meetsTarget(r: SoakResult, maxSlope: number): boolean {
  return r.errors === 0 && r.leaked === 0 && r.slope !== undefined &&
    Math.abs(r.slope) <= maxSlope;
}

function column(r: SoakResult | undefined): string[] {
  if (!r) return Array.from({ length: 19 }, () => "-");
  const perLifecycle = (cpu: number | undefined) =>
    cpu === undefined || r.lifecycles === 0 ? undefined : cpu * 1000 / r.lifecycles;
  return [
    f(r.seconds / 60),
    String(r.lifecycles),
    f(r.lifecycles / r.seconds),
    String(r.mediaCalls),
    String(r.abandoned),
    String(r.errors),
    String(r.skipped),
    String(r.leaked),
    m(r.rssStart),
    m(r.rssWarm),
    m(r.rssEnd),
    m(r.rssIdle),
    f(r.slope, 2, true),
    `${f(r.slopeMain, 2, true)} / ${f(r.slopeChildren, 2, true)}`,
    f(r.slopeLateHalf, 2, true),
    r.heapSlope === undefined ? "-" : f(r.heapSlope, 2, true),
    r.heapAfterGcStart === undefined ? "-" : `${m(r.heapAfterGcStart)} → ${m(r.heapAfterGcIdle)}`,
    f(perLifecycle((r.cpuMain ?? 0) + r.cpuChildren), 2),
    `${f(perLifecycle(r.cpuMain), 2)} / ${f(perLifecycle(r.cpuChildren), 2)}`,
  ];
}

/** Where the memory is, per part: at warm-up, at the end of load, slope after warm-up. */
function breakdown(r: SoakResult): string[] {
  const rows = [
    [`${r.name}: memory by part`, "after warm-up", "end of load", "slope, MiB/min"],
    ...r.breakdown.map((b) => [b.label, m(b.warm), m(b.end), f(b.slope, 2, true)]),
  ];
  return ["", ...table(rows)];
}

/** The curve (one sample per `step` seconds): RSS per role and main's V8 and malloc parts. */
function curve(r: SoakResult, step: number): string[] {
  const picked: Sample[] = [];
  for (const s of r.samples) {
    const last = picked[picked.length - 1];
    if (!last || s.t >= last.t + step - 0.5) picked.push(s);
  }
  const head = ["t", "total", "main", "anon", "file", "rtp", "wrtc"];
  const ours = picked.some((s) => s.heapTotal !== undefined);
  if (ours) head.push("V8 used", "V8 committed", "young", "external", "malloc used", "free");
  const rows = [
    head,
    ...picked.map((s) => {
      const row = [
        `${Math.floor(Math.round(s.t) / 60)}:${String(Math.round(s.t) % 60).padStart(2, "0")}`,
        m(s.total),
        m(s.main),
        m(s.roles.main?.anon),
        m(s.roles.main?.file),
        m(s.roles.rtp?.rss),
        m(s.roles.wrtc?.rss),
      ];
      if (ours) {
        row.push(
          m(s.heapUsed),
          m(s.heapTotal),
          m(s.newSpace),
          m(s.external),
          m(s.mallocInUse),
          m(s.mallocFree),
        );
      }
      return row;
    }),
  ];
  return ["", `${r.name}: the curve, MiB`, ...table(rows)];
}

/** The printed lines, the JSON summary and whether ours met the target. */
export function soakReport(
  ours: SoakResult | undefined,
  reference: SoakResult | string | undefined,
  options: SoakOptions,
): { lines: string[]; json: Record<string, unknown>; passed: boolean } {
  const ref = typeof reference === "object" ? reference : undefined;
  const labels = [
    "duration, min",
    "lifecycles done",
    "lifecycles/s",
    "  of which real-media calls",
    "  of which abandoned",
    "errors",
    "  of which starts skipped (overload)",
    "sessions left after timeouts",
    "RSS at start, MiB",
    `RSS after warm-up (${options.warmupMinutes} min), MiB`,
    "RSS at end of load, MiB",
    "RSS after timeouts (idle), MiB",
    "RSS slope after warm-up, MiB/min",
    "  main process / children (workers)",
    "RSS slope over the second half, MiB/min",
    "V8 heap used slope, MiB/min",
    "V8 heap after GC, start → idle, MiB",
    "CPU per lifecycle during the load, ms",
    "  main process / children (workers)",
  ];
  const a = column(ours);
  const b = column(ref);
  const rows = [["", "ours", "reference"], ...labels.map((l, i) => [l, a[i] ?? "", b[i] ?? ""])];
  const passed = ours !== undefined && meetsTarget(ours, options.maxSlope);
  const lines = ["", ...table(rows)];
  if (typeof reference === "string") lines.push(`Reference not soaked: ${reference}`);
  const step = options.minutes >= 5 ? 60 : 30;
  for (const r of [ours, ref]) if (r) lines.push(...breakdown(r), ...curve(r, step));
  lines.push("");
  for (const r of [ours, ref]) {
    if (!r) continue;
    for (const e of r.firstErrors) lines.push(`Note: ${r.name} error: ${e}`);
    if (r.countsAfter) {
      lines.push(`Note: ${r.name} live after timeouts: ${JSON.stringify(r.countsAfter)}`);
    }
  }
  lines.push(
    `Target (ours): 0 errors, 0 sessions left, |RSS slope| ≤ ${options.maxSlope} MiB/min after ` +
      `warm-up: ${passed ? "met" : "NOT met"}`,
  );
  const summary = (r: SoakResult | undefined) =>
    r && {
      pid: r.pid,
      seconds: r.seconds,
      lifecycles: r.lifecycles,
      media_calls: r.mediaCalls,
      abandoned: r.abandoned,
      errors: r.errors,
      skipped: r.skipped,
      leaked_sessions: r.leaked,
      by_kind: r.byKind,
      rss_mib: {
        start: r.rssStart / MIB,
        after_warmup: r.rssWarm / MIB,
        end: r.rssEnd / MIB,
        idle: r.rssIdle / MIB,
      },
      rss_slope_mib_per_min: r.slope ?? null,
      rss_slope_main_mib_per_min: r.slopeMain ?? null,
      rss_slope_children_mib_per_min: r.slopeChildren ?? null,
      rss_slope_second_half_mib_per_min: r.slopeLateHalf ?? null,
      heap_slope_mib_per_min: r.heapSlope ?? null,
      cpu_s: { main: r.cpuMain ?? null, children: r.cpuChildren },
      breakdown: Object.fromEntries(
        r.breakdown.map((b) => [b.label.trim(), {
          after_warmup_mib: b.warm === undefined ? null : b.warm / MIB,
          end_mib: b.end === undefined ? null : b.end / MIB,
          slope_mib_per_min: b.slope ?? null,
        }]),
      ),
      samples: r.samples.map((s) => [
        Math.round(s.t),
        s.main,
        s.children,
        s.heapUsed ?? null,
        s.heapTotal ?? null,
        s.roles.main?.anon ?? null,
        s.roles.rtp?.rss ?? null,
        s.roles.wrtc?.rss ?? null,
        s.external ?? null,
        s.mallocInUse ?? null,
        s.mallocFree ?? null,
      ]),
    };
  return {
    lines,
    passed,
    json: {
      bench: "soak",
      options: {
        minutes: options.minutes,
        rate: options.rate,
        warmup_minutes: options.warmupMinutes,
        session_timeout: options.sessionTimeout,
        media_every_s: options.mediaEvery,
        workers: options.workers,
      },
      ours: summary(ours) ?? null,
      reference: summary(ref) ?? (typeof reference === "string" ? { skipped: reference } : null),
      target_met: passed,
    },
  };
}
