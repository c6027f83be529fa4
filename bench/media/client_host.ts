/**
 * The media bench's wrtc client process: holds client peers (`ClientPeer` of
 * `tests/media/_client.ts`: 320x240 pattern video at 30 fps, 440 Hz tone, frame-counting
 * sinks) and serves `ClientMethods` on stdin/stdout, so that the bench process never loads
 * wrtc. Closes every peer and ends through `Deno.exit` once stdin closes (wrtc's exit crash).
 *
 * @module
 */
import { type Handlers, RpcServer } from "../../core/media/rpc.ts";
import { loadWrtc } from "../../core/media/wrtc.ts";
import { ClientPeer } from "../../tests/media/_client.ts";
import type { ClientEvents, ClientMethods, TrickleCandidate } from "./protocol.ts";

interface Gathering {
  list: TrickleCandidate[];
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
    create: ({ kind }) => {
      const sources = kind !== "subscriber";
      const peer = new ClientPeer(wrtc, { audio: sources, video: sources });
      if (kind === "publisher") {
        for (const t of peer.pc.getTransceivers()) t.direction = "sendonly";
      }
      const id = ++next;
      const e: Entry = { peer, gathering: gathering() };
      peer.pc.addEventListener("icecandidate", ({ candidate }) => {
        if (!candidate || candidate.candidate === "") return e.gathering.done.resolve();
        e.gathering.list.push({
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
      e.gathering = gathering();
      const offer = await e.peer.pc.createOffer();
      await e.peer.pc.setLocalDescription(offer);
      return { sdp: offer.sdp };
    },
    answer: async ({ id, sdp }) => {
      await entry(id).peer.answer(sdp);
      return null;
    },
    accept: async ({ id, sdp }) => {
      const e = entry(id);
      e.gathering = gathering();
      await e.peer.pc.setRemoteDescription({ type: "offer", sdp });
      const answer = await e.peer.pc.createAnswer();
      await e.peer.pc.setLocalDescription(answer);
      return { sdp: answer.sdp };
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
    frames: ({ ids }) => {
      const list = ids.map((id) => peers.get(id));
      return Promise.resolve({
        frames: list.map((e) => e?.peer.videoFrames ?? 0),
        states: list.map((e) => e?.peer.pc.connectionState ?? "gone"),
      });
    },
    close: ({ id }) => {
      const e = peers.get(id);
      peers.delete(id);
      e?.peer.close();
      return Promise.resolve(null);
    },
  };

  const server = new RpcServer<ClientMethods, ClientEvents>(Deno.stdout.writable, handlers);
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
  console.error(`bench client host: unhandled rejection: ${String(event.reason)}`);
});

if (import.meta.main) await main();
