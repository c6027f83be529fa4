/**
 * The EchoTest plugin (`janus.plugin.echotest`).
 *
 * @module
 */
export { createEchoTestPlugin, ECHOTEST_DATA_PREFIX, ECHOTEST_HINT } from "./plugin.ts";
export { ECHOTEST_ERROR } from "./errors.ts";
