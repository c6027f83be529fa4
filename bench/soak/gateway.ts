/**
 * Our gateway for `deno task soak`, in its own process: the app on free loopback ports with
 * the admin API, a media engine (`--workers=N`) and a short session timeout
 * (`--session-timeout=S`), so that abandoned sessions expire during the run. Pushes a
 * `ready` event, then answers `info` (pid, ports, live media worker pids, live counts, V8
 * memory) over stdin/stdout; `gc` runs two full collections first (when `gc` is exposed);
 * `snapshot` writes a V8 heap snapshot.
 * End of stdin stops it gracefully.
 *
 * @module
 */
import { getHeapSpaceStatistics, writeHeapSnapshot } from "node:v8";
import { startApp } from "../../app.ts";
import { parseConfig } from "../../core/config.ts";
import { type Handlers, RpcServer } from "../../core/media/rpc.ts";
import { libcMallocStats } from "../../core/media/malloc_trim.ts";
import { startMediaEngine } from "../../core/media/start.ts";
import { testConfig } from "../../tests/_helpers/gateway.ts";
import type { SoakGatewayEvents, SoakGatewayInfo, SoakGatewayMethods } from "./protocol.ts";
import { childFlag } from "../child_flag.ts";
import { serveUntilStdinEnds } from "../child_serve.ts";

async function main(): Promise<void> {
  // Our V8 flags came in DENO_V8_FLAGS (bench/soak.ts); media workers must not inherit them,
  // as under `deno task start`, whose --v8-flags stay with the gateway.
  Deno.env.delete("DENO_V8_FLAGS");
  const config = parseConfig(testConfig({
    general: {
      session_timeout: childFlag("session-timeout", 8, false),
      watchdog_interval: 1,
      log_level: childFlag("log-level", 2),
    },
    media: { workers: Math.max(1, childFlag("workers", 1)) },
  }));
  const media = await startMediaEngine(config);
  if (!media) throw new Error("No media engine");
  const app = await startApp(config, { media });

  const gc = (globalThis as { gc?: () => void }).gc;
  const mallocStats = libcMallocStats();
  const info = (): SoakGatewayInfo => ({
    pid: Deno.pid,
    http: app.ports.http ?? 0,
    ws: app.ports.ws ?? 0,
    adminHttp: app.ports.adminHttp ?? 0,
    workerPids: media.workerPids?.() ?? [],
    counts: {
      ...app.gateway.counts(),
      ...app.transportCounts(),
      farewells: app.gateway.farewells,
      workers: media.counts().workers,
    },
    memory: Deno.memoryUsage(),
    spaces: Object.fromEntries(
      getHeapSpaceStatistics().filter((s) => s.space_size > 0).map((
        s,
      ) => [s.space_name, s.space_size]),
    ),
    ...(mallocStats ? { malloc: mallocStats() } : {}),
  });
  const handlers: Handlers<SoakGatewayMethods> = {
    info: () => Promise.resolve(info()),
    gc: () => {
      // Two full collections: the second frees what the first only finalised.
      gc?.();
      gc?.();
      return Promise.resolve(info());
    },
    snapshot: ({ path }) => {
      gc?.();
      gc?.();
      return Promise.resolve({ path: writeHeapSnapshot(path) });
    },
  };
  const server = new RpcServer<SoakGatewayMethods, SoakGatewayEvents>(
    Deno.stdout.writable,
    handlers,
  );
  server.notify("ready", info());
  await serveUntilStdinEnds(server, app);
}

if (import.meta.main) await main();
