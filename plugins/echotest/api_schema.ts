/**
 * EchoTest's part of the API's JSON Schema: its message body and its data.
 *
 * @module
 */
import { z } from "zod";
import type { PluginApiSchema } from "../../core/schema/types.ts";
import { pluginError } from "../_shared/api_schema.ts";
import { EchoTestBody } from "./schemas.ts";

/** `janus.plugin.echotest`. */
export const ECHOTEST_API: PluginApiSchema = {
  plugin: "janus.plugin.echotest",
  request: EchoTestBody,
  data: z.union([
    z.object({ echotest: z.literal("event"), result: z.enum(["ok", "done"]) }),
    pluginError("echotest"),
  ]),
};
