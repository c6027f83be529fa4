/**
 * What the wrtc client-peer host processes share (`tests/plugins/_peer_host.ts` for the
 * plugin tests, `bench/media/client_host.ts` for the media bench): the `ClientPeer`s held by
 * id, each with the candidates of its last local description, and serving RPC on
 * stdin/stdout until stdin closes, then closing every peer and ending through `Deno.exit`
 * (wrtc's exit crash).
 *
 * @module
 */
import { type Handlers, type MethodMap, RpcServer } from "../../core/media/rpc.ts";
import type { ClientPeer } from "./_client.ts";

/** A gathered candidate as Janus clients trickle it. */
export interface HostCandidate {
  candidate: string;
  sdpMid: string;
  sdpMLineIndex: number;
  usernameFragment?: string;
}

/** Candidates of one local description. */
interface Gathering {
  list: HostCandidate[];
  done: PromiseWithResolvers<void>;
}

interface Entry {
  peer: ClientPeer;
  gathering: Gathering;
}

function gathering(): Gathering {
  const done = Promise.withResolvers<void>();
  done.promise.catch(() => {});
  return { list: [], done };
}

/** The client peers of a host process, by id. */
export class ClientPeers {
  readonly #peers = new Map<number, Entry>();
  readonly #usernameFragment: boolean;
  #next = 0;

  /** `usernameFragment`: keep a candidate's `usernameFragment` (when it has one). */
  constructor(options: { usernameFragment: boolean }) {
    this.#usernameFragment = options.usernameFragment;
  }

  /** Holds `peer` and collects its candidates; returns its id. */
  add(peer: ClientPeer): number {
    const id = ++this.#next;
    const e: Entry = { peer, gathering: gathering() };
    peer.pc.addEventListener("icecandidate", ({ candidate }) => {
      if (!candidate || candidate.candidate === "") return e.gathering.done.resolve();
      e.gathering.list.push({
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid ?? "0",
        sdpMLineIndex: candidate.sdpMLineIndex ?? 0,
        ...(this.#usernameFragment && candidate.usernameFragment
          ? { usernameFragment: candidate.usernameFragment }
          : {}),
      });
    });
    this.#peers.set(id, e);
    return id;
  }

  /** The peer `id`, or undefined when unknown or closed. */
  get(id: number): ClientPeer | undefined {
    return this.#peers.get(id)?.peer;
  }

  /** The peer `id`; throws when unknown. */
  peer(id: number): ClientPeer {
    return this.#entry(id).peer;
  }

  /** Starts collecting the candidates of a new local description of `id`; returns the peer. */
  regather(id: number): ClientPeer {
    const e = this.#entry(id);
    e.gathering = gathering();
    return e.peer;
  }

  /** createOffer (with `options`) + setLocalDescription on `id`; gathering restarts. */
  async offer(id: number, options: { iceRestart?: boolean } = {}): Promise<{ sdp: string }> {
    const { pc } = this.regather(id);
    const offer = await pc.createOffer(options);
    await pc.setLocalDescription(offer);
    return { sdp: offer.sdp };
  }

  /** The candidates of the last local description of `id`, once gathered (5 s at most). */
  async candidates(id: number): Promise<{ candidates: HostCandidate[] }> {
    const g = this.#entry(id).gathering;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("ICE gathering did not complete")), 5000);
    });
    try {
      await Promise.race([g.done.promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return { candidates: g.list };
  }

  /** Forgets and closes `id` (nothing when unknown). */
  close(id: number): void {
    const e = this.#peers.get(id);
    this.#peers.delete(id);
    e?.peer.close();
  }

  /** Closes every peer. */
  closeAll(): void {
    for (const e of this.#peers.values()) e.peer.close();
    this.#peers.clear();
  }

  #entry(id: number): Entry {
    const e = this.#peers.get(id);
    if (!e) throw new Error(`Unknown client peer ${id}`);
    return e;
  }
}

/**
 * Announces `ready` and serves `handlers` on stdin/stdout; once stdin closes, closes every
 * one of `peers` and ends the process.
 */
export async function serveHost<M extends MethodMap<M>>(
  handlers: Handlers<M>,
  peers: ClientPeers,
): Promise<never> {
  const server = new RpcServer<M, { ready: { pid: number } }>(Deno.stdout.writable, handlers);
  server.notify("ready", { pid: Deno.pid });
  await server.serve(Deno.stdin.readable);
  peers.closeAll();
  await new Promise((resolve) => setTimeout(resolve, 100));
  Deno.exit(0);
}

/** Logs unhandled rejections to stderr (as `<label>: unhandled rejection: …`) instead of dying. */
export function logUnhandledRejections(label: string): void {
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    // deno-lint-ignore no-console
    console.error(`${label}: unhandled rejection: ${String(event.reason)}`);
  });
}
