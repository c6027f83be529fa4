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
import type { Handlers } from "../../core/media/rpc.ts";
import { loadWrtc } from "../../core/media/wrtc.ts";
import { ClientPeer, goertzel } from "../media/_client.ts";
import { ClientPeers, logUnhandledRejections, serveHost } from "../media/_client_peers.ts";
import type { HostMethods } from "./_peer_protocol.ts";

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

async function main(): Promise<void> {
  const wrtc = await loadWrtc();
  const peers = new ClientPeers({ usernameFragment: true });

  const handlers: Handlers<HostMethods> = {
    create: sync((options) => ({ id: peers.add(new ClientPeer(wrtc, options)) })),
    offer: ({ id, iceRestart }) => peers.offer(id, iceRestart ? { iceRestart } : {}),
    answer: async ({ id, sdp }) => {
      await peers.peer(id).answer(sdp);
      return null;
    },
    candidates: ({ id }) => peers.candidates(id),
    stats: sync(({ id }) => {
      const peer = peers.peer(id);
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
      const channel = peers.peer(id).channel;
      if (!channel || channel.readyState !== "open") throw new Error("No open data channel");
      channel.send(text);
      return null;
    }),
    sent: async ({ id }) => {
      let videoBytes = 0;
      (await peers.peer(id).pc.getStats()).forEach((value) => {
        const r = value as { type: string; kind?: string; bytesSent?: number };
        if (r.type === "outbound-rtp" && r.kind === "video") videoBytes += r.bytesSent ?? 0;
      });
      return { videoBytes };
    },
    close: sync(({ id }) => {
      peers.close(id);
      return null;
    }),
  };

  await serveHost(handlers, peers);
}

logUnhandledRejections("peer host");

if (import.meta.main) await main();
