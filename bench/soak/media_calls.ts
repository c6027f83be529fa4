/**
 * The soak's media churn: every few seconds one call with a real wrtc peer (from the client
 * host), alternately an EchoTest call and a VideoRoom publisher, held a moment, then torn
 * down (destroy, close), so that the media worker creates and frees PeerConnections all run.
 *
 * @module
 */
import { answerAndTrickle, type Opened, openHandle, release, upOrHangup } from "../media/call.ts";
import { sleep } from "../media/cpu.ts";
import type { ClientHost, MediaServer } from "../media/server.ts";
import { publish } from "../videoroom/fanout.ts";
import { jsepSdp } from "../media/signal.ts";
import type { Tally } from "./churn.ts";

const ECHOTEST = "janus.plugin.echotest";

/** Settings of the media churn. */
export interface MediaChurnOptions {
  /** Seconds between two call starts. */
  everySeconds: number;
  /** Seconds a call stays up after webrtcup. */
  holdSeconds: number;
  durationMs: number;
  timeoutMs: number;
  room: number;
}

async function echoCall(server: MediaServer, host: ClientHost, o: MediaChurnOptions, m: Opened) {
  const { sig, session, handle } = await openHandle(server, ECHOTEST, o.timeoutMs, m);
  const { id } = await host.call("create", { kind: "echo" });
  m.peer = id;
  const { sdp } = await host.call("offer", { id });
  const event = await sig.message(session, handle, { audio: true, video: true }, {
    type: "offer",
    sdp,
  });
  const answer = jsepSdp(event.msg);
  if (!answer) throw new Error(`echo: no answer in ${JSON.stringify(event.msg).slice(0, 200)}`);
  await answerAndTrickle(host, sig, session, handle, id, answer);
  await upOrHangup(sig, handle, "echo webrtcup");
}

/** Runs media calls one after another at the set pace until the duration ends. */
export async function mediaChurn(
  server: MediaServer,
  host: ClientHost,
  options: MediaChurnOptions,
  tally: Tally,
): Promise<void> {
  const start = performance.now();
  for (let i = 0;; i++) {
    const due = start + i * options.everySeconds * 1000;
    if (due - start >= options.durationMs) return;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const kind = i % 2 === 0 ? "media-echo" : "media-publisher";
    const opened: Opened = {};
    tally.started++;
    try {
      if (kind === "media-echo") await echoCall(server, host, options, opened);
      else await publish(server, host, options.room, opened, options.timeoutMs, "soak-media");
      await sleep(options.holdSeconds * 1000);
      tally.ok(kind);
    } catch (e) {
      tally.failed(kind, e);
    } finally {
      await release(host, opened).catch(() => {});
    }
  }
}
