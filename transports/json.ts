/**
 * Wire encoding shared by the transports: Janus pretty-prints with 3 spaces.
 *
 * @module
 */
import type { JsonObject } from "../core/protocol.ts";

/** The reference transports' `json` setting: 3-space indent, one line, or no spaces. */
export type JsonFormat = "indented" | "plain" | "compact";

/** Serialises a reply or event as the reference's transports do for `format`. */
export function encode(value: JsonObject | JsonObject[], format: JsonFormat = "indented"): string {
  if (format === "indented") return JSON.stringify(value, null, 3);
  if (format === "compact") return JSON.stringify(value);
  return plain(value);
}

/** jansson's `JSON_INDENT(0)`: one line, with a space after each `,` and `:`. */
function plain(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(plain).join(", ")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${plain(v)}`).join(", ")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Why a text is not a Janus request, worded like the reference's JSON parser. */
export interface ParseFailure {
  ok: false;
  /** e.g. `'[' or '{' expected near 'nope'` */
  reason: string;
  line: number;
  column: number;
}

/** The reference's JSON parser (jansson) quotes a token in its errors only up to this length. */
const NEAR_LIMIT = 20;

/**
 * Parses a request. Like the reference, only an object or an array is JSON here: a bare
 * scalar (`5`, `null`, `"x"`) fails as a parse error.
 */
export function parseRequest(text: string): { ok: true; value: unknown } | ParseFailure {
  const start = text.search(/\S/);
  const first = start < 0 ? "" : text[start];
  if (first !== "{" && first !== "[") {
    const token = start < 0
      ? ""
      : /^("(?:[^"\\]|\\.)*"?|[^\s,:\[\]{}]+|.)/.exec(text.slice(start))?.[0] ?? "";
    const before = start < 0 ? text : text.slice(0, start);
    const line = before.split("\n").length;
    const column = before.length - (before.lastIndexOf("\n") + 1) + token.length;
    if (token === "") {
      return { ok: false, reason: "'[' or '{' expected near end of file", line, column };
    }
    // A string that never closes is jansson's "premature end of input".
    const unterminated = token.startsWith('"') && !/^"(?:[^"\\]|\\.)*"$/.test(token);
    const message = unterminated ? "premature end of input" : "'[' or '{' expected";
    // Long tokens are not quoted back (as jansson): a 1 MB one would make a 1 MB reply.
    const reason = token.length <= NEAR_LIMIT ? `${message} near '${token}'` : message;
    return { ok: false, reason, line, column };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, reason: (e as Error).message, line: 1, column: 0 };
  }
}
