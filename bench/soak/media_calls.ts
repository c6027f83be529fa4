/**
 * The soak's media churn: every few seconds one call with a real wrtc peer (from the client
 * host), alternately an EchoTest call and a VideoRoom publisher, held a moment, then torn
 * down (destroy, close), so that the media worker creates and frees PeerConnections all run.
 *
 * @module
 */
import { answerAndTrickle, type Opened, openHandle, release, upOrHangup } from "../media/call.ts";
import type { ClientHost, MediaServer } from "../media/server.ts";
import { jsepSdp, pluginData } from "../media/signal.ts";
import type { Tally } from "./churn.ts";

const ECHOTEST = "janus.plugin.echotest";
const VIDEOROOM = "janus.plugin.videoroom";

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

async function publisherCall(
  server: MediaServer,
  host: ClientHost,
  o: MediaChurnOptions,
  m: Opened,
) {
  const { sig, session, handle } = await openHandle(server, VIDEOROOM, o.timeoutMs, m);
  const joined = pluginData(
    (await sig.message(session, handle, {
      request: "join",
      ptype: "publisher",
      room: o.room,
      display: "soak-media",
    })).msg,
  );
  if (joined.videoroom !== "joined") {
    throw new Error(`publisher join: ${JSON.stringify(joined).slice(0, 200)}`);
  }
  const { id } = await host.call("create", { kind: "publisher" });
  m.peer = id;
  const { sdp } = await host.call("offer", { id });
  const configured = await sig.message(session, handle, {
    request: "configure",
    audio: true,
    video: true,
  }, { type: "offer", sdp });
  const answer = jsepSdp(configured.msg);
  if (!answer) throw new Error(`configure: no answer in ${JSON.stringify(configured.msg)}`);
  await answerAndTrickle(host, sig, session, handle, id, answer);
  await upOrHangup(sig, handle, "publisher webrtcup");
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
      else await publisherCall(server, host, options, opened);
      await sleep(options.holdSeconds * 1000);
      tally.ok(kind);
    } catch (e) {
      tally.failed(kind, e);
    } finally {
      await release(host, opened).catch(() => {});
    }
  }
}
