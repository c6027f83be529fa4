/**
 * The RPC handlers of an AudioBridge bench client host, whatever its participants are made of
 * (`participant.ts` on wrtc, `ndc_participant.ts` on node-datachannel).
 *
 * @module
 */
import type { Handlers } from "../../core/media/rpc.ts";
import { noAudio, type ParticipantMethods, type ReceivedAudio } from "./protocol.ts";

/** What a host needs of one participant. */
export interface BenchParticipant {
  /** Its offer, with every candidate gathered. */
  offer(): Promise<string>;
  answer(sdp: string): Promise<void>;
  received(): Promise<ReceivedAudio>;
  close(): void;
}

/** Handlers over the participants `make` creates, and every live one (to close at exit). */
export function participantHandlers(
  make: (id: number, tone: number) => BenchParticipant,
): { handlers: Handlers<ParticipantMethods>; live(): BenchParticipant[] } {
  const peers = new Map<number, BenchParticipant>();
  let next = 0;
  const peer = (id: number): BenchParticipant => {
    const p = peers.get(id);
    if (!p) throw new Error(`Unknown participant ${id}`);
    return p;
  };
  const handlers: Handlers<ParticipantMethods> = {
    create: async ({ tone }) => {
      const id = ++next;
      const p = make(id, tone);
      peers.set(id, p);
      return { id, sdp: await p.offer() };
    },
    answer: async ({ id, sdp }) => {
      await peer(id).answer(sdp);
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
  return { handlers, live: () => [...peers.values()] };
}
