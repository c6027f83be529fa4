/**
 * Plugin-side body checks: a list of field rules (zod), checked in order, each
 * failure a `PluginError` with the plugin's own code and the reference's words.
 *
 * @module
 */
import { z } from "zod";
import { type JsonObject, PluginError } from "../../core/plugin.ts";

/** One field of a plugin request. */
export interface BodyField {
  name: string;
  schema: z.ZodType;
  /** "a boolean", "a positive integer" ... */
  expected: string;
  required?: boolean;
  /** A range check after the type check, with its own wording. */
  valid?: { test: (value: unknown) => boolean; message: string };
}

/** Common field schemas. */
export const BODY = {
  bool: { schema: z.boolean(), expected: "a boolean" },
  string: { schema: z.string(), expected: "a string" },
  positiveInt: { schema: z.number().int().min(0), expected: "a positive integer" },
} as const;

/** Checks `body` against `fields` in order; throws the first failure with `codes`. */
export function checkBody(
  body: JsonObject,
  fields: readonly BodyField[],
  codes: { missing: number; invalid: number },
): void {
  for (const field of fields) {
    const value = body[field.name];
    if (value === undefined) {
      if (field.required) {
        throw new PluginError(codes.missing, `Missing mandatory element (${field.name})`);
      }
      continue;
    }
    if (!field.schema.safeParse(value).success) {
      throw new PluginError(
        codes.invalid,
        `Invalid element type (${field.name} should be ${field.expected})`,
      );
    }
    if (field.valid && !field.valid.test(value)) {
      throw new PluginError(codes.invalid, field.valid.message);
    }
  }
}

/**
 * The reference's secret check (JANUS_CHECK_SECRET) on `body[name]` (a secret, pin or admin
 * key): nothing to do when `expected` is unset; else the field is required (`codes.missing`),
 * a string (`codes.invalid`) and equal (`codes.unauthorized`, `Unauthorized (wrong NAME)`).
 */
export function checkSecret(
  expected: string | undefined,
  body: JsonObject,
  name: string,
  codes: { missing: number; invalid: number; unauthorized: number },
): void {
  if (expected === undefined) return;
  checkBody(body, [{ name, ...BODY.string, required: true }], codes);
  if (body[name] !== expected) {
    throw new PluginError(codes.unauthorized, `Unauthorized (wrong ${name})`);
  }
}
