/**
 * zod schemas of the Janus envelope, with the reference's wording for each
 * failure: a missing field is 456, a wrong type 467 (or a caller's own pair).
 *
 * @module
 */
import { z } from "zod";
import { JanusError } from "./errors.ts";
import { JANUS_ERROR, type JanusErrorCode, type JsonObject } from "./protocol.ts";

/** One field rule: its schema and how the reference words its failures. */
export interface FieldRule<T> {
  schema: z.ZodType<T>;
  /** "a string", "an object", "a positive integer" ... */
  expected: string;
}

/** The common field kinds. */
export const FIELD = {
  string: { schema: z.string(), expected: "a string" },
  object: {
    schema: z.record(z.string(), z.unknown()).refine((v) => !Array.isArray(v)),
    expected: "an object",
  },
  positiveInteger: {
    schema: z.number().int().min(0).max(Number.MAX_VALUE),
    expected: "a positive integer",
  },
  boolean: { schema: z.boolean(), expected: "a boolean" },
} as const;

/** How failures are worded and coded for one family of fields. */
export interface FieldStyle {
  missing: (name: string) => string;
  invalid: (name: string, expected: string) => string;
  missingCode?: JanusErrorCode;
  invalidCode?: JanusErrorCode;
  echoTransaction?: boolean;
}

/** The core envelope's wording. */
export const CORE_STYLE: FieldStyle = {
  missing: (n) => `Missing mandatory element (${n})`,
  invalid: (n, e) => `Invalid element type (${n} should be ${e})`,
};

/** The JSEP object's wording. */
export const JSEP_STYLE: FieldStyle = {
  missing: (n) => `JSEP error: missing mandatory element (${n})`,
  invalid: (n, e) => `JSEP error: invalid element type (${n} should be ${e})`,
};

/** The trickle candidate's wording. */
export const TRICKLE_STYLE: FieldStyle = {
  missing: (n) => `Trickle error: missing mandatory element (${n})`,
  invalid: (n, e) => `Trickle error: invalid element type (${n} should be ${e})`,
};

/** Envelope checks never echo the transaction (as the reference). */
export const ENVELOPE_STYLE: FieldStyle = { ...CORE_STYLE, echoTransaction: false };

/** Reads a required field, throwing the style's 456/467. */
export function required<T>(
  object: JsonObject,
  name: string,
  rule: FieldRule<T>,
  style: FieldStyle = CORE_STYLE,
): T {
  if (object[name] === undefined) {
    throw new JanusError(
      style.missingCode ?? JANUS_ERROR.MISSING_MANDATORY_ELEMENT,
      style.missing(name),
      {
        echoTransaction: style.echoTransaction ?? true,
      },
    );
  }
  return check(object, name, rule, style) as T;
}

/** Reads an optional field, throwing the style's 467 when it has the wrong type. */
export function optional<T>(
  object: JsonObject,
  name: string,
  rule: FieldRule<T>,
  style: FieldStyle = CORE_STYLE,
): T | undefined {
  if (object[name] === undefined) return undefined;
  return check(object, name, rule, style);
}

function check<T>(object: JsonObject, name: string, rule: FieldRule<T>, style: FieldStyle): T {
  const result = rule.schema.safeParse(object[name]);
  if (!result.success) {
    throw new JanusError(
      style.invalidCode ?? JANUS_ERROR.INVALID_ELEMENT_TYPE,
      style.invalid(name, rule.expected),
      { echoTransaction: style.echoTransaction ?? true },
    );
  }
  return result.data;
}

/** An id read from `session_id` / `handle_id`: a positive integer, else absent. */
export const IdSchema: z.ZodType<number> = z.number().int().positive();

/** True when `value` is a valid id (the common absent case answers without zod). */
export function isId(value: unknown): value is number {
  return typeof value === "number" && IdSchema.safeParse(value).success;
}

/** An ICE candidate as checked once a PeerConnection exists. */
export const CandidateSchema = z.object({
  candidate: z.string(),
  sdpMid: z.string().nullish(),
  sdpMLineIndex: z.number().int().min(0).nullish(),
  usernameFragment: z.string().nullish(),
});

/** The sort of SDP check the reference makes before any plugin sees it. */
export function checkSdp(sdp: string): void {
  if (!sdp.startsWith("v=")) {
    throw new JanusError(JANUS_ERROR.JSEP_INVALID_SDP, "Invalid SDP (doesn't start with v=)");
  }
  const lines = sdp.split(/\r?\n/);
  const has = (prefix: string) => lines.some((l) => l.startsWith(prefix));
  if (!has("o=") || !has("s=") || !has("m=")) {
    throw new JanusError(JANUS_ERROR.JSEP_INVALID_SDP, "Missing mandatory lines (o=, s= or m=)");
  }
}
