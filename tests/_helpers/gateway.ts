/**
 * Starts a gateway for one test on free loopback ports, and checks on stop that
 * every session, handle, peer, media source and mixer, timer, poll and socket was released.
 *
 * @module
 */
import { type RunningApp, startApp, type StartOptions } from "../../app.ts";
import { type ConfigInput, parseConfig } from "../../core/config.ts";
import { setLogLevel } from "../../core/log.ts";

/** Deep-merges plain objects (for config overrides). */
function merge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const cur = out[k];
    out[k] = typeof v === "object" && v !== null && !Array.isArray(v) && typeof cur === "object" &&
        cur !== null && !Array.isArray(cur)
      ? merge(cur as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}

/** The loopback test configuration: free ports, admin on, no media workers. */
export function testConfig(overrides: ConfigInput = {}): ConfigInput {
  return merge({
    general: { admin_secret: "janusoverlord", log_level: 1 },
    http: { bind: "127.0.0.1", port: 0 },
    ws: { port: 0 },
    admin: { bind: "127.0.0.1", http_port: 0, ws_port: 0 },
    media: { workers: 0 },
  }, overrides as Record<string, unknown>) as ConfigInput;
}

/** A gateway under test; `await using` stops it and asserts nothing leaked. */
export interface TestGateway extends AsyncDisposable {
  app: RunningApp;
  httpUrl: string;
  wsUrl: string;
  adminUrl: string;
  adminWsUrl: string;
  /** Everything live right now. */
  counts(): Record<string, number>;
  stop(): Promise<void>;
}

/** Starts a gateway on loopback with `overrides` on top of the test configuration. */
export async function startTestGateway(
  overrides: ConfigInput = {},
  options: StartOptions = {},
): Promise<TestGateway> {
  setLogLevel(1);
  const config = parseConfig(testConfig(overrides));
  const app = await startApp(config, options);
  const { http, ws, adminHttp, adminWs } = app.ports;
  const live = () => ({ ...app.gateway.counts(), ...app.transportCounts() });
  // Stock mountpoints (and any configured AudioBridge mixer) exist from start: while the
  // gateway runs, only sources and mixers made since count.
  const { sources, mixers } = app.gateway.counts();
  const counts = () => {
    const now = live();
    return { ...now, sources: now.sources - sources, mixers: now.mixers - mixers };
  };
  const stop = async () => {
    await app.stop();
    // Once stopped, nothing may be left: the stock sources too.
    const left = live();
    const leaked = Object.entries(left).filter(([, n]) => n !== 0);
    if (leaked.length > 0) throw new Error(`Leaked after stop: ${JSON.stringify(left)}`);
  };
  return {
    app,
    httpUrl: `http://127.0.0.1:${http}/janus`,
    wsUrl: `ws://127.0.0.1:${ws}`,
    adminUrl: `http://127.0.0.1:${adminHttp}/admin`,
    adminWsUrl: `ws://127.0.0.1:${adminWs}`,
    counts,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
