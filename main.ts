/**
 * Entry point: load the configuration, start the media engine, the gateway and
 * its listeners; stop gracefully on SIGINT/SIGTERM.
 *
 * @module
 */
import { startApp } from "./app.ts";
import { ConfigError, loadConfig } from "./core/config.ts";
import { createLogger } from "./core/log.ts";
import { startMediaEngine } from "./core/media/start.ts";

const log = createLogger("main");

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      log.error(e.message);
      Deno.exit(2);
    }
    throw e;
  }
  const media = await startMediaEngine(config);
  const app = await startApp(config, media ? { media } : {});
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    const force = setTimeout(() => {
      log.error("graceful stop took over 5 s; exiting");
      Deno.exit(1);
    }, 4500);
    await app.stop(signal === "SIGINT" ? 2 : 15);
    clearTimeout(force);
    log.info("stopped");
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
}

if (import.meta.main) await main();
