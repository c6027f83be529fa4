/**
 * Wires one gateway: media engine, core, plugins and listeners. Used by
 * `main.ts` and by the tests (ports 0 pick free ports).
 *
 * @module
 */
import type { Config } from "./core/config.ts";
import { Gateway } from "./core/gateway.ts";
import { createLogger } from "./core/log.ts";
import type { MediaEngine } from "./core/media/types.ts";
import type { Clock } from "./core/clock.ts";
import type { Plugin } from "./core/plugin.ts";
import { BUILTIN_PLUGINS } from "./plugins/mod.ts";
import { PLUGIN_API_SCHEMAS } from "./plugins/schemas.ts";
import { apiSchemaDocument } from "./core/schema/document.ts";
import { adminWsOptions, createAdminHttp } from "./transports/admin.ts";
import { addDemoRoutes } from "./transports/demo.ts";
import { createHttpTransport, HTTP_TRANSPORT } from "./transports/http.ts";
import { transportQuery, type TransportTweaks } from "./transports/tweaks.ts";
import { janusWsOptions, upgradeRequest, WS_TRANSPORT, type WsStats } from "./transports/ws.ts";

const log = createLogger("app");

/** A running gateway and its listeners. */
export interface RunningApp {
  gateway: Gateway;
  ports: { http?: number; ws?: number; adminHttp?: number; adminWs?: number };
  /** Live sockets and polls, for leak checks. */
  transportCounts(): { sockets: number; polls: number };
  /** Graceful stop: refuse sessions, destroy them, close listeners. */
  /** `signum`: the signal that asked for it, for the event handlers' `shutdown` event. */
  stop(signum?: number): Promise<void>;
}

/** Options for `startApp`. */
export interface StartOptions {
  media?: MediaEngine;
  clock?: Clock;
  plugins?: readonly (() => Plugin)[];
  /** Start the watchdog timer (default true). */
  watchdog?: boolean;
}

/** Starts a gateway with `config`. */
export async function startApp(config: Config, options: StartOptions = {}): Promise<RunningApp> {
  const gateway = new Gateway({
    config,
    ...(options.media ? { media: options.media } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  for (const factory of options.plugins ?? BUILTIN_PLUGINS) await gateway.addPlugin(factory());
  if (options.watchdog ?? true) gateway.startWatchdog();

  const abort = new AbortController();
  const servers: Deno.HttpServer[] = [];
  const ports: RunningApp["ports"] = {};
  const wsStats: WsStats = { sockets: 0 };
  const adminStats: WsStats = { sockets: 0 };
  const serve = (hostname: string, port: number, handler: Deno.ServeHandler): number => {
    const server = Deno.serve(
      { hostname, port, signal: abort.signal, onListen: () => {} },
      handler,
    );
    servers.push(server);
    return server.addr.port;
  };

  // Each transport's run-time settings, shared by its API and admin listeners (as Janus's).
  const httpTweaks: TransportTweaks = { json: config.http.json, events: config.http.events };
  const wsTweaks: TransportTweaks = { json: config.ws.json, events: config.ws.events };
  const adminHttpStats = { requests: 0 };
  const registered = PLUGIN_API_SCHEMAS.filter((s) => gateway.plugins.has(s.plugin));
  const http = createHttpTransport(gateway, {
    schema: apiSchemaDocument(registered),
    tweaks: httpTweaks,
  });
  const eventsEnabled = () => gateway.events.enabled;
  gateway.transports.set(
    HTTP_TRANSPORT,
    transportQuery(httpTweaks, {
      eventsEnabled,
      // Deno.serve does not expose its connections: the requests being served stand in.
      connections: () => ({
        connections: {
          http: http.stats.requests,
          ...(config.general.admin_secret !== undefined
            ? { admin_http: adminHttpStats.requests }
            : {}),
        },
        messages: http.stats.requests + adminHttpStats.requests,
      }),
    }),
  );
  gateway.transports.set(
    WS_TRANSPORT,
    transportQuery(wsTweaks, {
      eventsEnabled,
      connections: () => ({ connections: wsStats.sockets + adminStats.sockets }),
      logging: true,
    }),
  );
  if (config.http.demo) {
    await addDemoRoutes(http.app, {
      basePath: config.http.base_path,
      wsPort: () => ports.ws,
      demosDir: config.http.demos_dir,
    });
  }
  if (config.http.enabled) ports.http = serve(config.http.bind, config.http.port, http.app.fetch);
  if (config.ws.enabled) {
    const ws = janusWsOptions(gateway, wsStats, wsTweaks);
    ports.ws = serve(
      config.http.bind,
      config.ws.port,
      (req, info) => upgradeRequest(req, ws, info),
    );
  }
  if (config.general.admin_secret !== undefined) {
    const admin = createAdminHttp(gateway, httpTweaks, adminHttpStats);
    ports.adminHttp = serve(config.admin.bind, config.admin.http_port, admin.fetch);
    const adminWs = adminWsOptions(gateway, adminStats, wsTweaks);
    ports.adminWs = serve(
      config.admin.bind,
      config.admin.ws_port,
      (req, info) => upgradeRequest(req, adminWs, info),
    );
  } else {
    log.info("admin API off: no admin_secret configured (set JANUS_ADMIN_SECRET to enable it)");
  }
  log.info(`listening: ${JSON.stringify(ports)}`);
  gateway.announceStarted();

  let stopped: Promise<void> | undefined;
  return {
    gateway,
    ports,
    transportCounts: () => ({
      sockets: wsStats.sockets + adminStats.sockets,
      polls: http.stats.polls,
    }),
    stop(signum?: number) {
      stopped ??= (async () => {
        await gateway.shutdown(signum);
        abort.abort();
        await Promise.all(servers.map((s) => s.finished));
      })();
      return stopped;
    },
  };
}
