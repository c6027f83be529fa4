/**
 * The API schemas of the built-in plugins (`core/schema/document.ts` adds them to the JSON
 * Schema). A new plugin registers with one line here.
 *
 * @module
 */
import type { PluginApiSchema } from "../core/schema/types.ts";
import { AUDIOBRIDGE_API } from "./audiobridge/api_schema.ts";
import { ECHOTEST_API } from "./echotest/api_schema.ts";
import { RECORDPLAY_API } from "./recordplay/api_schema.ts";
import { STREAMING_API } from "./streaming/api_schema.ts";
import { TEXTROOM_API } from "./textroom/api_schema.ts";
import { VIDEOCALL_API } from "./videocall/api_schema.ts";
import { VIDEOROOM_API } from "./videoroom/api_schema.ts";

/** Every built-in plugin's request and data schemas. */
export const PLUGIN_API_SCHEMAS: readonly PluginApiSchema[] = [
  ECHOTEST_API,
  VIDEOROOM_API,
  VIDEOCALL_API,
  TEXTROOM_API,
  STREAMING_API,
  RECORDPLAY_API,
  AUDIOBRIDGE_API,
];
