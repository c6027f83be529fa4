/**
 * A lazy media engine (the wrtc engine when no plugin is given it): no worker until the first
 * peer, the same worker for peers while any lives, and every worker stopped once no peer has
 * been live for `idleStopMs`; the next peer starts a fresh one. Run on the rtp worker, which
 * starts fastest; the pool logic is the same for both.
 */
import assert from "node:assert/strict";
import { createMediaEngine, RTP_WORKER_MAIN_URL } from "../../core/media/engine.ts";
import { waitUntil } from "./_client.ts";
import { processExists, sleep } from "./_media_setup.ts";

Deno.test({
  name: "lazy engine: starts a worker on the first peer, stops it once idle, starts again",
  sanitizeResources: false,
  async fn() {
    const engine = await createMediaEngine({
      workerMain: RTP_WORKER_MAIN_URL,
      lazy: true,
      idleStopMs: 400,
    });
    try {
      assert.deepEqual(engine.counts(), { peers: 0, workers: 0 }, "no worker before a peer");
      assert.deepEqual(engine.workerPids?.(), []);

      const a = await engine.createPeer({ listener: {} });
      const [pid] = engine.workerPids?.() ?? [];
      assert.ok(pid !== undefined && processExists(pid), "the first peer started a worker");
      assert.equal(engine.capabilities?.()?.rtp, true);
      const b = await engine.createPeer({ listener: {} });
      await a.close();
      // One peer still lives: the worker stays past the idle time.
      await sleep(700);
      assert.deepEqual(engine.workerPids?.(), [pid]);
      await b.close();
      // The process goes before the engine hears of its exit (the child's status resolves
      // a moment later): wait for both.
      await waitUntil("idle worker exit", () => !processExists(pid));
      await waitUntil("the engine counts no worker", () => engine.counts().workers === 0);
      assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });

      const c = await engine.createPeer({ listener: {} });
      const [again] = engine.workerPids?.() ?? [];
      assert.ok(again !== undefined && again !== pid, "the next peer started a new worker");
      await c.close();
    } finally {
      await engine.close();
    }
    assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
  },
});
