/**
 * EchoTest `bitrate` on the RTP engine slows the client's own sender, as on Janus: the cap
 * is the REMB we send, and libwebrtc (the wrtc client) honours REMB. The client sends video
 * with random chroma so that it needs real bitrate; its outbound-rtp video bytes rate is
 * measured before the cap (well above it) and must fall under the cap within 10 s.
 *
 * Only the RTP engine: the wrtc engine writes the cap as `b=AS` into its own answer and caps
 * what the worker sends, not what the client sends.
 */
import assert from "node:assert/strict";
import {
  echoCallUp,
  echoMessage,
  expectSuccess,
  framesAtLeast,
  handleInfo,
  sleep,
  startEchoGateway,
} from "./_echotest.ts";
import { peerTest, type RemotePeer } from "./_peers.ts";
import { openSignal } from "./_signal.ts";

/** The cap asked for, in bits per second. */
const CAP = 64_000;
/** How long the client has to come under the cap, in ms. */
const WITHIN_MS = 10_000;
/** Window of each rate sample, in ms. */
const WINDOW_MS = 1_000;

/** The client's outgoing video payload rate over the next `ms`, in bits per second. */
async function sendRate(client: RemotePeer, ms = WINDOW_MS): Promise<number> {
  const before = await client.sentVideoBytes();
  const start = performance.now();
  await sleep(ms);
  const bytes = (await client.sentVideoBytes()) - before;
  return (bytes * 8 * 1000) / (performance.now() - start);
}

peerTest(
  `echotest on rtp: bitrate ${CAP} slows the client's own video sender under the cap ` +
    `within ${WITHIN_MS / 1000} s (REMB)`,
  async (host) => {
    await using gw = await startEchoGateway("rtp");
    const sig = await openSignal("ws", gw);
    const client = await host.peer({ audio: true, video: true, noise: true });
    try {
      const { s, h } = await echoCallUp(sig, client, 10);
      await sleep(2000); // let the sender ramp up
      const before = await sendRate(client);
      assert.ok(before > 2 * CAP, `the client sends ${before.toFixed(0)} b/s before the cap`);

      const cappedAt = performance.now();
      await echoMessage(sig, s, h, { bitrate: CAP });
      const rates: number[] = [];
      let under = false;
      while (performance.now() - cappedAt < WITHIN_MS) {
        const rate = await sendRate(client);
        rates.push(Math.round(rate));
        if (rate < CAP) {
          under = true;
          break;
        }
      }
      const tookMs = performance.now() - cappedAt;
      assert.ok(under, `rates after the cap (b/s per ${WINDOW_MS} ms): ${rates.join(", ")}`);
      // It stays under: the REMB keeps coming every 500 ms.
      const later = await sendRate(client, 2000);
      assert.ok(later < CAP, `rate 2 s later: ${later.toFixed(0)} b/s`);
      // The echo still flows.
      const frames = (await client.stats()).videoFrames;
      await framesAtLeast(client, frames + 5);
      const info = await handleInfo(gw, s, h);
      assert.equal((info.plugin_specific as { bitrate?: number }).bitrate, CAP);
      await expectSuccess(sig, { janus: "destroy", session_id: s });
      // deno-lint-ignore no-console
      console.log(
        `client video ${before.toFixed(0)} b/s before; under ${CAP} after ` +
          `${tookMs.toFixed(0)} ms (${rates.join(", ")}), ${later.toFixed(0)} b/s 2 s later`,
      );
    } finally {
      await client.close();
      await sig.close();
    }
  },
);
