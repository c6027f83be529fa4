/**
 * A process that holds a plugin test's wrtc client peers (`ClientPeer` of
 * `tests/media/_client.ts`) and serves `_peer_protocol.ts` on stdin/stdout.
 *
 * Why a process: wrtc binds some native constructors to the first isolate that loads it, so
 * a second test module creating tracks in the same `deno test` process panics ("attempt to
 * access Handle hosted by disposed Isolate"). With the peers here, plugin test modules never
 * load wrtc and run beside `tests/media/engine_test.ts` and each other.
 *
 * Ends with `Deno.exit()` after closing every peer once stdin closes (the exit crash).
 *
 * @module
 */
import { type Handlers, RpcServer } from "../../core/media/rpc.ts";
import { loadWrtc } from "../../core/media/wrtc.ts";
import { ClientPeer, goertzel } from "../media/_client.ts";
import type { ClientCandidate, HostEvents, HostMethods } from "./_peer_protocol.ts";

/** Candidates of one offer. */
interface Gathering {
  list: ClientCandidate[];
  done: PromiseWithResolvers<void>;
}

interface Entry {
  peer: ClientPeer;
  gathering: Gathering;
}

/** A synchronous handler as an RPC one: a throw becomes a rejection. */
function sync<P, R>(fn: (params: P) => R): (params: P) => Promise<R> {
  return (params) => {
    try {
      return Promise.resolve(fn(params));
    } catch (e) {
      return Promise.reject(e);
    }
  };
}

function gathering(): Gathering {
  return { list: [], done: Promise.withResolvers<void>() };
}

async function main(): Promise<void> {
  const wrtc = await loadWrtc();
  const peers = new Map<number, Entry>();
  let next = 0;
  const entry = (id: number): Entry => {
    const e = peers.get(id);
    if (!e) throw new Error(`Unknown client peer ${id}`);
    return e;
  };

  const handlers: Handlers<HostMethods> = {
    create: sync((options) => {
      const peer = new ClientPeer(wrtc, options);
      const id = ++next;
      const e: Entry = { peer, gathering: gathering() };
      peer.pc.addEventListener("icecandidate", ({ candidate }) => {
        if (!candidate || candidate.candidate === "") return e.gathering.done.resolve();
        e.gathering.list.push({
          candidate: candidate.candidate,
          sdpMid: candidate.sdpMid ?? "0",
          sdpMLineIndex: candidate.sdpMLineIndex ?? 0,
          ...(candidate.usernameFragment ? { usernameFragment: candidate.usernameFragment } : {}),
        });
      });
      peers.set(id, e);
      return { id };
    }),
    offer: async ({ id, iceRestart }) => {
      const e = entry(id);
      e.gathering = gathering();
      const offer = await e.peer.pc.createOffer(iceRestart ? { iceRestart } : {});
      await e.peer.pc.setLocalDescription(offer);
      return { sdp: offer.sdp };
    },
    answer: async ({ id, sdp }) => {
      await entry(id).peer.answer(sdp);
      return null;
    },
    candidates: async ({ id }) => {
      const g = entry(id).gathering;
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
    },
    stats: sync(({ id }) => {
      const { peer } = entry(id);
      const half = Math.floor(peer.audioRate / 2);
      const tail = peer.audio.length >= half ? peer.audio.slice(-half) : [];
      return {
        videoFrames: peer.videoFrames,
        luma: { ...peer.luma },
        audioSamples: peer.audio.length,
        audioRate: peer.audioRate,
        tone440: tail.length > 0 ? goertzel(tail, peer.audioRate, 440) : 0,
        tone1k: tail.length > 0 ? goertzel(tail, peer.audioRate, 1000) : 0,
        messages: peer.messages.map((m) => typeof m === "string" ? m : `<binary ${m.length}>`),
        channelState: peer.channel?.readyState ?? null,
        connectionState: peer.pc.connectionState,
      };
    }),
    send: sync(({ id, text }) => {
      const channel = entry(id).peer.channel;
      if (!channel || channel.readyState !== "open") throw new Error("No open data channel");
      channel.send(text);
      return null;
    }),
    close: sync(({ id }) => {
      const e = peers.get(id);
      peers.delete(id);
      e?.peer.close();
      return null;
    }),
  };

  const server = new RpcServer<HostMethods, HostEvents>(Deno.stdout.writable, handlers);
  server.notify("ready", { pid: Deno.pid });
  await server.serve(Deno.stdin.readable);
  for (const e of peers.values()) e.peer.close();
  peers.clear();
  await new Promise((resolve) => setTimeout(resolve, 100));
  Deno.exit(0);
}

globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  // deno-lint-ignore no-console
  console.error(`peer host: unhandled rejection: ${String(event.reason)}`);
});

if (import.meta.main) await main();
