/**
 * The RPC methods of RTP sources (`source_types.ts`) between the core and a media worker; part
 * of `WorkerMethods`. A worker whose engine cannot host sources rejects them
 * ({@link unsupportedSourceHandlers}).
 *
 * @module
 */
import type { Handlers } from "./rpc.ts";
import type { LayerTargets, RtpSourceStream, RtpSourceStreamStats } from "./source_types.ts";

type S = { sourceId: string };

/** Source methods a worker serves: name -> params and result. */
export interface SourceMethods {
  createSource: {
    params: S & {
      host: string;
      portRange: { min: number; max: number };
      streams: RtpSourceStream[];
    };
    result: { ports: number[]; rtcpPorts: number[]; layerPorts: number[][] };
  };
  /** `target`: the id of a peer of the same worker. */
  sourceForward: {
    params: S & {
      target: string;
      fromMid: string;
      toMid?: string;
      newMid?: string;
      active?: boolean;
    };
    result: { mid: string };
  };
  sourceSetForwarding: {
    params: S & { target: string; toMid: string; active: boolean };
    result: null;
  };
  sourceStopForward: { params: S & { target: string; toMid: string }; result: null };
  sourceSetLayers: {
    params: S & { target: string; toMid: string } & LayerTargets;
    result: { substream: number; temporal: number };
  };
  sourceStats: { params: S; result: RtpSourceStreamStats[] };
  /** Records stream `mid` into the MJR file `path` (`codec` as its header names it). */
  sourceStartRecording: { params: S & { mid: string; path: string; codec: string }; result: null };
  sourceStopRecording: { params: S & { mid: string }; result: null };
  closeSource: { params: S; result: null };
}

/** Handlers of a worker that hosts no sources: each call is refused with `reason`. */
export function unsupportedSourceHandlers(reason: string): Handlers<SourceMethods> {
  const refuse = () => Promise.reject(new Error(reason));
  return {
    createSource: refuse,
    sourceForward: refuse,
    sourceSetForwarding: refuse,
    sourceStopForward: refuse,
    sourceSetLayers: refuse,
    sourceStats: refuse,
    sourceStartRecording: refuse,
    sourceStopRecording: refuse,
    // Nothing was made, so nothing is left to close.
    closeSource: () => Promise.resolve(null),
  };
}
