/**
 * A loopback HTTP receiver for the gateway's HTTP event handler: keeps every event POSTed to
 * it, one by one (a batch is a JSON array).
 *
 * @module
 */
import type { JsonObject } from "../../core/protocol.ts";

export interface EventReceiver {
  /** Where the handler posts (the `backend`). */
  url: string;
  events: JsonObject[];
  stop(): Promise<void>;
}

/** Listens on a free loopback port; `path` ends the `url`. */
export function eventReceiver(path = "/"): EventReceiver {
  const events: JsonObject[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
    const body = await r.json();
    events.push(...(Array.isArray(body) ? body : [body]));
    return new Response("ok");
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}${path}`,
    events,
    stop: () => server.shutdown(),
  };
}
