/**
 * The AudioBridge plugin (`janus.plugin.audiobridge`): audio conference rooms, mixed in a
 * media worker.
 *
 * @module
 */
export {
  type AudioBridgeCounts,
  type AudioBridgePlugin,
  createAudioBridgePlugin,
} from "./plugin.ts";
export { AUDIOBRIDGE_ERROR } from "./errors.ts";
export { STOCK_ROOMS } from "./room.ts";
