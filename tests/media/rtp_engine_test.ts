/**
 * The RTP engine's own media detection, through the engine interface with a real wrtc client
 * in the network namespace: `receiving:false` after the no-media timer (and `updateSettings`
 * changing it live), slow links from the loss its receive statistics count (a UDP relay
 * drops 30% of the client's RTP), and the RTP port range. The EchoTest suites
 * (tests/plugins/echotest_*_test.ts) cover calls, echo, data, trickle and worker loss.
 */
import assert from "node:assert/strict";
import { createMediaEngine, RTP_WORKER_MAIN_URL } from "../../core/media/engine.ts";
import type { MediaStateChange, SlowLinkReport } from "../../core/media/types.ts";
import { ClientPeer, waitUntil, wrtcTest } from "./_client.ts";
import { LossyRelay } from "./_lossy_relay.ts";
import { assertSlowLinkStops, connectThroughRelay, sleep } from "./_media_setup.ts";

wrtcTest(
  "rtp engine: receiving:false after the no-media timer, changed live by updateSettings",
  async (wrtc) => {
    const engine = await createMediaEngine({ workerMain: RTP_WORKER_MAIN_URL, noMediaMs: 1000 });
    const client = new ClientPeer(wrtc, { audio: true, video: true });
    const changes: (MediaStateChange & { at: number })[] = [];
    let connected = false;
    try {
      const peer = await engine.createPeer({
        listener: {
          onConnected: () => void (connected = true),
          onMedia: (c) => void changes.push({ ...c, at: performance.now() }),
        },
      });
      client.trickleTo((c) => peer.addRemoteCandidate(c));
      await client.answer(await peer.acceptOffer(await client.offer()));
      await waitUntil("connected", () => connected);
      await waitUntil("receiving on both mids", () => changes.length >= 2);
      assert.deepEqual(
        changes.map(({ mid, kind, receiving }) => ({ mid, kind, receiving })),
        [{ mid: "0", kind: "audio", receiving: true }, {
          mid: "1",
          kind: "video",
          receiving: true,
        }],
      );
      assert.deepEqual(await engine.updateSettings?.({ noMediaMs: 3000 }), [
        { noMediaMs: 3000, slowLinkThreshold: 0 },
      ]);
      const stoppedAt = performance.now();
      client.stopFeeding();
      await waitUntil("receiving:false on both", () => changes.length >= 4, 8000);
      for (const c of changes.slice(2)) {
        assert.equal(c.receiving, false);
        assert.equal(c.seconds, 3, "the timer's seconds, as Janus sends over 1 s");
        const ms = c.at - stoppedAt;
        assert.ok(ms >= 2900 && ms < 3000 + 1500, `receiving:false after ${ms.toFixed(0)} ms`);
      }
      client.resumeFeeding();
      await waitUntil("receiving again", () => changes.length >= 6, 8000);
      assert.ok(changes.slice(4).every((c) => c.receiving));
      await peer.close();
    } finally {
      client.close();
      await engine.close();
    }
    assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
  },
);

wrtcTest(
  "rtp engine: real loss of the client's RTP makes slowLink reports only while the threshold " +
    "is under it",
  async (wrtc) => {
    const engine = await createMediaEngine({ workerMain: RTP_WORKER_MAIN_URL });
    const relay = await LossyRelay.start(0.3);
    const client = new ClientPeer(wrtc, { audio: true });
    const slow: SlowLinkReport[] = [];
    let connected = false;
    try {
      const peer = await engine.createPeer({
        listener: {
          onConnected: () => void (connected = true),
          onSlowLink: (r) => void slow.push(r),
        },
      });
      await connectThroughRelay(client, peer, relay);
      await waitUntil("connected through the relay", () => connected);

      // Counted losses, however slowly a loaded machine sends (30% of ~50 packets/s).
      let lost = 0;
      for (const deadline = Date.now() + 10_000; lost <= 30 && Date.now() < deadline;) {
        await sleep(500);
        const mids = (await peer.info()).stats.mids as Record<string, { inboundLost: number }>;
        lost = mids["0"]?.inboundLost ?? 0;
      }
      assert.ok(relay.dropped > 30 && lost > 30, `dropped ${relay.dropped}, lost ${lost}`);
      assert.equal(slow.length, 0, "no threshold, no report");

      await engine.updateSettings?.({ slowLinkThreshold: 3 });
      await waitUntil("slowLink", () => slow.length > 0, 5000);
      const [report] = slow;
      assert.ok(report);
      assert.deepEqual({ ...report, lost: 0 }, { mid: "0", kind: "audio", uplink: false, lost: 0 });
      assert.ok(report.lost >= 3, `lost ${report.lost}`);

      await assertSlowLinkStops(engine, slow);
      await peer.close();
    } finally {
      client.close();
      relay.close();
      await engine.close();
    }
    assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
  },
);

wrtcTest("rtp engine: rtpPortRange binds every candidate inside the range", async (wrtc) => {
  const engine = await createMediaEngine({
    workerMain: RTP_WORKER_MAIN_URL,
    rtpPortRange: { min: 42000, max: 42100 },
  });
  const client = new ClientPeer(wrtc, { audio: true, video: true });
  try {
    const peer = await engine.createPeer({ listener: {} });
    const answer = await peer.acceptOffer(await client.offer());
    const ports = [...answer.matchAll(/^a=candidate:\S+ \d+ \S+ \d+ \S+ (\d+) typ/gm)]
      .map((m) => Number(m[1]));
    assert.ok(ports.length > 0, "the answer has candidates");
    for (const port of ports) assert.ok(port >= 42000 && port <= 42100, `port ${port}`);
    await peer.close();
  } finally {
    client.close();
    await engine.close();
  }
  assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
});
