/**
 * A zod object from a plugin's field rules (`BodyField`), for the API's JSON Schema: the same
 * schemas `checkBody` validates with, required where the plugin requires them.
 *
 * @module
 */
import { z } from "zod";
import type { BodyField } from "./validate.ts";

/** The object `fields` describe (other keys allowed, as the plugins ignore them). */
export function fieldsObject(
  fields: readonly BodyField[],
  extra: Record<string, z.ZodType> = {},
): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const f of fields) shape[f.name] = f.required ? f.schema : f.schema.optional();
  return z.object({ ...shape, ...extra });
}

/** An error in a plugin's data: `<plugin>: "event"` with its code and words. */
export function pluginError(key: string): z.ZodObject {
  return z.object({
    [key]: z.literal("event"),
    error_code: z.number().int(),
    error: z.string(),
  });
}
