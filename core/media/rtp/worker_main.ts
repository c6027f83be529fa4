/**
 * Entry point of an RTP engine media worker process: the same RPC (`protocol.ts`) as the wrtc
 * worker, served with node-datachannel PeerConnections that forward RTP without decoding.
 * It serves per-stream forwarding between its peers and from a peer back to itself (echo):
 * subscriber offers, forward, pause/resume, switch, stop, keyframe requests, bitrate caps
 * (REMB), RFC 6464 audio levels; and audio mixers (AudioBridge), which decode their members'
 * packets and encode each one's mix (`mix_member.ts`).
 *
 * Exit: once stdin closes, every track, channel and PeerConnection is closed, their
 * onClosed awaited (bounded), and the process ends with `Deno.exit()`; node-datachannel's
 * `cleanup()` is never called (it walks freed wrappers and crashes, design.md).
 *
 * Run as `deno run --allow-all core/media/rtp/worker_main.ts`; stdout is the RPC channel.
 *
 * @module
 */
import { createLogger, setLogLevel } from "../../log.ts";
import { localInterfaces, workerCandidateFilter } from "../ice_filter.ts";
import {
  applySettings,
  fromWire,
  type WorkerConfig,
  type WorkerEvents,
  type WorkerMethods,
} from "../protocol.ts";
import { type Handlers, RpcServer } from "../rpc.ts";
import { chooseBindAddress } from "./bind_address.ts";
import { pinProcess } from "./cpu_pin.ts";
import { RTP_SUPPORTED, RtpPeer, type RtpPeerContext } from "./rtp_peer.ts";
import { rtpSourceHandlers } from "./source_handlers.ts";
import { mixerHandlers } from "../mixer_protocol.ts";
import { MixerHub } from "../mixer.ts";
import { rtpMemberFactory } from "./mix_member.ts";
import { copyCounters, type MediaStatsReport } from "../media_counters.ts";
import { RTP_TOTALS } from "./totals.ts";

const log = createLogger("rtp-worker");

/** Serves one worker until stdin ends, then exits the process. */
async function main(): Promise<void> {
  const peers = new Map<string, RtpPeer>();
  /** libdatachannel wrappers held until their onClosed: a collected one crashes Deno. */
  const registry = new Set<object>();
  let context: Omit<RtpPeerContext, "notify" | "onClosed"> | undefined;

  const peer = (peerId: string): RtpPeer => {
    const p = peers.get(peerId);
    if (!p) throw new Error(`Unknown peer ${peerId}`);
    return p;
  };

  const sources = rtpSourceHandlers(
    (peerId) => peers.get(peerId),
    (event) => server.notify("sourceLayer", event),
  );
  // AudioBridge: members' audio decoded and their mixes encoded here (mix_member.ts).
  const mixers = new MixerHub(rtpMemberFactory, {
    onLevels: (key, levels) => server.notify("mixerLevels", { key, levels }),
  });
  const handlers: Handlers<WorkerMethods> = {
    ...sources.handlers,
    ...mixerHandlers(mixers),
    configure: (config: WorkerConfig) => {
      setLogLevel(config.logLevel);
      // Before the first PeerConnection: libdatachannel's threads inherit the pin.
      if (config.pinSlot !== undefined) {
        const cpu = pinProcess(config.pinSlot);
        log.verbose(cpu !== undefined ? `pinned to CPU ${cpu}` : "not pinned to a CPU");
      }
      const interfaces = localInterfaces();
      const filter = workerCandidateFilter(config, interfaces, log);
      context = {
        config,
        filter,
        bindAddress: chooseBindAddress(config.iceEnforceList, interfaces),
        hold: (w) => void registry.add(w),
        release: (w) => void registry.delete(w),
      };
      const capabilities = {
        codecs: { audio: [...RTP_SUPPORTED.audio], video: [...RTP_SUPPORTED.video] },
        // Its mixers decode audio (AudioBridge), but nothing here decodes video or transcodes.
        decodes: false,
        rtp: true,
      };
      return Promise.resolve({ pid: Deno.pid, capabilities });
    },
    ping: () => Promise.resolve(null),
    mediaStats: ({ peers: withPeers }) => {
      const report: MediaStatsReport = { totals: copyCounters(RTP_TOTALS) };
      if (withPeers) {
        report.peers = Object.fromEntries([...peers].map(([id, p]) => [id, p.streamStats()]));
      }
      return Promise.resolve(report);
    },
    settings: (settings) => {
      if (!context) return Promise.reject(new Error("Worker not configured"));
      return Promise.resolve(applySettings(context.config, settings));
    },
    createPeer: ({ peerId }) => {
      if (!context) throw new Error("Worker not configured");
      if (peers.has(peerId)) throw new Error(`Peer ${peerId} exists`);
      peers.set(
        peerId,
        new RtpPeer(peerId, {
          ...context,
          notify: (event, params) => server.notify(event, params),
          onClosed: (closed) => {
            peers.delete(closed.id);
            void mixers.dropPeer(closed);
          },
        }),
      );
      return Promise.resolve(null);
    },
    acceptOffer: async ({ peerId, sdp, ...options }) => ({
      sdp: await peer(peerId).acceptOffer(sdp, options),
    }),
    createOffer: async ({ peerId, ...options }) => ({
      sdp: await peer(peerId).createOffer(options),
    }),
    acceptAnswer: ({ peerId, sdp }) => {
      peer(peerId).acceptAnswer(sdp);
      return Promise.resolve(null);
    },
    addRemoteCandidate: ({ peerId, candidate }) => {
      peer(peerId).addRemoteCandidate(candidate);
      return Promise.resolve(null);
    },
    setBitrateCap: ({ peerId, bitsPerSecond }) => {
      peer(peerId).setBitrateCap(bitsPerSecond);
      return Promise.resolve(null);
    },
    forward: ({ peerId, target, fromMid, toMid, active }) =>
      Promise.resolve({
        mid: peer(peerId).forward(peer(target), {
          fromMid,
          ...(toMid !== undefined ? { toMid } : {}),
          ...(active !== undefined ? { active } : {}),
        }),
      }),
    setForwarding: ({ peerId, target, toMid, active }) => {
      peer(peerId).setForwarding(peer(target), toMid, active);
      return Promise.resolve(null);
    },
    stopForward: ({ peerId, target, toMid }) => {
      // Idempotent: either peer may be gone already.
      const to = peers.get(target);
      if (to) peers.get(peerId)?.stopForward(to, toMid);
      return Promise.resolve(null);
    },
    requestKeyframe: ({ peerId, mid }) => {
      peer(peerId).requestKeyframe(mid);
      return Promise.resolve(null);
    },
    setAudioLevels: ({ peerId, enabled }) => {
      peer(peerId).setAudioLevels(enabled);
      return Promise.resolve(null);
    },
    mix: async ({ peerId, ...request }) => {
      await mixers.apply(peer(peerId), request);
      return null;
    },
    startRecording: ({ peerId, ...options }) => {
      peer(peerId).startRecording(options);
      return Promise.resolve(null);
    },
    stopRecording: ({ peerId, mid }) => {
      peers.get(peerId)?.stopRecording(mid);
      return Promise.resolve(null);
    },
    updateRecording: ({ peerId, ...update }) => {
      peers.get(peerId)?.updateRecording(update);
      return Promise.resolve(null);
    },
    rtpForward: ({ peerId, ...options }) => peer(peerId).rtpForward(options),
    stopRtpForward: ({ peerId, id }) => {
      peers.get(peerId)?.stopRtpForward(id);
      return Promise.resolve(null);
    },
    play: ({ peerId, files }) => Promise.resolve({ streams: peer(peerId).play({ files }) }),
    stopPlay: ({ peerId }) => {
      peers.get(peerId)?.stopPlay();
      return Promise.resolve(null);
    },
    sendData: ({ peerId, label, data }) => {
      peer(peerId).sendData(label, fromWire(data));
      return Promise.resolve(null);
    },
    info: ({ peerId }) => Promise.resolve(peer(peerId).info()),
    closePeer: ({ peerId }) => {
      peers.get(peerId)?.close();
      return Promise.resolve(null);
    },
  };

  const server = new RpcServer<WorkerMethods, WorkerEvents>(Deno.stdout.writable, handlers);
  server.notify("ready", { pid: Deno.pid });
  await server.serve(Deno.stdin.readable);
  log.verbose(`stdin closed, closing ${peers.size} peer(s) and exiting`);
  sources.closeAll();
  mixers.endAll();
  for (const p of [...peers.values()]) p.close();
  const deadline = performance.now() + 3000;
  while (registry.size > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (registry.size > 0) log.warn(`${registry.size} node-datachannel object(s) not closed`);
  Deno.exit(0);
}

globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  log.error(`unhandled rejection: ${String(event.reason)}`);
});

if (import.meta.main) await main();
