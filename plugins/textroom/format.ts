/**
 * How the plugin writes JSON on the data channel (as jansson does with the reference's
 * `json` setting) and the date of messages (`%FT%T%z`, local time).
 *
 * @module
 */
import type { Json } from "../../core/plugin.ts";
import type { JsonFormat } from "./schemas.ts";

/** Serialises `value`: indented (3 spaces), plain (`", "` / `": "`, one line) or compact. */
export function formatJson(value: Json, format: JsonFormat): string {
  if (format === "indented") return JSON.stringify(value, null, 3);
  if (format === "compact") return JSON.stringify(value);
  return plain(value);
}

function plain(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(plain).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const fields = Object.entries(value).filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}: ${plain(v as Json)}`);
    return `{${fields.join(", ")}}`;
  }
  return JSON.stringify(value);
}

const pad = (n: number) => String(n).padStart(2, "0");

/** `2026-11-24T00:42:00+0000`: local time with its UTC offset, as strftime's `%FT%T%z`. */
export function messageDate(now = new Date()): string {
  const offset = -now.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}T` +
    `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}` +
    `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}
