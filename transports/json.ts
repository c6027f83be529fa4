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
    if (start < 0) {
      const { line, column } = failAt(text, text.length, text.length, "");
      return { ok: false, reason: "'[' or '{' expected near end of file", line, column };
    }
    const token = text.slice(start, tokenEnd(text, start));
    // A string that never closes is jansson's "premature end of input".
    const unterminated = token.startsWith('"') && !/^"(?:[^"\\]|\\.)*"$/.test(token);
    const message = unterminated ? "premature end of input" : "'[' or '{' expected";
    return failAt(text, start, start + token.length, message);
  }
  const tooDeep = depthFailure(text);
  if (tooDeep) return tooDeep;
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, reason: (e as Error).message, line: 1, column: 0 };
  }
}

/**
 * jansson's JSON_PARSER_MAX_DEPTH: a value (container or scalar) nested deeper than this fails
 * to parse, "maximum parsing depth reached near '<token>'". Deeper values would also overflow
 * recursive code further on (`structuredClone` gives up at about 3000 levels).
 */
const MAX_JSON_DEPTH = 2048;

/** The reference's depth error for `text` (valid or not), or undefined within the limit. */
function depthFailure(text: string): ParseFailure | undefined {
  // Cheap bounds first: fewer brackets than the limit cannot nest that deep.
  if (text.length < MAX_JSON_DEPTH) return undefined;
  let brackets = 0;
  for (let i = 0; i < text.length && brackets < MAX_JSON_DEPTH; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) brackets++;
  }
  if (brackets < MAX_JSON_DEPTH) return undefined;
  const open: string[] = []; // the containers around the current position
  let keyNext = false; // in an object, after `{` or `,`: the next string is a key
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") continue;
    if (c === ":") {
      keyNext = false;
      continue;
    }
    if (c === ",") {
      keyNext = open[open.length - 1] === "{";
      continue;
    }
    if (c === "]" || c === "}") {
      open.pop();
      keyNext = false;
      continue;
    }
    const end = tokenEnd(text, i);
    if (keyNext) {
      i = end - 1;
      continue;
    }
    // A value, at depth open.length + 1 (the top-level value is at depth 1).
    if (open.length >= MAX_JSON_DEPTH) {
      return failAt(text, i, end, "maximum parsing depth reached");
    }
    if (c === "[" || c === "{") {
      open.push(c);
      keyNext = c === "{";
    } else {
      i = end - 1;
    }
  }
  return undefined;
}

/**
 * jansson's error for the token `text[start, end)`: the token quoted (`near`) when short (a
 * 1 MB one would make a 1 MB reply), at its line and the column of its last character.
 */
function failAt(
  text: string,
  start: number,
  end: number,
  message: string,
): ParseFailure {
  const near = text.slice(start, end);
  const before = text.slice(0, start);
  return {
    ok: false,
    reason: near.length <= NEAR_LIMIT ? `${message} near '${near}'` : message,
    line: before.split("\n").length,
    column: end - (before.lastIndexOf("\n") + 1),
  };
}

/**
 * Where the token starting at `start` ends, as jansson's lexer cuts it: a string (escapes
 * skipped, to the end of the text if it never closes), one punctuation character, a word.
 */
function tokenEnd(text: string, start: number): number {
  const c = text[start]!;
  if ("[]{},:".includes(c)) return start + 1;
  if (c === '"') {
    let i = start + 1;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    return Math.min(i + 1, text.length);
  }
  let i = start + 1;
  while (i < text.length && !" \t\n\r,:[]{}".includes(text[i]!)) i++;
  return i;
}
