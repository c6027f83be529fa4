/**
 * The media bench's wrtc client process: holds client peers (`ClientPeer` of
 * `tests/media/_client.ts`: 320x240 pattern video at 30 fps, 440 Hz tone, frame-counting
 * sinks) and serves `ClientMethods` on stdin/stdout, so that the bench process never loads
 * wrtc. Closes every peer and ends through `Deno.exit` once stdin closes (wrtc's exit crash).
 *
 * @module
 */
import type { Handlers } from "../../core/media/rpc.ts";
import { loadWrtc } from "../../core/media/wrtc.ts";
import { ClientPeer } from "../../tests/media/_client.ts";
import { ClientPeers, logUnhandledRejections, serveHost } from "../../tests/media/_client_peers.ts";
import type { ClientMethods } from "./protocol.ts";

async function main(): Promise<void> {
  const wrtc = await loadWrtc();
  const peers = new ClientPeers({ usernameFragment: false });

  const handlers: Handlers<ClientMethods> = {
    create: ({ kind }) => {
      const sources = kind !== "subscriber";
      const peer = new ClientPeer(wrtc, { audio: sources, video: sources });
      if (kind === "publisher") {
        for (const t of peer.pc.getTransceivers()) t.direction = "sendonly";
      }
      return Promise.resolve({ id: peers.add(peer) });
    },
    offer: ({ id }) => peers.offer(id),
    answer: async ({ id, sdp }) => {
      await peers.peer(id).answer(sdp);
      return null;
    },
    accept: async ({ id, sdp }) => {
      const { pc } = peers.regather(id);
      await pc.setRemoteDescription({ type: "offer", sdp });
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      return { sdp: answer.sdp };
    },
    candidates: ({ id }) => peers.candidates(id),
    frames: ({ ids }) => {
      const list = ids.map((id) => peers.get(id));
      return Promise.resolve({
        frames: list.map((p) => p?.videoFrames ?? 0),
        states: list.map((p) => p?.pc.connectionState ?? "gone"),
      });
    },
    close: ({ id }) => {
      peers.close(id);
      return Promise.resolve(null);
    },
  };

  await serveHost(handlers, peers);
}

logUnhandledRejections("bench client host");

if (import.meta.main) await main();
