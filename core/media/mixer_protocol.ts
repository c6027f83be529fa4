/**
 * The RPC methods of plugin-owned mixers (`mixer_types.ts`) between the core and a media
 * worker; part of `WorkerMethods`. A worker that does not decode refuses them
 * ({@link unsupportedMixerHandlers}).
 *
 * @module
 */
import type { Handlers } from "./rpc.ts";
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

/** Handlers of a worker that hosts no mixers: each call is refused with `reason`. */
export function unsupportedMixerHandlers(reason: string): Handlers<MixerMethods> {
  const refuse = () => Promise.reject(new Error(reason));
  return {
    createMixer: refuse,
    mixerWork: refuse,
    mixerRtp: refuse,
    mixerCounts: () => Promise.resolve({ mixers: 0, members: 0 }),
    // Nothing was made, so nothing is left to close.
    closeMixer: () => Promise.resolve(null),
  };
}
