/**
 * The life of a helper process holding node-datachannel clients (test and bench hosts): serve
 * RPC on stdin/stdout, close every client when stdin ends, wait (bounded) for the held
 * wrappers' onClosed, then `Deno.exit()`. A collected wrapper crashes Deno and
 * node-datachannel's `cleanup()` crashes too (see `core/media/rtp/worker_main.ts`), hence the
 * held set and the explicit exit.
 *
 * @module
 */
import type { MethodMap, RpcServer } from "../../core/media/rpc.ts";

/** How long closing clients may take before the host exits anyway, in ms. */
const DRAIN_MS = 3000;

/** What a host hands over to be served. */
export interface NdcHost {
  /** Named in the host's own error lines. */
  name: string;
  /** Wrappers held until their onClosed. */
  held: Set<object>;
  /** Closes every client (once stdin has ended). */
  closeAll(): Promise<unknown>;
}

/** Announces `ready`, serves stdin until it ends, closes the host's clients and exits. */
export async function serveNdcHost<
  M extends MethodMap<M>,
  E extends { ready: { pid: number } },
>(server: RpcServer<M, E>, host: NdcHost): Promise<never> {
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    // deno-lint-ignore no-console
    console.error(`${host.name}: unhandled rejection: ${String(event.reason)}`);
  });
  server.notify("ready", { pid: Deno.pid });
  await server.serve(Deno.stdin.readable);
  await host.closeAll().catch(() => {});
  const deadline = performance.now() + DRAIN_MS;
  while (host.held.size > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  Deno.exit(0);
}
