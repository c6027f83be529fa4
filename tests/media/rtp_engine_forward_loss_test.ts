/**
 * The rtp engine answers a subscriber's NACKs from its per-line packet cache, as RTX (an
 * identical SRTP packet would be dropped as a replay): a UDP relay drops a fifth of what the
 * worker sends the subscriber, and the subscriber NACKs and still decodes at the full frame
 * rate without ever asking for a keyframe; without working resends its decoder stalls on the
 * first lost frame and asks for one. The same for echo (a peer's m-line forwarded to itself):
 * the client's NACKs of its echoed video are answered over RTX too.
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
      const rtxSsrc = Number(/a=ssrc-group:FID \d+ (\d+)/.exec(offer)?.[1]);
      assert.ok(rtxSsrc > 0, "our RTX SSRC is announced");
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

      const { dropped, frames, ...seen } = await underLoss(relay, subscriber, "0");
      assert.ok(dropped > 20, `the relay dropped ${dropped} packets`);
      assert.ok(seen.nacks > 0, `the subscriber NACKed: ${JSON.stringify(seen)}`);
      // A lost frame not resent breaks VP8's reference chain: the decoder stalls and asks for a
      // keyframe. (libwebrtc does not count RTX-recovered packets in packetsLost.)
      assert.equal(seen.plis, 0, `the subscriber asked for keyframes: ${JSON.stringify(seen)}`);
      assert.ok(frames > 100, `${frames} frames decoded in 5 s under loss`);
      const resent = relay.forwardedBySsrc.get(rtxSsrc) ?? 0;
      assert.ok(resent > 0, `${resent} packets on the RTX SSRC`);
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

/** Drops `DROP` of what the worker sends `client` for 5 s; what the client saw. */
async function underLoss(
  relay: LossyRelay,
  client: ClientPeer,
  mid: string,
): Promise<{ dropped: number; frames: number; nacks: number; plis: number }> {
  relay.dropShare = DROP;
  const framesBefore = client.framesOf(mid);
  const droppedBefore = relay.dropped;
  await sleep(5000);
  const frames = client.framesOf(mid) - framesBefore;
  return { dropped: relay.dropped - droppedBefore, frames, ...(await inbound(client)) };
}

wrtcTest(
  `rtp engine: ${DROP * 100}% of an echo lost on the way back to the client is resent over ` +
    "RTX from the echo line's cache",
  async (wrtc) => {
    const engine = await createMediaEngine({ workerMain: RTP_WORKER_MAIN_URL });
    // The worker is the relay's "client" side: what it sends back is dropped.
    const relay = await LossyRelay.start(0);
    const client = new ClientPeer(wrtc, { video: true });
    try {
      let connected = false;
      const peer = await engine.createPeer({ listener: { onConnected: () => connected = true } });
      let clientPort: number | undefined;
      client.pc.addEventListener("icecandidate", ({ candidate }) => {
        if (candidate) clientPort ??= loopbackUdpPort(candidate.candidate);
      });
      const answer = await peer.acceptOffer(await client.offer());
      const rtxSsrc = Number(/a=ssrc-group:FID \d+ (\d+)/.exec(answer)?.[1]);
      assert.ok(rtxSsrc > 0, "the echo's RTX SSRC is announced");
      const workerPort = loopbackUdpPort(answer);
      assert.ok(workerPort !== undefined, "a UDP 127.0.0.1 candidate in our answer");
      await waitUntil("the client's UDP 127.0.0.1 candidate", () => clientPort !== undefined);
      relay.connect(workerPort, clientPort ?? 0);
      await client.answer(withOnlyCandidate(answer, relay.serverFacingPort));
      await peer.addRemoteCandidate({
        candidate: hostCandidate(relay.clientFacingPort),
        sdpMid: "0",
        sdpMLineIndex: 0,
      });
      await waitUntil("connected", () => connected);
      assert.equal(await peer.forward({ to: peer, fromMid: "0" }), "0");
      await waitUntil("first echoed frames", () => client.framesOf("0") > 5);

      const seen = await underLoss(relay, client, "0");
      assert.ok(seen.dropped > 20, `the relay dropped ${seen.dropped} packets`);
      assert.ok(seen.nacks > 0, `the client NACKed: ${JSON.stringify(seen)}`);
      assert.equal(seen.plis, 0, `the client asked for keyframes: ${JSON.stringify(seen)}`);
      assert.ok(seen.frames > 100, `${seen.frames} echoed frames decoded in 5 s under loss`);
      // The resends came on the RTX SSRC (RTP headers are clear in SRTP).
      const resent = relay.forwardedBySsrc.get(rtxSsrc) ?? 0;
      assert.ok(resent > 0, `${resent} packets on the RTX SSRC`);
      // deno-lint-ignore no-console
      console.log(`echo: ${JSON.stringify(seen)}, ${resent} RTX packets`);
      await peer.close();
    } finally {
      client.close();
      relay.close();
      await engine.close();
    }
    assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
  },
);
