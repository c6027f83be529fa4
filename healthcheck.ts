/**
 * The container's health check: reads the configuration as the gateway does (environment,
 * `JANUS_CONFIG`), asks the HTTP API for `info` on the port and address it listens on, and
 * exits 0 when `server_info` comes back (1 otherwise). With HTTP off it connects to the
 * WebSocket port instead.
 *
 * @module
 */
import { type Config, loadConfig } from "./core/config.ts";

/** The address a client on this machine reaches a listener bound to `bind` at. */
export function localAddress(bind: string): string {
  if (bind === "" || bind === "0.0.0.0") return "127.0.0.1";
  if (bind === "::" || bind === "[::]") return "[::1]";
  return bind.includes(":") && !bind.startsWith("[") ? `[${bind}]` : bind;
}

/** True when the gateway configured by `config` answers on this machine within `timeoutMs`. */
export async function healthy(config: Config, timeoutMs = 2000): Promise<boolean> {
  const host = localAddress(config.http.bind);
  if (!config.http.enabled) {
    try {
      const conn = await Deno.connect({
        hostname: host.replace(/^\[|\]$/g, ""),
        port: config.ws.port,
      });
      conn.close();
      return true;
    } catch {
      return false;
    }
  }
  const base = config.http.base_path.replace(/\/$/, "");
  try {
    const response = await fetch(`http://${host}:${config.http.port}${base}/info`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body: unknown = await response.json();
    return typeof body === "object" && body !== null &&
      (body as { janus?: unknown }).janus === "server_info";
  } catch {
    return false;
  }
}

if (import.meta.main) {
  let ok = false;
  try {
    ok = await healthy(loadConfig({ args: [] }));
  } catch {
    ok = false;
  }
  Deno.exit(ok ? 0 : 1);
}
