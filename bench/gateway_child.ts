/**
 * The gateway under test, in its own process: starts the app on loopback with
 * no media workers and no session timeout, prints one `ready` JSON line, then
 * answers commands read from stdin (`stats`, `gc`, `stop`), one JSON line each.
 * End of stdin stops it, so it never outlives the bench.
 *
 * Flags: --http-port=N --ws-port=N (0 = free ports), --ws-rate-limit=N.
 *
 * @module
 */
import { startApp } from "../app.ts";
import { parseConfig } from "../core/config.ts";
import { testConfig } from "../tests/_helpers/gateway.ts";
import { print } from "./print.ts";
import { childFlag } from "./child_flag.ts";

/** What the child reports about itself. */
export interface ChildStats {
  type: "stats" | "stopped";
  counts: Record<string, number>;
  memory: { rss: number; heapTotal: number; heapUsed: number; external: number };
  gc: boolean;
}

/** The first line the child prints. */
export interface ChildReady {
  type: "ready";
  pid: number;
  http: number;
  ws: number;
}

async function main(): Promise<void> {
  const config = parseConfig(testConfig({
    general: { session_timeout: 0, log_level: 2 },
    http: { bind: "127.0.0.1", port: childFlag("http-port", 0) },
    ws: { port: childFlag("ws-port", 0) },
    media: { workers: 0 },
    limits: { ws_requests_per_second: childFlag("ws-rate-limit", 0) },
  }));
  const app = await startApp(config);
  const gc = (globalThis as { gc?: () => void }).gc;
  const stats = (type: ChildStats["type"]): ChildStats => ({
    type,
    counts: { ...app.gateway.counts(), ...app.transportCounts() },
    memory: Deno.memoryUsage(),
    gc: gc !== undefined,
  });
  const ready: ChildReady = {
    type: "ready",
    pid: Deno.pid,
    http: app.ports.http ?? 0,
    ws: app.ports.ws ?? 0,
  };
  print(JSON.stringify(ready));

  let pending = "";
  const decoder = new TextDecoder();
  read: for await (const chunk of Deno.stdin.readable) {
    pending += decoder.decode(chunk, { stream: true });
    let eol: number;
    while ((eol = pending.indexOf("\n")) >= 0) {
      const command = pending.slice(0, eol).trim();
      pending = pending.slice(eol + 1);
      if (command === "stop") break read;
      if (command === "gc" && gc) {
        // Two full collections: the second frees what the first only finalised.
        gc();
        gc();
      }
      print(JSON.stringify(stats("stats")));
    }
  }
  await app.stop();
  print(JSON.stringify(stats("stopped")));
  Deno.exit(0);
}

if (import.meta.main) await main();
