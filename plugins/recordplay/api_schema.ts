/**
 * Record&Play's part of the API's JSON Schema: a body per request (the fields the plugin
 * checks, as in `plugin.ts`) and its data (replies, events, errors).
 *
 * @module
 */
import { z } from "zod";
import type { PluginApiSchema } from "../../core/schema/types.ts";
import { pluginError } from "../_shared/api_schema.ts";

const id = z.number().int().min(0);

/** What a recording or playout tells in `result.status`. */
const STATUSES = [
  "recording",
  "preparing",
  "restarting",
  "playing",
  "paused",
  "resumed",
  "stopped",
  "slow_link",
] as const;

/** `janus.plugin.recordplay`. */
export const RECORDPLAY_API: PluginApiSchema = {
  plugin: "janus.plugin.recordplay",
  request: z.union([
    z.object({ request: z.enum(["list", "update", "start", "stop", "pause", "resume"]) }),
    z.object({
      request: z.literal("configure"),
      "video-bitrate-max": id.optional(),
      "video-keyframe-interval": id.optional(),
    }),
    z.object({
      request: z.literal("record"),
      name: z.string().min(1),
      id: id.optional(),
      filename: z.string().optional(),
      audiocodec: z.string().optional(),
      videocodec: z.string().optional(),
      videoprofile: z.string().optional(),
      opusred: z.boolean().optional(),
      textdata: z.boolean().optional(),
      update: z.boolean().optional(),
    }),
    z.object({ request: z.literal("play"), id, restart: z.boolean().optional() }),
  ]),
  data: z.union([
    pluginError("recordplay"),
    z.object({ recordplay: z.literal("ok") }),
    // pause/resume of a handle with no recording.
    z.strictObject({ recordplay: z.literal("event") }),
    z.object({
      recordplay: z.literal("list"),
      list: z.array(z.looseObject({ id, name: z.string(), date: z.string() })),
    }),
    z.object({
      recordplay: z.literal("configure"),
      status: z.literal("ok"),
      settings: z.record(z.string(), z.number()),
    }),
    z.object({
      recordplay: z.literal("event"),
      result: z.union([
        z.literal("done"),
        z.looseObject({ status: z.enum(STATUSES), id: id.optional() }),
      ]),
    }),
  ]),
};
