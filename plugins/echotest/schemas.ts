/**
 * The EchoTest request: one unnamed kind whose known attributes are checked in
 * the reference's order.
 *
 * @module
 */
import { z } from "zod";
import { BODY, type BodyField } from "../_shared/validate.ts";

const layer = (name: string): BodyField => ({
  name,
  ...BODY.positiveInt,
  valid: {
    test: (v) => typeof v === "number" && v <= 2,
    message: `Invalid value (${name} should be 0, 1 or 2)`,
  },
});

/** Known attributes, in the order the reference checks them. */
export const ECHOTEST_FIELDS: readonly BodyField[] = [
  { name: "audio", ...BODY.bool },
  { name: "video", ...BODY.bool },
  { name: "bitrate", ...BODY.positiveInt },
  { name: "record", ...BODY.bool },
  { name: "filename", ...BODY.string },
  layer("substream"),
  layer("temporal"),
  { name: "fallback", ...BODY.positiveInt },
  { name: "audiocodec", ...BODY.string },
  { name: "videocodec", ...BODY.string },
  { name: "videoprofile", ...BODY.string },
  { name: "opusred", ...BODY.bool },
  // Playout-delay extension bounds (accepted; wrtc does not negotiate the extension).
  { name: "min_delay", schema: z.number().int(), expected: "an integer" },
  { name: "max_delay", schema: z.number().int(), expected: "an integer" },
];

/** A checked EchoTest body. */
export const EchoTestBody = z.object({
  audio: z.boolean().optional(),
  video: z.boolean().optional(),
  bitrate: z.number().int().min(0).optional(),
  record: z.boolean().optional(),
  filename: z.string().optional(),
  substream: z.number().int().min(0).max(2).optional(),
  temporal: z.number().int().min(0).max(2).optional(),
  fallback: z.number().int().min(0).optional(),
  audiocodec: z.string().optional(),
  videocodec: z.string().optional(),
  videoprofile: z.string().optional(),
  opusred: z.boolean().optional(),
  min_delay: z.number().int().optional(),
  max_delay: z.number().int().optional(),
});

/** The parsed body type. */
export type EchoTestBody = z.infer<typeof EchoTestBody>;
