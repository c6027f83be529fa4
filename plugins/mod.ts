/**
 * The built-in plugins, by name.
 *
 * @module
 */
import type { Plugin } from "../core/plugin.ts";
import { createAudioBridgePlugin } from "./audiobridge/mod.ts";
import { createEchoTestPlugin } from "./echotest/mod.ts";
import { createRecordPlayPlugin } from "./recordplay/mod.ts";
import { createStreamingPlugin } from "./streaming/mod.ts";
import { createTextRoomPlugin } from "./textroom/mod.ts";
import { createVideoCallPlugin } from "./videocall/mod.ts";
import { createVideoRoomPlugin } from "./videoroom/mod.ts";

/** Factories of every built-in plugin, in the order `info` lists them. */
export const BUILTIN_PLUGINS: readonly (() => Plugin)[] = [
  createEchoTestPlugin,
  createVideoRoomPlugin,
  createTextRoomPlugin,
  createAudioBridgePlugin,
  createVideoCallPlugin,
  createStreamingPlugin,
  createRecordPlayPlugin,
];
