/**
 * Entry point of a media worker process: holds the PeerConnections (wrtc loads here and
 * nowhere in the gateway's process), serves the RPC of `protocol.ts` on stdin/stdout, and
 * ends with `Deno.exit()` after closing every peer once stdin closes (a normal exit of a
 * process that used wrtc can crash in native finalizers).
 *
 * Run as `deno run --allow-all core/media/worker_main.ts`; stdout is the RPC channel, logs
 * go to stderr.
 *
 * @module
 */
import { createLogger, setLogLevel } from "../log.ts";
import { ForwardHub } from "./forwarding.ts";
import { localInterfaces, workerCandidateFilter } from "./ice_filter.ts";
import { createTrimmer, libcMallocTrim } from "./malloc_trim.ts";
import { MixerHub } from "./mixer.ts";
import { wrtcMemberFactory } from "./mix_wrtc_member.ts";
import { mixerHandlers } from "./mixer_protocol.ts";
import {
  applySettings,
  fromWire,
  type WorkerConfig,
  type WorkerEvents,
  type WorkerMethods,
} from "./protocol.ts";
import { type Handlers, RpcServer } from "./rpc.ts";
import { unsupportedSourceHandlers } from "./source_protocol.ts";
import { codecNames } from "./sdp.ts";
import { copyCounters, emptyCounters, type MediaStatsReport } from "./media_counters.ts";
import { WorkerPeer, type WorkerPeerContext } from "./worker_peer.ts";
import { loadWrtc, type Wrtc, type WrtcPeerConnection } from "./wrtc.ts";

const log = createLogger("media-worker");

/**
 * A peer that stays open for the worker's life: wrtc tears its factory down each time the
 * last open peer closes, and every teardown leaks 4 threads and their memory (design.md),
 * so under churn the worker's RSS grew with every call. Never closed; `Deno.exit` ends it.
 */
let keeper: WrtcPeerConnection | undefined;

/** The codecs this wrtc build can negotiate, read from an offer of the keeper peer. */
async function probeCodecs(wrtc: Wrtc): Promise<WorkerPeerContext["supported"]> {
  const pc = keeper ??= new wrtc.RTCPeerConnection({});
  if (pc.getTransceivers().length === 0) {
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.addTransceiver("video", { direction: "recvonly" });
  }
  const offer = await pc.createOffer();
  return { audio: codecNames(offer.sdp, "audio"), video: codecNames(offer.sdp, "video") };
}

/** Serves one worker until stdin ends, then exits the process. */
async function main(): Promise<void> {
  const wrtc = await loadWrtc();
  const peers = new Map<string, WorkerPeer>();
  const totals = emptyCounters();
  const forwards = new ForwardHub();
  const mixers = new MixerHub(
    wrtcMemberFactory({
      openSink: (track) => new wrtc.nonstandard.RTCAudioSink(track),
      newSource: () => new wrtc.nonstandard.RTCAudioSource(),
    }),
    { onLevels: (key, levels) => server.notify("mixerLevels", { key, levels }) },
  );
  const trimmer = createTrimmer(libcMallocTrim());
  let context: Omit<WorkerPeerContext, "notify" | "onClosed"> | undefined;

  const peer = (peerId: string): WorkerPeer => {
    const p = peers.get(peerId);
    if (!p) throw new Error(`Unknown peer ${peerId}`);
    return p;
  };

  const handlers: Handlers<WorkerMethods> = {
    configure: async (config: WorkerConfig) => {
      setLogLevel(config.logLevel);
      const supported = await probeCodecs(wrtc);
      const filter = workerCandidateFilter(config, localInterfaces(), log);
      context = {
        config,
        filter,
        supported,
        forwards,
        mixers,
        openAudioSink: (track) => new wrtc.nonstandard.RTCAudioSink(track),
        totals,
      };
      const capabilities = {
        codecs: { audio: [...supported.audio], video: [...supported.video] },
        decodes: true,
        rtp: false,
      };
      return { pid: Deno.pid, capabilities };
    },
    ping: () => Promise.resolve(null),
    // Totals as of each peer's last stats poll (every 500 ms at most), closed peers included.
    mediaStats: async ({ peers: withPeers }) => {
      const report: MediaStatsReport = { totals: copyCounters(totals) };
      if (!withPeers) return report;
      const entries = await Promise.all(
        [...peers].map(async ([id, p]) => [id, await p.streamStats()] as const),
      );
      return { ...report, peers: Object.fromEntries(entries) };
    },
    settings: (settings) => {
      if (!context) return Promise.reject(new Error("Worker not configured"));
      return Promise.resolve(applySettings(context.config, settings));
    },
    createPeer: ({ peerId }) => {
      if (!context) throw new Error("Worker not configured");
      if (peers.has(peerId)) throw new Error(`Peer ${peerId} exists`);
      // wrtc's non-standard `portRange` binds ICE (and so RTP) inside the configured range.
      const range = context.config.rtpPortRange;
      const pc = new wrtc.RTCPeerConnection({
        iceServers: [],
        ...(range ? { portRange: { min: range.min, max: range.max } } : {}),
      });
      peers.set(
        peerId,
        new WorkerPeer(peerId, pc, {
          ...context,
          notify: (event, params) => server.notify(event, params),
          onClosed: (closed) => {
            peers.delete(closed.id);
            trimmer.soon();
          },
        }),
      );
      return Promise.resolve(null);
    },
    acceptOffer: async ({ peerId, sdp, ...options }) => ({
      sdp: await peer(peerId).acceptOffer(sdp, options),
    }),
    createOffer: async ({ peerId, iceRestart, data, mirror, codecs, inactive }) => ({
      sdp: await peer(peerId).createOffer({
        ...(iceRestart !== undefined ? { iceRestart } : {}),
        ...(data !== undefined ? { data } : {}),
        ...(mirror !== undefined ? { mirror } : {}),
        ...(codecs !== undefined ? { codecs } : {}),
        ...(inactive !== undefined ? { inactive } : {}),
      }),
    }),
    acceptAnswer: async ({ peerId, sdp }) => {
      await peer(peerId).acceptAnswer(sdp);
      return null;
    },
    addRemoteCandidate: async ({ peerId, candidate }) => {
      await peer(peerId).addRemoteCandidate(candidate);
      return null;
    },
    setBitrateCap: async ({ peerId, bitsPerSecond }) => {
      await peer(peerId).setBitrateCap(bitsPerSecond);
      return null;
    },
    forward: async ({ peerId, target, fromMid, toMid, active }) => ({
      mid: await forwards.forward(peer(peerId), peer(target), {
        fromMid,
        ...(toMid !== undefined ? { toMid } : {}),
        ...(active !== undefined ? { active } : {}),
      }),
    }),
    setForwarding: async ({ peerId, target, toMid, active }) => {
      await forwards.setActive(peer(peerId), peer(target), toMid, active);
      return null;
    },
    stopForward: async ({ peerId, target, toMid }) => {
      const source = peers.get(peerId);
      const to = peers.get(target);
      if (source && to) await forwards.stop(source, to, toMid);
      return null;
    },
    requestKeyframe: ({ peerId }) => {
      peer(peerId);
      // libwebrtc sends PLIs itself and re-encodes what it forwards: nothing to ask for.
      return Promise.reject(
        new Error("The wrtc media engine does not request keyframes (its encoders make them)"),
      );
    },
    setAudioLevels: ({ peerId, enabled }) => {
      peer(peerId).setAudioLevels(enabled);
      return Promise.resolve(null);
    },
    mix: async ({ peerId, ...request }) => {
      await mixers.apply(peer(peerId), request);
      return null;
    },
    startRecording: ({ peerId }) => {
      peer(peerId);
      // Its peers hand decoded frames around: there are no RTP packets to write.
      return Promise.reject(new Error("The wrtc media engine does not record RTP (no MJR)"));
    },
    stopRecording: () => Promise.resolve(null),
    updateRecording: () => Promise.resolve(null),
    rtpForward: ({ peerId }) => {
      peer(peerId);
      return Promise.reject(new Error("The wrtc media engine does not forward plain RTP"));
    },
    stopRtpForward: () => Promise.resolve(null),
    play: ({ peerId }) => {
      peer(peerId);
      return Promise.reject(new Error("The wrtc media engine does not play recordings (no RTP)"));
    },
    stopPlay: () => Promise.resolve(null),
    sendData: ({ peerId, label, data }) => {
      peer(peerId).sendData(label, fromWire(data));
      return Promise.resolve(null);
    },
    info: async ({ peerId }) => await peer(peerId).info(),
    closePeer: async ({ peerId }) => {
      await peers.get(peerId)?.close();
      return null;
    },
    ...mixerHandlers(mixers),
    ...unsupportedSourceHandlers("The wrtc media engine hosts no RTP sources (use rtp)"),
  };

  const server = new RpcServer<WorkerMethods, WorkerEvents>(Deno.stdout.writable, handlers);
  server.notify("ready", { pid: Deno.pid });
  await server.serve(Deno.stdin.readable);
  log.verbose(`stdin closed, closing ${peers.size} peer(s) and exiting`);
  for (const p of [...peers.values()]) {
    await p.close().catch((e: unknown) => log.error(`closing ${p.id}: ${String(e)}`));
  }
  mixers.endAll();
  await new Promise((resolve) => setTimeout(resolve, 50));
  Deno.exit(0);
}

globalThis.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  log.error(`unhandled rejection: ${String(event.reason)}`);
});

if (import.meta.main) await main();
