/**
 * The VideoRoom plugin (`janus.plugin.videoroom`): an SFU with rooms, publishers and
 * (multistream) subscribers.
 *
 * @module
 */
export { createVideoRoomPlugin } from "./plugin.ts";
export { VIDEOROOM_ERROR } from "./errors.ts";
export { STOCK_ROOMS } from "./room.ts";
