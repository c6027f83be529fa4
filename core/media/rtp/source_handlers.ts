/**
 * The RTP worker's side of the source RPC (`source_protocol.ts`): its sources by id, forwarded
 * to the worker's peers.
 *
 * @module
 */
import type { Handlers } from "../rpc.ts";
import type { SourceMethods } from "../source_protocol.ts";
import type { WorkerEvents } from "../protocol.ts";
import type { RtpPeer } from "./rtp_peer.ts";
import { RtpSource } from "./rtp_source.ts";

/** The handlers, and `closeAll` for the worker's exit. */
export function rtpSourceHandlers(
  peerOf: (peerId: string) => RtpPeer | undefined,
  onLayer: (event: WorkerEvents["sourceLayer"]) => void,
): { handlers: Handlers<SourceMethods>; closeAll(): void } {
  const sources = new Map<string, RtpSource>();
  const source = (id: string): RtpSource => {
    const s = sources.get(id);
    if (!s) throw new Error(`Unknown source ${id}`);
    return s;
  };
  const peer = (id: string): RtpPeer => {
    const p = peerOf(id);
    if (!p) throw new Error(`Unknown peer ${id}`);
    return p;
  };
  const handlers: Handlers<SourceMethods> = {
    createSource: async ({ sourceId, ...options }) => {
      if (sources.has(sourceId)) throw new Error(`Source ${sourceId} exists`);
      const s = await RtpSource.open(sourceId, {
        ...options,
        peerOf,
        onLayer: ({ peerId, ...change }) => onLayer({ sourceId, target: peerId, ...change }),
      });
      sources.set(sourceId, s);
      return { ports: s.ports, rtcpPorts: s.rtcpPorts, layerPorts: s.layerPorts };
    },
    sourceForward: ({ sourceId, target, fromMid, toMid, newMid, active }) => {
      const data = source(sourceId).dataOf(fromMid);
      if (data) {
        // Datagrams go to the peer's data channel, which its offer carries (no m-line of ours).
        data.add(peer(target).id, active ?? true);
        return Promise.resolve({ mid: fromMid });
      }
      const s = source(sourceId);
      const to = peer(target);
      const mid = to.attachSource(s.sourceOf(fromMid), {
        ...(toMid !== undefined ? { toMid } : {}),
        ...(newMid !== undefined ? { newMid } : {}),
        ...(active !== undefined ? { active } : {}),
      });
      const line = to.sendLine(mid);
      if (line) s.noteLine(line, to.id);
      return Promise.resolve({ mid });
    },
    sourceSetForwarding: ({ sourceId, target, toMid, active }) => {
      const s = source(sourceId);
      const to = peer(target);
      if (s.dataOf(toMid)?.setActive(to.id, active)) return Promise.resolve(null);
      const line = to.sendLine(toMid);
      if (!line || !s.owns(line.source)) {
        throw new Error(`No forward from ${sourceId} to m-line ${toMid} of ${target}`);
      }
      line.setActive(active, performance.now());
      return Promise.resolve(null);
    },
    sourceStopForward: ({ sourceId, target, toMid }) => {
      // Idempotent: the source or the peer may be gone already.
      const s = sources.get(sourceId);
      const data = s?.dataOf(toMid);
      if (data) {
        data.remove(target);
        return Promise.resolve(null);
      }
      const line = peerOf(target)?.sendLine(toMid);
      if (s && line && s.owns(line.source)) line.detach();
      return Promise.resolve(null);
    },
    sourceSetLayers: ({ sourceId, target, toMid, ...targets }) => {
      const line = peer(target).sendLine(toMid);
      if (!line) throw new Error(`No m-line ${toMid} on ${target}`);
      return Promise.resolve(source(sourceId).setLayers(line, targets));
    },
    sourceStats: ({ sourceId }) => Promise.resolve(source(sourceId).stats()),
    sourceStartRecording: ({ sourceId, mid, path, codec }) => {
      source(sourceId).startRecording(mid, path, codec);
      return Promise.resolve(null);
    },
    sourceStopRecording: ({ sourceId, mid }) => {
      sources.get(sourceId)?.stopRecording(mid);
      return Promise.resolve(null);
    },
    closeSource: ({ sourceId }) => {
      sources.get(sourceId)?.close();
      sources.delete(sourceId);
      return Promise.resolve(null);
    },
  };
  return {
    handlers,
    closeAll: () => {
      for (const s of sources.values()) s.close();
      sources.clear();
    },
  };
}
