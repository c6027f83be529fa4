/**
 * The `transport` events the reference's HTTP and WebSocket transports emit: one `request` per
 * HTTP request, `connected`/`disconnected` per WebSocket, each with the peer's address.
 *
 * @module
 */
import type { EventBus } from "./bus.ts";
import { newTransportId } from "./ids.ts";
import { EVENT_TYPE } from "./types.ts";

/** The remote address of a Deno.serve handler's info (Hono's `c.env`), when it has one. */
function remote(info: unknown): { ip: string; port: number } | undefined {
  const addr = (info as { remoteAddr?: { hostname?: unknown; port?: unknown } } | undefined)
    ?.remoteAddr;
  if (typeof addr?.hostname !== "string" || typeof addr.port !== "number") return undefined;
  return { ip: addr.hostname, port: addr.port };
}

/** One HTTP request reached `transport` (`info` is Deno.serve's, where the address is). */
export function reportHttpRequest(
  bus: EventBus,
  transport: string,
  adminApi: boolean,
  info: unknown,
): void {
  if (!bus.wants(EVENT_TYPE.transport)) return;
  bus.transport(transport, newTransportId(), {
    event: "request",
    admin_api: adminApi,
    ...remote(info),
  });
}

/** A WebSocket of `transport` connected (`id` stays its id until it disconnects). */
export function reportWsConnection(
  bus: EventBus,
  transport: string,
  id: string,
  event: "connected" | "disconnected",
  adminApi: boolean,
  ip?: string,
): void {
  if (!bus.wants(EVENT_TYPE.transport)) return;
  if (event === "disconnected") return bus.transport(transport, id, { event });
  bus.transport(transport, id, { event, admin_api: adminApi, ...(ip ? { ip } : {}) });
}
