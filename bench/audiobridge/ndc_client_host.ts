/**
 * A node-datachannel client process of the AudioBridge bench (`--ab-clients=ndc`, the default):
 * holds some of the room's participants (`ndc_participant.ts`) and serves `ParticipantMethods`
 * on stdin/stdout as the wrtc host (`client_host.ts`) does.
 *
 * @module
 */
import { type Handlers, RpcServer } from "../../core/media/rpc.ts";
import { serveNdcHost } from "../../tests/_helpers/ndc_host.ts";
import { NdcParticipant } from "./ndc_participant.ts";
import { noAudio, type ParticipantEvents, type ParticipantMethods } from "./protocol.ts";

async function main(): Promise<void> {
  const held = new Set<object>();
  const peers = new Map<number, NdcParticipant>();
  let next = 0;
  const peer = (id: number): NdcParticipant => {
    const p = peers.get(id);
    if (!p) throw new Error(`Unknown participant ${id}`);
    return p;
  };
  const handlers: Handlers<ParticipantMethods> = {
    create: async ({ tone }) => {
      const id = ++next;
      const p = new NdcParticipant(id, tone, held);
      peers.set(id, p);
      return { id, sdp: await p.offer() };
    },
    answer: ({ id, sdp }) => {
      peer(id).answer(sdp);
      return Promise.resolve(null);
    },
    received: ({ ids }) =>
      Promise.resolve({ peers: ids.map((id) => peers.get(id)?.received() ?? noAudio("gone")) }),
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
  await serveNdcHost(server, {
    name: "audiobridge ndc client host",
    held,
    closeAll: () => {
      for (const p of peers.values()) p.close();
      return Promise.resolve();
    },
  });
}

if (import.meta.main) await main();
