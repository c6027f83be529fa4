/**
 * The media bench's wrtc client process: holds the EchoTest callers and the VideoRoom
 * publisher (`BenchPeer`: W×H noisy video at 30 fps, 440 Hz tone) and serves `ClientMethods`
 * on stdin/stdout, so that the bench process never loads wrtc. Closes every peer and ends
 * through `Deno.exit` once stdin closes (wrtc's exit crash).
 *
 * @module
 */
import type { Handlers } from "../../core/media/rpc.ts";
import { RpcServer } from "../../core/media/rpc.ts";
import { loadWrtc } from "../../core/media/wrtc.ts";
import { logUnhandledRejections } from "../../tests/media/_client_peers.ts";
import { BenchPeer } from "./bench_peer.ts";
import {
  type ClientEvents,
  type ClientMethods,
  noCounts,
  type TrickleCandidate,
} from "./protocol.ts";

interface Entry {
  peer: BenchPeer;
  candidates: TrickleCandidate[];
  gathered: PromiseWithResolvers<void>;
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

  const handlers: Handlers<ClientMethods> = {
    create: ({ kind, width = 320, height = 240, noise = false }) => {
      const peer = new BenchPeer(wrtc, {
        sendOnly: kind === "publisher",
        width,
        height,
        noise,
      });
      const id = ++next;
      const e: Entry = { peer, candidates: [], gathered: Promise.withResolvers() };
      peer.pc.addEventListener("icecandidate", ({ candidate }) => {
        if (!candidate || candidate.candidate === "") return e.gathered.resolve();
        e.candidates.push({
          candidate: candidate.candidate,
          sdpMid: candidate.sdpMid ?? "0",
          sdpMLineIndex: candidate.sdpMLineIndex ?? 0,
        });
      });
      peers.set(id, e);
      return Promise.resolve({ id });
    },
    offer: async ({ id }) => {
      const e = entry(id);
      e.candidates = [];
      e.gathered = Promise.withResolvers();
      const offer = await e.peer.pc.createOffer();
      await e.peer.pc.setLocalDescription(offer);
      return { sdp: offer.sdp };
    },
    answer: async ({ id, sdp }) => {
      await entry(id).peer.pc.setRemoteDescription({ type: "answer", sdp });
      return null;
    },
    candidates: async ({ id }) => {
      const e = entry(id);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        e.gathered.promise,
        new Promise<void>((resolve) => timer = setTimeout(resolve, 5000)),
      ]);
      clearTimeout(timer);
      return { candidates: e.candidates };
    },
    counts: async ({ ids }) => ({
      peers: await Promise.all(ids.map((id) => {
        const e = peers.get(id);
        return e ? e.peer.counts() : Promise.resolve(noCounts("gone"));
      })),
    }),
    close: ({ id }) => {
      peers.get(id)?.peer.close();
      peers.delete(id);
      return Promise.resolve(null);
    },
  };

  const server = new RpcServer<ClientMethods, ClientEvents>(Deno.stdout.writable, handlers);
  server.notify("ready", { pid: Deno.pid });
  await server.serve(Deno.stdin.readable);
  for (const e of peers.values()) e.peer.close();
  await new Promise((resolve) => setTimeout(resolve, 100));
  Deno.exit(0);
}

logUnhandledRejections("bench client host");

if (import.meta.main) await main();
