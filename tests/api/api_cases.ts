/**
 * The Janus API case list, run once over HTTP (`http_api_test.ts`) and once
 * over WebSocket (`ws_api_test.ts`). Transport-specific cases carry `only`.
 *
 * @module
 */
import { CORE_CASES } from "./cases_core.ts";
import { HANDLE_CASES } from "./cases_handle.ts";
import { HTTP_CASES } from "./cases_http.ts";
import { SESSION_CASES } from "./cases_session.ts";
import { WS_CASES } from "./cases_ws.ts";
import type { ApiCase } from "./_util.ts";

export type { ApiCase, ApiContext, Kind } from "./_util.ts";
export { runsOver } from "./_util.ts";

/** Every API case. */
export const API_CASES: ApiCase[] = [
  ...CORE_CASES,
  ...HANDLE_CASES,
  ...SESSION_CASES,
  ...HTTP_CASES,
  ...WS_CASES,
];
