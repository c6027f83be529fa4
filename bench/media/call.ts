/**
 * The steps the media benches (`echo.ts`, `../videoroom/fanout.ts`) share: a client's
 * WebSocket, session and plugin handle, the client peer's answer and trickled candidates,
 * webrtcup (or hangup), teardown, and the measured window (decoded frames and CPU).
 *
 * @module
 */
import { type CpuWindow, sleep, startCpu } from "./cpu.ts";
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

/** Trickles the candidates the client peer `id` gathered (then `completed`). */
export async function trickleCandidates(
  host: ClientHost,
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
export async function release(host: ClientHost, opened: Opened): Promise<void> {
  if (opened.sig && opened.session !== undefined) await opened.sig.destroySession(opened.session);
  await opened.sig?.close();
  if (opened.peer !== undefined) await host.call("close", { id: opened.peer }).catch(() => {});
}

/** What a measured window saw. */
export interface MediaWindow {
  /** Frames decoded per second by each of the peers. */
  fps: number[];
  /** Connection states of the peers at the end. */
  states: string[];
  server: CpuWindow;
  /** Ends the client host's CPU window (started with the server's). */
  client: () => Promise<CpuWindow>;
}

/**
 * After `settle` seconds, counts the frames the client peers `ids` decode and the server's
 * and client host's CPU over `seconds`.
 */
export async function measureWindow(
  server: MediaServer,
  host: ClientHost,
  ids: number[],
  settle: number,
  seconds: number,
): Promise<MediaWindow> {
  await sleep(settle * 1000);
  const before = await host.call("frames", { ids });
  const serverCpu = await startCpu(server.pids);
  const clientCpu = await startCpu(() => Promise.resolve([host.pid]));
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const after = await host.call("frames", { ids });
  const elapsed = (performance.now() - t0) / 1000;
  const s = await serverCpu();
  return {
    fps: after.frames.map((f, i) => (f - (before.frames[i] ?? 0)) / elapsed),
    states: after.states,
    server: s,
    client: clientCpu,
  };
}
