/**
 * A node-datachannel client process of the AudioBridge bench (`--ab-clients=ndc`, the default):
 * holds some of the room's participants (`ndc_participant.ts`) and serves `ParticipantMethods`
 * on stdin/stdout as the wrtc host (`client_host.ts`) does.
 *
 * @module
 */
import { RpcServer } from "../../core/media/rpc.ts";
import { serveNdcHost } from "../../tests/_helpers/ndc_host.ts";
import { NdcParticipant } from "./ndc_participant.ts";
import { participantHandlers } from "./participant_handlers.ts";
import type { ParticipantEvents, ParticipantMethods } from "./protocol.ts";

async function main(): Promise<void> {
  const held = new Set<object>();
  const { handlers, live } = participantHandlers((id, tone) => new NdcParticipant(id, tone, held));
  const server = new RpcServer<ParticipantMethods, ParticipantEvents>(
    Deno.stdout.writable,
    handlers,
  );
  await serveNdcHost(server, {
    name: "audiobridge ndc client host",
    held,
    closeAll: () => {
      for (const p of live()) p.close();
      return Promise.resolve();
    },
  });
}

if (import.meta.main) await main();
