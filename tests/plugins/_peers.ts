/**
 * wrtc client peers for plugin tests, held by a child process (`_peer_host.ts`) so that test
 * modules never load wrtc themselves (see that module for why), and `peerTest`, which checks
 * the network namespace first and always stops the host.
 *
 * @module
 */
import { RpcClient } from "../../core/media/rpc.ts";
import { awaitHostExit } from "../_helpers/host_process.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import type { ClientCandidate, HostEvents, HostMethods, PeerStats } from "./_peer_protocol.ts";

export type { ClientCandidate, PeerStats };

const HOST_URL = new URL("./_peer_host.ts", import.meta.url);
const CONFIG_URL = new URL("../../deno.json", import.meta.url);

function path(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/** One client PeerConnection (sendrecv audio/video with the synthetic sources of `_client.ts`). */
export class RemotePeer {
  readonly id: number;
  #host: PeerHost;
  #closed = false;

  constructor(host: PeerHost, id: number) {
    this.#host = host;
    this.id = id;
  }

  /** createOffer (+ ICE restart) and setLocalDescription; returns the SDP. */
  async offer(options: { iceRestart?: boolean } = {}): Promise<string> {
    return (await this.#host.call("offer", { id: this.id, ...options })).sdp;
  }

  /** Applies the answer. */
  async answer(sdp: string): Promise<void> {
    await this.#host.call("answer", { id: this.id, sdp });
  }

  /** The candidates gathered for the last offer, once gathering is complete. */
  async candidates(): Promise<ClientCandidate[]> {
    return (await this.#host.call("candidates", { id: this.id })).candidates;
  }

  /** What the peer received so far. */
  async stats(): Promise<PeerStats> {
    return await this.#host.call("stats", { id: this.id });
  }

  /** Video payload bytes the peer has sent so far (outbound-rtp). */
  async sentVideoBytes(): Promise<number> {
    return (await this.#host.call("sent", { id: this.id })).videoBytes;
  }

  /** Sends text on the data channel. */
  async send(text: string): Promise<void> {
    await this.#host.call("send", { id: this.id, text });
  }

  /** Closes the PeerConnection (sources, sinks, tracks); idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#host.call("close", { id: this.id });
  }
}

/** The child process holding the client peers. */
export class PeerHost {
  #child: Deno.ChildProcess;
  #rpc: RpcClient<HostMethods, HostEvents>;
  #ready: Promise<void>;
  #peers: RemotePeer[] = [];

  private constructor() {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--config", path(CONFIG_URL), path(HOST_URL)],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const ready = Promise.withResolvers<void>();
    this.#rpc = new RpcClient<HostMethods, HostEvents>(
      { readable: this.#child.stdout, writable: this.#child.stdin },
      (message) => {
        if (message.event === "ready") ready.resolve();
      },
    );
    this.#child.status.then((s) => ready.reject(new Error(`peer host exited: code ${s.code}`)));
    this.#ready = ready.promise;
  }

  /** Starts a host and waits until it has loaded wrtc. */
  static async start(): Promise<PeerHost> {
    const host = new PeerHost();
    try {
      await host.#ready;
    } catch (e) {
      await host.stop();
      throw e;
    }
    return host;
  }

  /** A new client peer. */
  async peer(
    options: { audio?: boolean; video?: boolean; data?: string; noise?: boolean },
  ): Promise<RemotePeer> {
    const { id } = await this.call("create", options);
    const peer = new RemotePeer(this, id);
    this.#peers.push(peer);
    return peer;
  }

  /** One RPC call. */
  call<K extends keyof HostMethods & string>(
    method: K,
    params: HostMethods[K]["params"],
  ): Promise<HostMethods[K]["result"]> {
    return this.#rpc.request(method, params);
  }

  /** Closes every peer, ends the process and waits for it (killed after 5 s). */
  async stop(): Promise<void> {
    for (const p of this.#peers) await p.close().catch(() => {});
    await this.#rpc.close();
    await awaitHostExit(this.#child, this.#rpc.done);
  }
}

/** A test with client peers: inside the namespace, with a host that is always stopped. */
export function peerTest(name: string, fn: (host: PeerHost) => Promise<void>): void {
  Deno.test(name, async () => {
    assertInsideNetns();
    const host = await PeerHost.start();
    try {
      await fn(host);
    } finally {
      await host.stop();
    }
  });
}

/** Polls the async `check` every 50 ms until it is true. */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
