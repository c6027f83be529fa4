/**
 * The RPC methods of plugin-owned mixers (`mixer_types.ts`) between the core and a media
 * worker; part of `WorkerMethods`, served by a worker's `MixerHub` ({@link mixerHandlers}).
 *
 * @module
 */
import type { Handlers } from "./rpc.ts";
import type { MixerHub, MixPeer } from "./mixer.ts";
import type { RtpMemberRequest } from "./mixer_types.ts";
import type { MixRoomRequest } from "./types.ts";

type K = { key: string };

/** Mixer methods a worker serves: name -> params and result. */
export interface MixerMethods {
  createMixer: { params: K & { sampleRate: number; stereo?: boolean }; result: null };
  mixerWork: { params: K & { request: MixRoomRequest }; result: null };
  closeMixer: { params: K; result: null };
  /** Mixers and members of the worker (leak checks). */
  mixerCounts: { params: Record<string, never>; result: { mixers: number; members: number } };
  /** A plain-RTP member's request; the port a join bound (else 0). */
  mixerRtp: { params: K & { request: RtpMemberRequest }; result: { port: number } };
}

/** Handlers of a worker's mixers. */
export function mixerHandlers<P extends MixPeer>(mixers: MixerHub<P>): Handlers<MixerMethods> {
  return {
    createMixer: ({ key, sampleRate, stereo }) => {
      mixers.own(key, sampleRate, stereo === true);
      return Promise.resolve(null);
    },
    mixerWork: async ({ key, request }) => {
      await mixers.work(key, request);
      return null;
    },
    mixerRtp: async ({ key, request }) => ({ port: await mixers.rtp(key, request) }),
    mixerCounts: () => Promise.resolve(mixers.counts()),
    closeMixer: ({ key }) => {
      mixers.disown(key);
      return Promise.resolve(null);
    },
  };
}
