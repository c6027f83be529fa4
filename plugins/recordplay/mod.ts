/**
 * The Record&Play plugin (`janus.plugin.recordplay`).
 *
 * @module
 */
export { createRecordPlayPlugin, RecordPlayConfig } from "./plugin.ts";
export { RECORDPLAY_ERROR } from "./errors.ts";
