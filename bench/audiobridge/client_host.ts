/**
 * A wrtc client process of the AudioBridge bench: holds some of the room's participants
 * (`participant.ts`) and serves `ParticipantMethods` on stdin/stdout, so that the bench process
 * never loads wrtc and the participants spread over a few processes. Closes every participant
 * and ends through `Deno.exit` once stdin closes (wrtc's exit crash).
 *
 * @module
 */
import { RpcServer } from "../../core/media/rpc.ts";
import { loadWrtc } from "../../core/media/wrtc.ts";
import { logUnhandledRejections } from "../../tests/media/_client_peers.ts";
import { Participant } from "./participant.ts";
import { participantHandlers } from "./participant_handlers.ts";
import type { ParticipantEvents, ParticipantMethods } from "./protocol.ts";

async function main(): Promise<void> {
  const wrtc = await loadWrtc();
  const { handlers, live } = participantHandlers((_, tone) => new Participant(wrtc, tone));
  const server = new RpcServer<ParticipantMethods, ParticipantEvents>(
    Deno.stdout.writable,
    handlers,
  );
  server.notify("ready", { pid: Deno.pid });
  await server.serve(Deno.stdin.readable);
  for (const p of live()) p.close();
  await new Promise((resolve) => setTimeout(resolve, 100));
  Deno.exit(0);
}

logUnhandledRejections("audiobridge client host");

if (import.meta.main) await main();
