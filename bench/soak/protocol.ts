/**
 * RPC vocabulary of the soak's gateway child (`gateway.ts`), over `core/media/rpc.ts`.
 *
 * @module
 */
import type { MallocStats } from "../../core/media/malloc_trim.ts";

/** What our gateway child tells about itself. */
export interface SoakGatewayInfo {
  pid: number;
  http: number;
  ws: number;
  adminHttp: number;
  /** Live media worker processes. */
  workerPids: number[];
  /** Live sessions, handles, peers, timers, sockets, polls. */
  counts: Record<string, number>;
  /** `Deno.memoryUsage()` of the gateway process. */
  memory: { rss: number; heapTotal: number; heapUsed: number; external: number };
  /** Bytes committed by each V8 heap space (`new_space`, `old_space`, `code_space`...). */
  spaces: Record<string, number>;
  /** glibc's allocator totals of the gateway process (`mallinfo2`), where readable. */
  malloc?: MallocStats;
}

/** Methods the child serves. */
export interface SoakGatewayMethods {
  info: { params: null; result: SoakGatewayInfo };
  /** Full garbage collections first (when exposed), then `info`. */
  gc: { params: null; result: SoakGatewayInfo };
  /** Full garbage collections, then a V8 heap snapshot written to `path`. */
  snapshot: { params: { path: string }; result: { path: string } };
}

/** Events the child pushes. */
export interface SoakGatewayEvents {
  ready: SoakGatewayInfo;
}
