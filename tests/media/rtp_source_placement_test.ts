/**
 * A source keeps its placement key on a worker that is draining: viewers placed with the key
 * after the worker was recycled (another key's peer reached `maxPeersPerWorker`) still go where
 * the source's ports are, so it can be forwarded to them. Once the drained worker's last peer
 * is gone it exits and the source is lost (`onClosed`; the Streaming plugin binds it again).
 */
import assert from "node:assert/strict";
import { createMediaEngine, RTP_WORKER_MAIN_URL } from "../../core/media/engine.ts";
import { waitUntil } from "./_client.ts";

Deno.test({
  name: "rtp source on a draining worker: its key's new peers still go there; lost on exit",
  sanitizeResources: false,
  async fn() {
    const engine = await createMediaEngine({
      workerMain: RTP_WORKER_MAIN_URL,
      maxPeersPerWorker: 1,
    });
    try {
      let lost = 0;
      const source = await engine.createRtpSource!({
        affinity: "mountpoints",
        host: "127.0.0.1",
        portRange: { min: 20000, max: 60000 },
        streams: [{
          mid: "v",
          kind: "video",
          port: 0,
          payloadType: 100,
          codec: "VP8",
          clockRate: 90000,
          rtxPayloadType: 101,
        }],
        onClosed: () => lost++,
      });
      const [first] = engine.workerPids?.() ?? [];
      assert.ok(first !== undefined);
      // Another key's peer reaches the limit: the worker drains and a new one starts.
      const other = await engine.createPeer({ affinity: "echo", listener: {} });
      assert.equal(engine.workerPidOf?.(other), first);
      await waitUntil("a second worker", () => (engine.workerPids?.() ?? []).length === 2);
      const viewer = await engine.createPeer({ affinity: "mountpoints", listener: {} });
      assert.equal(engine.workerPidOf?.(viewer), first, "the source's worker");
      assert.equal(typeof await source.forward({ to: viewer, fromMid: "v" }), "string");
      assert.equal(engine.sourceCount?.(), 1);
      await viewer.close();
      await other.close();
      await waitUntil("the drained worker gone", () => !engine.workerPids?.().includes(first));
      assert.equal(lost, 1, "the source was lost with it");
      assert.equal(engine.sourceCount?.(), 0);
    } finally {
      await engine.close();
    }
  },
});
