/**
 * The rtp engine answers a subscriber's NACKs from its per-line packet cache, as RTX (an
 * identical SRTP packet would be dropped as a replay): a UDP relay drops a fifth of what the
 * worker sends the subscriber, and the subscriber NACKs and still decodes at the full frame
 * rate without ever asking for a keyframe; without working resends its decoder stalls on the
 * first lost frame and asks for one.
 *
 * Run: `deno run -A tests/_helpers/netns.ts deno test -A tests/media/rtp_engine_forward_loss_test.ts`
 */
import assert from "node:assert/strict";
import { createMediaEngine, RTP_WORKER_MAIN_URL } from "../../core/media/engine.ts";
import { ClientPeer, waitUntil, wrtcTest } from "./_client.ts";
import { hostCandidate, loopbackUdpPort, LossyRelay, withOnlyCandidate } from "./_lossy_relay.ts";

const DROP = 0.2;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The subscriber's inbound-rtp video: NACKs and keyframe requests (PLI/FIR) it sent. */
async function inbound(client: ClientPeer): Promise<{ nacks: number; plis: number }> {
  const out = { nacks: 0, plis: 0 };
  (await client.pc.getStats()).forEach((value) => {
    const r = value as {
      type: string;
      kind?: string;
      nackCount?: number;
      pliCount?: number;
      firCount?: number;
    };
    if (r.type !== "inbound-rtp" || r.kind !== "video") return;
    out.nacks += r.nackCount ?? 0;
    out.plis += (r.pliCount ?? 0) + (r.firCount ?? 0);
  });
  return out;
}

wrtcTest(
  `rtp engine: ${DROP * 100}% of a forwarded stream lost on the way to the subscriber is ` +
    "resent over RTX from the line's cache",
  async (wrtc) => {
    const engine = await createMediaEngine({ workerMain: RTP_WORKER_MAIN_URL });
    // The relay's "client" side is the worker here: what the worker sends is dropped.
    const relay = await LossyRelay.start(0);
    const publisher = new ClientPeer(wrtc, { video: true });
    const subscriber = new ClientPeer(wrtc, {});
    try {
      let connected = 0;
      const listener = { onConnected: () => void connected++ };
      const pub = await engine.createPeer({ affinity: "r", listener });
      publisher.trickleTo((c) => pub.addRemoteCandidate(c));
      await publisher.answer(await pub.acceptOffer(await publisher.offer()));
      await waitUntil("publisher connected", () => connected === 1);

      const sub = await engine.createPeer({ affinity: "r", listener });
      assert.equal(await pub.forward({ to: sub, fromMid: "0" }), "0");
      const offer = await sub.createOffer();
      assert.match(offer, /a=ssrc-group:FID \d+ \d+/, "our RTX SSRC is announced");
      const workerPort = loopbackUdpPort(offer);
      assert.ok(workerPort !== undefined, "a UDP 127.0.0.1 candidate in our offer");
      let subscriberPort: number | undefined;
      subscriber.pc.addEventListener("icecandidate", ({ candidate }) => {
        if (candidate) subscriberPort ??= loopbackUdpPort(candidate.candidate);
      });
      await subscriber.pc.setRemoteDescription({
        type: "offer",
        sdp: withOnlyCandidate(offer, relay.serverFacingPort),
      });
      const answer = await subscriber.pc.createAnswer();
      await subscriber.pc.setLocalDescription(answer);
      await waitUntil("the subscriber's UDP 127.0.0.1 candidate", () => !!subscriberPort);
      relay.connect(workerPort, subscriberPort ?? 0);
      await sub.acceptAnswer(withOnlyCandidate(answer.sdp ?? "", relay.clientFacingPort));
      await sub.addRemoteCandidate({
        candidate: hostCandidate(relay.clientFacingPort),
        sdpMid: "0",
        sdpMLineIndex: 0,
      });
      await waitUntil("subscriber connected", () => connected === 2);
      await waitUntil("first frames", () => subscriber.framesOf("0") > 5);

      relay.dropShare = DROP;
      const framesBefore = subscriber.framesOf("0");
      const droppedBefore = relay.dropped;
      await sleep(5000);
      const frames = subscriber.framesOf("0") - framesBefore;
      const dropped = relay.dropped - droppedBefore;
      const seen = await inbound(subscriber);

      assert.ok(dropped > 20, `the relay dropped ${dropped} packets`);
      assert.ok(seen.nacks > 0, `the subscriber NACKed: ${JSON.stringify(seen)}`);
      // A lost frame not resent breaks VP8's reference chain: the decoder stalls and asks for a
      // keyframe. (libwebrtc does not count RTX-recovered packets in packetsLost.)
      assert.equal(seen.plis, 0, `the subscriber asked for keyframes: ${JSON.stringify(seen)}`);
      assert.ok(frames > 100, `${frames} frames decoded in 5 s under loss`);
      // deno-lint-ignore no-console
      console.log(
        `dropped ${dropped}, ${seen.nacks} NACKs, ${seen.plis} PLIs, ${frames} frames in 5 s`,
      );
      await sub.close();
      await pub.close();
    } finally {
      publisher.close();
      subscriber.close();
      relay.close();
      await engine.close();
    }
    assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
  },
);
