/**
 * The two servers a media bench phase measures, inside its network namespace: our gateway
 * with media workers (`gateway_main.ts`) and, unless `noRef`, a private reference Janus
 * (start.sh on free ports), each seen through `MediaServer`; `stop` ends whichever started.
 *
 * @module
 */
import { print } from "../print.ts";
import { type Reference, startFreshReference, stopStartedReference } from "../reference.ts";
import { sleep } from "./cpu.ts";
import type { GatewayEvents, GatewayMethods } from "./protocol.ts";
import { REFERENCE_PREFIX } from "./results.ts";
import { RpcChild } from "./rpc_child.ts";
import type { MediaServer } from "./server.ts";

const GATEWAY = new URL("./gateway_main.ts", import.meta.url);

export type Gateway = RpcChild<GatewayMethods, GatewayEvents>;

export function oursServer(gateway: Gateway, notes: string[]): MediaServer {
  const info = gateway.ready;
  return {
    name: "ours",
    wsUrl: `ws://127.0.0.1:${info.ws}`,
    pids: async () => {
      const now = await gateway.call("info", null);
      return [now.pid, ...now.workerPids];
    },
    idle: async () => {
      const deadline = performance.now() + 5000;
      let counts: Record<string, number> = {};
      while (performance.now() < deadline) {
        counts = (await gateway.call("info", null)).counts;
        if ((counts.peers ?? 0) === 0 && (counts.sessions ?? 0) === 0) return;
        await sleep(100);
      }
      notes.push(`ours still had ${JSON.stringify(counts)} 5 s after a step's teardown`);
    },
  };
}

export function referenceServer(reference: Reference): MediaServer {
  const pid = reference.pid;
  return {
    name: "reference",
    wsUrl: `ws://127.0.0.1:${reference.endpoint.wsPort}`,
    pids: () => Promise.resolve(pid === undefined ? [] : [pid]),
    idle: () => sleep(500),
  };
}

/** Both servers once started; `ref` is absent with `noRef` or an unreachable reference. */
export interface StartedServers {
  gateway: Gateway;
  ours: MediaServer;
  ref?: { server: MediaServer; pid: number; version: string };
}

/** Starts and stops a phase's servers; what started is kept for `stop`, even on a failure. */
export class PhaseServers {
  gateway: Gateway | undefined;
  reference: Reference | undefined;
  referenceStatus = "skipped (--no-ref)";

  /**
   * Starts ours then the reference, printing a line for each (and the reference's pid and run
   * directory for the runner, which stops it if this child is killed).
   */
  async start(
    options: { workers: number; noRef: boolean },
    notes: string[],
    /** The reference's run directory in its status line too. */
    withRunDir = false,
  ): Promise<StartedServers> {
    const gateway = this.gateway = await RpcChild.start<GatewayMethods, GatewayEvents>(GATEWAY, {
      args: [`--workers=${options.workers}`],
      label: "gateway",
    });
    const started: StartedServers = { gateway, ours: oursServer(gateway, notes) };
    print(
      ` Ours: pid ${gateway.ready.pid}, ws ${gateway.ready.ws}, media workers ` +
        `${gateway.ready.workerPids.join(",")}`,
    );
    if (!options.noRef) {
      const fresh = await startFreshReference();
      if ("unreachable" in fresh) {
        this.referenceStatus = `reference not measured: ${fresh.unreachable}`;
      } else {
        this.reference = fresh;
        print(`${REFERENCE_PREFIX}${JSON.stringify({ pid: fresh.pid, runDir: fresh.runDir })}`);
        this.referenceStatus = `private Janus ${fresh.version} (start.sh), pid ${fresh.pid}, ws ` +
          `${fresh.endpoint.wsPort}` +
          (withRunDir ? `, run dir ${fresh.runDir}` : "");
        started.ref = {
          server: referenceServer(fresh),
          pid: fresh.pid ?? 0,
          version: fresh.version,
        };
      }
    }
    print(` Reference: ${this.referenceStatus}`);
    return started;
  }

  /** Stops the reference, then our gateway (after the clients, which the caller stops first). */
  async stop(): Promise<void> {
    if (this.reference) await stopStartedReference(this.reference);
    await this.gateway?.stop().catch(() => {});
  }
}
