/**
 * A wrtc client process of the AudioBridge bench: holds some of the room's participants
 * (`participant.ts`) and serves `ParticipantMethods` on stdin/stdout, so that the bench process
 * never loads wrtc and the participants spread over a few processes. Closes every participant
 * and ends through `Deno.exit` once stdin closes (wrtc's exit crash).
 *
 * @module
 */
import { type Handlers, RpcServer } from "../../core/media/rpc.ts";
import { loadWrtc } from "../../core/media/wrtc.ts";
import { logUnhandledRejections } from "../../tests/media/_client_peers.ts";
import { Participant } from "./participant.ts";
import { noAudio, type ParticipantEvents, type ParticipantMethods } from "./protocol.ts";

async function main(): Promise<void> {
  const wrtc = await loadWrtc();
  const peers = new Map<number, Participant>();
  let next = 0;
  const peer = (id: number): Participant => {
    const p = peers.get(id);
    if (!p) throw new Error(`Unknown participant ${id}`);
    return p;
  };
  const handlers: Handlers<ParticipantMethods> = {
    create: async ({ tone }) => {
      const p = new Participant(wrtc, tone);
      const id = ++next;
      peers.set(id, p);
      return { id, sdp: await p.offer() };
    },
    answer: async ({ id, sdp }) => {
      await peer(id).pc.setRemoteDescription({ type: "answer", sdp });
      return null;
    },
    received: async ({ ids }) => ({
      peers: await Promise.all(
        ids.map((id) => peers.get(id)?.received() ?? Promise.resolve(noAudio("gone"))),
      ),
    }),
    close: ({ id }) => {
      peers.get(id)?.close();
      peers.delete(id);
      return Promise.resolve(null);
    },
  };
  const server = new RpcServer<ParticipantMethods, ParticipantEvents>(
    Deno.stdout.writable,
    handlers,
  );
  server.notify("ready", { pid: Deno.pid });
  await server.serve(Deno.stdin.readable);
  for (const p of peers.values()) p.close();
  await new Promise((resolve) => setTimeout(resolve, 100));
  Deno.exit(0);
}

logUnhandledRejections("audiobridge client host");

if (import.meta.main) await main();
