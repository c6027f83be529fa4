/**
 * The TextRoom plugin (`janus.plugin.textroom`): text chat rooms over data channels.
 *
 * @module
 */
export { createTextRoomPlugin, type TextRoomCounts, type TextRoomPlugin } from "./plugin.ts";
export { TEXTROOM_ERROR } from "./errors.ts";
export { STOCK_ROOMS } from "./room.ts";
