/**
 * The Streaming plugin (`janus.plugin.streaming`): RTP mountpoints relayed to viewers.
 *
 * @module
 */
export {
  createStreamingPlugin,
  STOCK_MOUNTPOINTS,
  type StreamingCounts,
  type StreamingPlugin,
} from "./plugin.ts";
export { STREAMING_ERROR } from "./errors.ts";
