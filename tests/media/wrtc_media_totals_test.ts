/**
 * The wrtc engine's media totals (`/metrics` `janus_media_*_total{engine="wrtc"}`) from real
 * traffic and real loss: a client's video reaches a worker peer through a UDP relay that drops
 * a share of its RTP, so the worker's receiver asks for the lost packets again; the NACKs it
 * sent, read from its stats, reach the worker's totals with the packets and bytes. Runs in the
 * test network namespace: `deno task test tests/media/wrtc_media_totals_test.ts`.
 */
import assert from "node:assert/strict";
import { createMediaEngine } from "../../core/media/engine.ts";
import type { MediaCounters } from "../../core/media/media_counters.ts";
import { ClientPeer, waitUntil, wrtcTest } from "./_client.ts";
import { LossyRelay } from "./_lossy_relay.ts";
import { connectThroughRelay } from "./_media_setup.ts";

wrtcTest(
  "wrtc totals: packets, bytes and the NACKs a lossy link makes the receiver send",
  async (wrtc) => {
    const engine = await createMediaEngine({ workers: 1 });
    const relay = await LossyRelay.start(0.2);
    const client = new ClientPeer(wrtc, { audio: true, video: true });
    let connected = false;
    const totals = async (): Promise<MediaCounters> => {
      const stats = await engine.mediaStats?.({ peers: false, deadlineMs: 2000 });
      const wrtcTotals = stats?.totals.wrtc;
      assert.ok(wrtcTotals, "the wrtc engine reports totals");
      return wrtcTotals;
    };
    try {
      const peer = await engine.createPeer({
        listener: { onConnected: () => void (connected = true) },
      });
      await connectThroughRelay(client, peer, relay);
      await peer.addRemoteCandidate(null);
      await waitUntil("connected through the relay", () => connected);
      // Bounded by the event: the first NACK counted (stats are polled every 500 ms).
      const deadline = Date.now() + 20_000;
      let t = await totals();
      while (t.video.nacksSent === 0 || t.audio.packetsReceived === 0) {
        assert.ok(Date.now() < deadline, `no NACK counted: ${JSON.stringify(t)}`);
        await new Promise((r) => setTimeout(r, 100));
        t = await totals();
      }
      assert.ok(relay.dropped > 0, "the relay dropped client RTP");
      assert.ok(t.video.packetsReceived > 0, JSON.stringify(t));
      assert.ok(t.video.bytesReceived > t.video.packetsReceived, JSON.stringify(t));
      assert.ok(t.audio.bytesReceived > 0, JSON.stringify(t));
      // deno-lint-ignore no-console
      console.log(
        `dropped ${relay.dropped} of ${relay.dropped + relay.forwarded}: ${JSON.stringify(t)}`,
      );
      await peer.close();
      // A closed peer's counts stay.
      const after = await totals();
      assert.ok(after.video.nacksSent >= t.video.nacksSent);
      assert.ok(after.video.packetsReceived >= t.video.packetsReceived);
    } finally {
      client.close();
      relay.close();
      await engine.close();
    }
    assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
  },
);
