/**
 * The steps the media benches (`echo.ts`, `../videoroom/fanout.ts`) share: a client's
 * WebSocket, session and plugin handle, the client peer's answer and trickled candidates,
 * webrtcup (or hangup), teardown, and the measured window (what the client peers received,
 * and CPU).
 *
 * @module
 */
import { type CpuWindow, mean, sleep, startCpu } from "./cpu.ts";
import type { ClientEvents, CountMethods, PeerCounts, TrickleCandidate } from "./protocol.ts";
import type { RpcChild } from "./rpc_child.ts";
import type { ClientHost, MediaServer } from "./server.ts";
import { Signal } from "./signal.ts";

/** What a client set up so far (to tear down whatever exists). */
export interface Opened {
  sig?: Signal;
  session?: number;
  peer?: number;
}

/** Opens a WebSocket to `server`, a session and a handle on `plugin`, noting them in `opened`. */
export async function openHandle(
  server: MediaServer,
  plugin: string,
  timeoutMs: number,
  opened: Opened,
): Promise<{ sig: Signal; session: number; handle: number }> {
  const sig = await Signal.open(server.wsUrl, timeoutMs);
  opened.sig = sig;
  const session = await sig.createSession();
  opened.session = session;
  const handle = await sig.attach(session, plugin);
  return { sig, session, handle };
}

/** What the call steps need of a client process (`client_host.ts` or `receiver_host.ts`). */
export interface PeerHost {
  call(method: "candidates", params: { id: number }): Promise<{ candidates: TrickleCandidate[] }>;
  call(method: "close", params: { id: number }): Promise<null>;
}

/** Trickles the candidates the client peer `id` gathered (then `completed`). */
export async function trickleCandidates(
  host: PeerHost,
  sig: Signal,
  session: number,
  handle: number,
  id: number,
): Promise<void> {
  const { candidates } = await host.call("candidates", { id });
  await sig.trickle(session, handle, candidates.map((c) => ({ ...c })));
}

/** Hands the server's `answer` to the client peer `id`, then trickles its candidates. */
export async function answerAndTrickle(
  host: ClientHost,
  sig: Signal,
  session: number,
  handle: number,
  id: number,
  answer: string,
): Promise<void> {
  await host.call("answer", { id, sdp: answer });
  await trickleCandidates(host, sig, session, handle, id);
}

/**
 * Resolves `performance.now()` at the handle's webrtcup; throws on a hangup first
 * (`hangupText` of its reason).
 */
export async function upOrHangup(
  sig: Signal,
  handle: number,
  what: string,
  hangupText: (reason: string) => string = (reason) => `${what}: hangup ${reason}`,
): Promise<number> {
  const up = await sig.take(
    (msg) => (msg.janus === "webrtcup" || msg.janus === "hangup") && msg.sender === handle,
    what,
  );
  if (up.msg.janus === "hangup") throw new Error(hangupText(String(up.msg.reason)));
  return up.at;
}

/** Ends the session, closes the socket and the client peer (best effort). */
export async function release(host: PeerHost, opened: Opened): Promise<void> {
  if (opened.sig && opened.session !== undefined) await opened.sig.destroySession(opened.session);
  await opened.sig?.close();
  if (opened.peer !== undefined) await host.call("close", { id: opened.peer }).catch(() => {});
}

/** One client peer over a measured window. */
export interface PeerWindow {
  state: string;
  /** Frames per second: decoded (wrtc) or completed by a marker bit (receiver host). */
  fps: number;
  /** Video kbit/s and packets/s received, RTP headers included. */
  kbps: number;
  videoPps: number;
  audioPps: number;
  /** Size of the last frame (wrtc) or keyframe (receiver host) received; 0 when none. */
  width: number;
  height: number;
  /** Keyframes received during the window. */
  keyframes: number;
}

/** What a measured window saw. */
export interface MediaWindow {
  peers: PeerWindow[];
  server: CpuWindow;
  /** Ends the client processes' CPU window (started with the server's). */
  client: () => Promise<CpuWindow>;
}

/** A process whose peers report what they received (`CountMethods`). */
export interface Counting {
  pid: number;
  counts(ids: number[]): Promise<PeerCounts[]>;
}

/** `host` as a {@link Counting}. */
export function counting(host: RpcChild<CountMethods, ClientEvents>): Counting {
  return {
    pid: host.pid,
    counts: async (ids) => (await host.call("counts", { ids })).peers,
  };
}

/**
 * After `settle` seconds, reads what the peers `ids` of `receivers` receive, and the
 * server's and the client processes' CPU, over `seconds`.
 */
export async function measureWindow(
  server: MediaServer,
  receivers: Counting,
  clientPids: readonly number[],
  ids: number[],
  settle: number,
  seconds: number,
): Promise<MediaWindow> {
  await sleep(settle * 1000);
  const before = await receivers.counts(ids);
  const serverCpu = await startCpu(server.pids);
  const clientCpu = await startCpu(() => Promise.resolve(clientPids));
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const after = await receivers.counts(ids);
  const elapsed = (performance.now() - t0) / 1000;
  const s = await serverCpu();
  return {
    peers: after.map((a, i) => {
      const b = before[i] ?? a;
      const rate = (key: "frames" | "videoPackets" | "audioPackets") => (a[key] - b[key]) / elapsed;
      return {
        state: a.state,
        fps: rate("frames"),
        kbps: (a.videoBytes - b.videoBytes) * 8 / 1000 / elapsed,
        videoPps: rate("videoPackets"),
        audioPps: rate("audioPackets"),
        width: a.width,
        height: a.height,
        keyframes: a.keyframes - b.keyframes,
      };
    }),
    server: s,
    client: clientCpu,
  };
}

/** Received video over a window, summed up. */
export interface ReceivedSummary {
  fpsMean: number | undefined;
  fpsMin: number | undefined;
  kbpsMean: number | undefined;
  ppsMean: number | undefined;
  /** Peers whose last frame had the size sent. */
  atSize: number;
  /** Distinct received sizes with their count, e.g. "640x480×15 320x240×1". */
  sizes: string;
}

/** Sums `peers` up; `width`×`height` is the size the sender was given. */
export function summarize(
  peers: readonly PeerWindow[],
  width: number,
  height: number,
): ReceivedSummary {
  const fps = peers.map((p) => p.fps);
  const sizes = new Map<string, number>();
  for (const p of peers) {
    const key = p.width > 0 ? `${p.width}x${p.height}` : "none";
    sizes.set(key, (sizes.get(key) ?? 0) + 1);
  }
  return {
    fpsMean: mean(fps),
    fpsMin: fps.length > 0 ? Math.min(...fps) : undefined,
    kbpsMean: mean(peers.map((p) => p.kbps)),
    ppsMean: mean(peers.map((p) => p.videoPps)),
    atSize: peers.filter((p) => p.width === width && p.height === height).length,
    sizes: [...sizes].map(([size, n]) => `${size}×${n}`).join(" "),
  };
}
