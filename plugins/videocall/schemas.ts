/**
 * VideoCall request fields, in the order the reference checks them (`checkBody`: 475
 * missing, 474 invalid).
 *
 * @module
 */
import { z } from "zod";
import { BODY, type BodyField } from "../_shared/validate.ts";

/** Every request: `request` is a string. */
export const REQUEST_FIELDS: readonly BodyField[] = [
  { name: "request", ...BODY.string, required: true },
];

/** `register` and `call`: the username. */
export const USERNAME_FIELDS: readonly BodyField[] = [
  { name: "username", ...BODY.string, required: true },
];

/** A range check the reference words as "Invalid value (...)", whatever the type. */
const ranged = (name: string, test: (n: number) => boolean, should: string): BodyField => ({
  name,
  schema: z.unknown(),
  expected: "",
  valid: {
    test: (v) => typeof v === "number" && Number.isInteger(v) && test(v),
    message: `Invalid value (${name} should be ${should})`,
  },
});

/** `set`: typed fields first, then the simulcast ranges (as the reference checks them). */
export const SET_FIELDS: readonly BodyField[] = [
  { name: "audio", ...BODY.bool },
  { name: "video", ...BODY.bool },
  { name: "bitrate", ...BODY.positiveInt },
  { name: "record", ...BODY.bool },
  { name: "filename", ...BODY.string },
  { name: "restart", ...BODY.bool },
  ranged("substream", (n) => n >= 0 && n <= 2, "0, 1 or 2"),
  ranged("temporal", (n) => n >= 0 && n <= 2, "0, 1 or 2"),
  ranged("fallback", (n) => n >= 0, "a positive integer"),
];

/** A checked `set` body. */
export const SetBody = z.object({
  audio: z.boolean().optional(),
  video: z.boolean().optional(),
  bitrate: z.number().int().min(0).optional(),
  record: z.boolean().optional(),
  filename: z.string().optional(),
  restart: z.boolean().optional(),
  substream: z.number().int().min(0).max(2).optional(),
  temporal: z.number().int().min(0).max(2).optional(),
  fallback: z.number().int().min(0).optional(),
});

/** The parsed `set` body. */
export type SetBody = z.infer<typeof SetBody>;
