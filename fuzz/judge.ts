/**
 * What counts as an acceptable reply: Janus JSON, or one of the plain statuses the
 * reference also gives (see tests/api/cases_http.ts), or the HTTP layer's empty 4xx for
 * framing that cannot parse.
 *
 * @module
 */
import type { RawReply } from "./raw_http.ts";

/** A verdict on one reply. */
export type Verdict = "ok" | "crash" | "non-janus" | "unexpected";

/** True for a Janus message (`{"janus": ...}`), or a long poll's array of them. */
export function isJanusJson(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  const one = (v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v) &&
    typeof (v as { janus?: unknown }).janus === "string";
  return Array.isArray(value) ? value.length > 0 && value.every(one) : one(value);
}

/** A 490 "Unexpected error": something threw inside, caught by a safety net. */
export function isUnexpected(text: string): boolean {
  return /"code": 490,\s*"reason": "Unexpected error/.test(text);
}

/** Plain (non-JSON) replies the reference gives too: status and whether a body may come. */
const PLAIN = new Set([404, 403, 302, 400, 200]);
/** What the HTTP server itself answers to requests it cannot parse. */
const FRAMING = new Set([400, 408, 413, 414, 431, 501, 505]);

/** Judges one HTTP reply; `head` for a HEAD request, `framing` when the request was broken on purpose. */
export function judgeHttp(
  reply: RawReply,
  options: { head: boolean; framing: boolean; method: string },
): Verdict {
  if (reply.status >= 500 && !(options.framing && FRAMING.has(reply.status))) return "crash";
  const type = reply.headers.get("content-type") ?? "";
  if (type.startsWith("application/json") && !options.head) {
    if (!isJanusJson(reply.body)) return "non-janus";
    return isUnexpected(reply.body) ? "unexpected" : "ok";
  }
  if (reply.body !== "" && !options.head) return "non-janus";
  if (PLAIN.has(reply.status)) {
    // 200 without a body only answers OPTIONS (CORS) and HEAD.
    if (reply.status === 200 && options.method !== "OPTIONS" && !options.head) return "non-janus";
    return "ok";
  }
  return options.framing && FRAMING.has(reply.status) ? "ok" : "non-janus";
}

/** Judges one WebSocket text message. */
export function judgeWsText(text: string): Verdict {
  if (!isJanusJson(text)) return "non-janus";
  return isUnexpected(text) ? "unexpected" : "ok";
}
