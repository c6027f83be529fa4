/**
 * The RPC methods of plugin-owned mixers (`mixer_types.ts`) between the core and a media
 * worker; part of `WorkerMethods`. A worker that does not decode refuses them
 * ({@link unsupportedMixerHandlers}).
 *
 * @module
 */
import type { Handlers } from "./rpc.ts";
import type { MixRoomRequest } from "./types.ts";

type K = { key: string };

/** Mixer methods a worker serves: name -> params and result. */
export interface MixerMethods {
  createMixer: { params: K & { sampleRate: number; stereo?: boolean }; result: null };
  mixerWork: { params: K & { request: MixRoomRequest }; result: null };
  closeMixer: { params: K; result: null };
}

/** Handlers of a worker that hosts no mixers: each call is refused with `reason`. */
export function unsupportedMixerHandlers(reason: string): Handlers<MixerMethods> {
  const refuse = () => Promise.reject(new Error(reason));
  return {
    createMixer: refuse,
    mixerWork: refuse,
    // Nothing was made, so nothing is left to close.
    closeMixer: () => Promise.resolve(null),
  };
}
