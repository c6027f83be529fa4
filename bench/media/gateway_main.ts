/**
 * Our gateway for the media bench, in its own process: the app on free loopback ports with
 * a media engine (`--workers=N` worker processes), no session timeout. Pushes a `ready`
 * event, then answers `info` (its pid, ports, live media worker pids, live counts) over
 * stdin/stdout (`GatewayMethods`); logs go to stderr. End of stdin stops it gracefully.
 *
 * @module
 */
import { startApp } from "../../app.ts";
import { parseConfig } from "../../core/config.ts";
import { type Handlers, RpcServer } from "../../core/media/rpc.ts";
import { startMediaEngine } from "../../core/media/start.ts";
import { testConfig } from "../../tests/_helpers/gateway.ts";
import type { GatewayEvents, GatewayInfo, GatewayMethods } from "./protocol.ts";
import { childFlag } from "../child_flag.ts";
import { serveUntilStdinEnds } from "../child_serve.ts";

async function main(): Promise<void> {
  const config = parseConfig(testConfig({
    general: { session_timeout: 0, log_level: childFlag("log-level", 3) },
    media: { workers: Math.max(1, childFlag("workers", 1)) },
  }));
  const media = await startMediaEngine(config);
  if (!media) throw new Error("No media engine");
  const app = await startApp(config, { media });
  const info = (): GatewayInfo => ({
    pid: Deno.pid,
    http: app.ports.http ?? 0,
    ws: app.ports.ws ?? 0,
    workerPids: media.workerPids?.() ?? [],
    counts: { ...app.gateway.counts(), ...app.transportCounts() },
  });
  const handlers: Handlers<GatewayMethods> = { info: () => Promise.resolve(info()) };
  const server = new RpcServer<GatewayMethods, GatewayEvents>(Deno.stdout.writable, handlers);
  server.notify("ready", info());
  await serveUntilStdinEnds(server, app);
}

if (import.meta.main) await main();
