/**
 * The VideoCall plugin (`janus.plugin.videocall`): one-to-one calls between registered users,
 * relayed by the gateway.
 *
 * @module
 */
export { createVideoCallPlugin, type VideoCallPlugin } from "./plugin.ts";
export { VIDEOCALL_ERROR } from "./errors.ts";
