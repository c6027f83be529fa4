/**
 * The TextRoom fan-out phase's table and JSON: each server's best window side by side.
 *
 * @module
 */
import { fmt as f, ratio, table } from "../report.ts";
import type { TextRoomBenchResult, TextRoomServerResult, TextRoomWindow } from "./protocol.ts";

/** One row per server (its best window), then ours / reference. */
export function textRoomTable(result: TextRoomBenchResult): string {
  const rows: string[][] = [[
    "server",
    "delivered/s",
    "messages/s",
    "ack p50 ms",
    "ack p99 ms",
    "missing",
    "errors",
    "server CPU %",
    "µs CPU/delivered",
    "client CPU %",
    "joined in s",
    "rounds delivered/s",
  ]];
  const row = (name: string, r: TextRoomServerResult | undefined) => {
    const b = r?.best;
    rows.push([
      name,
      f(b?.deliveredPerSecond),
      f(b?.ackedPerSecond),
      f(b?.ackP50Ms, 1),
      f(b?.ackP99Ms, 1),
      f(b?.missing),
      f(b?.errors),
      f(b?.serverCpuPercent),
      f(b?.serverUsPerDelivered, 1),
      f(b?.clientCpuPercent),
      f(r?.connectSeconds, 2),
      r ? r.windows.map((w) => f(w.deliveredPerSecond)).join(", ") : "-",
    ]);
  };
  row("ours", result.ours);
  if (result.reference) row("reference", result.reference);
  const o = result.ours?.best;
  const ref = result.reference?.best;
  if (o && ref) {
    rows.push([
      "ours / reference",
      f(ratio(o.deliveredPerSecond, ref.deliveredPerSecond), 2),
      f(ratio(o.ackedPerSecond, ref.ackedPerSecond), 2),
      "",
      "",
      "",
      "",
      "",
      f(ratio(o.serverUsPerDelivered, ref.serverUsPerDelivered), 2),
      "",
      f(ratio(result.ours?.connectSeconds, result.reference?.connectSeconds), 2),
      "",
    ]);
  }
  return table(rows);
}

function windowJson(w: TextRoomWindow | undefined) {
  return w === undefined ? null : {
    delivered_per_s: w.deliveredPerSecond,
    messages_per_s: w.ackedPerSecond,
    ack_p50_ms: w.ackP50Ms,
    ack_p99_ms: w.ackP99Ms,
    missing: w.missing,
    errors: w.errors,
    server_cpu_percent: w.serverCpuPercent,
    server_us_per_delivered: w.serverUsPerDelivered,
    client_cpu_percent: w.clientCpuPercent,
  };
}

/** The phase's figures for the bench's final JSON line. */
export function textRoomJson(result: TextRoomBenchResult): Record<string, unknown> {
  const server = (r: TextRoomServerResult | undefined) =>
    r === undefined ? null : {
      joined_s: r.connectSeconds,
      rounds_delivered_per_s: r.windows.map((w) => w.deliveredPerSecond),
      best: windowJson(r.best),
    };
  return {
    participants: result.options.participants,
    seconds: result.options.seconds,
    window: result.options.window,
    size: result.options.size,
    reference_status: result.referenceStatus,
    ours: server(result.ours),
    reference: server(result.reference),
    ratio_delivered_per_s: ratio(
      result.ours?.best?.deliveredPerSecond,
      result.reference?.best?.deliveredPerSecond,
    ) ?? null,
    notes: result.notes,
  };
}
