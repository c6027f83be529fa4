/**
 * The media bench's VideoRoom subscribers, in a process of their own: node-datachannel
 * PeerConnections that answer the server's offer (recvonly), send receiver reports, ask for a
 * keyframe (PLI) while none came, as a decoder would (`RtcpReceivingSession`), and count the RTP they receive (`RtpCounter`)
 * without decoding it. Why not wrtc: wrtc decodes every received stream, and 16 decoders of
 * 640x480 at ~1.5 Mbit/s take more than the two cores of a small machine, so the client
 * rather than the server would set the frame rate seen. Serves `ReceiverMethods` on
 * stdin/stdout; ends through `Deno.exit` once stdin closes (node-datachannel's `cleanup()`
 * walks freed wrappers, design.md).
 *
 * @module
 */
import { PeerConnection, RtcpReceivingSession, type Track } from "node-datachannel";
import type { Handlers } from "../../core/media/rpc.ts";
import { RpcServer } from "../../core/media/rpc.ts";
import { logUnhandledRejections } from "../../tests/media/_client_peers.ts";
import { type ClientEvents, noCounts, type ReceiverMethods } from "./protocol.ts";
import type { TrickleCandidate } from "./protocol.ts";
import { RtpCounter } from "./rtp_counter.ts";

/**
 * The namespace's veth address when there is one, as wrtc clients gather it: the reference
 * Janus ignores a client's 127.0.0.1 candidates (and libjuice skips loopback unless bound).
 */
const BIND = Deno.networkInterfaces().some((i) => i.address === "127.0.0.10")
  ? "127.0.0.10"
  : "127.0.0.1";

interface Subscriber {
  pc: PeerConnection;
  tracks: Track[];
  counter: RtpCounter;
  candidates: TrickleCandidate[];
  closed: boolean;
}

/** Waits for ICE gathering to complete (5 s at most). */
function gathered(pc: PeerConnection, done: Promise<void>): Promise<void> {
  if (pc.gatheringState() === "complete") return Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    done,
    new Promise<void>((resolve) => timer = setTimeout(resolve, 5000)),
  ]).finally(() => clearTimeout(timer));
}

async function main(): Promise<void> {
  const subscribers = new Map<number, Subscriber>();
  /** Wrappers held until their onClosed: a collected one crashes Deno. */
  const registry = new Set<object>();
  let next = 0;
  const get = (id: number): Subscriber => {
    const s = subscribers.get(id);
    if (!s) throw new Error(`Unknown subscriber ${id}`);
    return s;
  };

  const handlers: Handlers<ReceiverMethods> = {
    accept: async ({ sdp }) => {
      const id = ++next;
      const pc = new PeerConnection(`sub${id}`, { iceServers: [], bindAddress: BIND });
      registry.add(pc);
      const sub: Subscriber = {
        pc,
        tracks: [],
        counter: new RtpCounter(sdp),
        candidates: [],
        closed: false,
      };
      subscribers.set(id, sub);
      const complete = Promise.withResolvers<void>();
      pc.onStateChange((state) => {
        sub.counter.counts.state = state;
        if (state === "closed") registry.delete(pc);
      });
      pc.onGatheringStateChange((state) => {
        if (state === "complete") complete.resolve();
      });
      pc.onTrack((track) => {
        registry.add(track);
        sub.tracks.push(track);
        track.onClosed(() => registry.delete(track));
        const video = track.type() === "video";
        if (video) track.setMediaHandler(new RtcpReceivingSession());
        track.onMessage((buf) => {
          if (sub.closed) return;
          sub.counter.onPacket(buf);
          // As a decoder would: no keyframe yet, ask (PLI) once a second.
          if (video && sub.counter.wantsKeyframe(performance.now())) track.requestKeyframe();
        });
      });
      pc.setRemoteDescription(sdp, "offer");
      await gathered(pc, complete.promise);
      const local = pc.localDescription()?.sdp ?? "";
      const mid = /^a=mid:(\S+)/m.exec(local)?.[1] ?? "0";
      const lines = local.split("\r\n");
      sub.candidates = lines.filter((l) => l.startsWith("a=candidate:")).map((l) => ({
        candidate: l.slice(2),
        sdpMid: mid,
        sdpMLineIndex: 0,
      }));
      // Candidates go by trickle, as a browser's would.
      const answer = lines.filter((l) =>
        !l.startsWith("a=candidate:") && l !== "a=end-of-candidates"
      ).join("\r\n");
      return { id, sdp: answer };
    },
    candidates: ({ id }) => Promise.resolve({ candidates: get(id).candidates }),
    addRemote: ({ id, mid, candidates }) => {
      const pc = get(id).pc;
      for (const c of candidates) pc.addRemoteCandidate(c, mid);
      return Promise.resolve(null);
    },
    counts: ({ ids }) =>
      Promise.resolve({
        peers: ids.map((id) => {
          const s = subscribers.get(id);
          return s ? { ...s.counter.counts } : noCounts("gone");
        }),
      }),
    close: ({ id }) => {
      const s = subscribers.get(id);
      subscribers.delete(id);
      if (s) close(s);
      return Promise.resolve(null);
    },
  };

  const server = new RpcServer<ReceiverMethods, ClientEvents>(Deno.stdout.writable, handlers);
  server.notify("ready", { pid: Deno.pid });
  await server.serve(Deno.stdin.readable);
  for (const s of subscribers.values()) close(s);
  // Let onClosed callbacks run before the process ends.
  for (let i = 0; i < 20 && registry.size > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  Deno.exit(0);
}

/** Tracks close before their PeerConnection (libdatachannel). */
function close(s: Subscriber): void {
  if (s.closed) return;
  s.closed = true;
  for (const t of s.tracks) t.close();
  s.pc.close();
}

logUnhandledRejections("bench receiver host");

if (import.meta.main) await main();
