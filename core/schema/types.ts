/**
 * What a plugin registers for the API's JSON Schema: the zod schemas of its message bodies
 * and of the `plugindata.data` it answers and pushes.
 *
 * @module
 */
import type { z } from "zod";

/** A plugin's part of the API schema (registered in `plugins/schemas.ts`). */
export interface PluginApiSchema {
  /** The plugin package (`janus.plugin.echotest`). */
  plugin: string;
  /** The `body` of a `message` to it. */
  request: z.ZodType;
  /** Its `plugindata.data`: synchronous replies, asynchronous events and errors. */
  data: z.ZodType;
}
