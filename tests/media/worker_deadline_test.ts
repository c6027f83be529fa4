/**
 * Worker call deadlines against real media workers (inside the network namespace, see
 * `_client.ts`): a worker that stops answering (SIGSTOP: alive but silent) misses a deadline,
 * is killed, and counts as gone at once: its calls fail, its peers end with "Worker gone", and
 * new peers get a new worker. The heartbeat finds it even when no call is in flight.
 */
import assert from "node:assert/strict";
import { createMediaEngine } from "../../core/media/engine.ts";
import type { PeerCloseReason } from "../../core/media/types.ts";
import { ClientPeer, waitUntil, wrtcTest } from "./_client.ts";
import { closeAll, connectPeer, processExists } from "./_media_setup.ts";

/** Deadline of every worker call here, in ms. */
const CALL_TIMEOUT_MS = 1000;

/** Kills a worker a failed test left stopped, so that closing the engine need not wait. */
function release(pid: number | undefined): void {
  if (pid !== undefined && processExists(pid)) Deno.kill(pid, "SIGKILL");
}

wrtcTest(
  "a hung worker misses a call deadline: the call fails, the worker is killed, its peer ends " +
    "with Worker gone, and a new peer gets a new worker",
  async (wrtc) => {
    const engine = await createMediaEngine({ workers: 1, callTimeoutMs: CALL_TIMEOUT_MS });
    const clients: ClientPeer[] = [];
    let stopped: number | undefined;
    try {
      const closed: { reason: PeerCloseReason; at: number }[] = [];
      let connected = false;
      const peer = await engine.createPeer({
        listener: {
          onConnected: () => void (connected = true),
          onClosed: (reason) => void closed.push({ reason, at: performance.now() }),
        },
      });
      const client = new ClientPeer(wrtc, { audio: true });
      clients.push(client);
      await connectPeer(client, peer, () => connected);
      const pid = engine.workerPidOf?.(peer);
      assert.ok(pid !== undefined);

      Deno.kill(pid, "SIGSTOP");
      stopped = pid;
      const stoppedAt = performance.now();
      // Sent to a silent worker: only the deadline ends it.
      await assert.rejects(peer.info(), /Worker gone/);
      const failedAfter = performance.now() - stoppedAt;
      assert.ok(failedAfter >= CALL_TIMEOUT_MS - 100, `failed after ${failedAfter.toFixed(0)} ms`);
      assert.ok(failedAfter < CALL_TIMEOUT_MS + 1000, `failed after ${failedAfter.toFixed(0)} ms`);
      // The worker counts as gone at once: its peer was told, nothing is placed on it.
      assert.deepEqual(closed.map((c) => c.reason), ["Worker gone"]);
      assert.equal(engine.counts().peers, 0);
      assert.ok(!engine.workerPids?.().includes(pid), "the hung worker is no longer used");
      await assert.rejects(peer.setBitrateCap(64_000), /closed/);
      // deno-lint-ignore no-console
      console.log(
        `SIGSTOP -> call rejected ${failedAfter.toFixed(0)} ms, onClosed ` +
          `${((closed[0]?.at ?? 0) - stoppedAt).toFixed(0)} ms (deadline ${CALL_TIMEOUT_MS} ms)`,
      );
      // SIGKILL ends a stopped process too; the engine reaps it.
      await waitUntil("the hung worker reaped", () => !processExists(pid));
      stopped = undefined;

      let again = false;
      const second = await engine.createPeer({
        listener: { onConnected: () => void (again = true) },
      });
      const other = new ClientPeer(wrtc, { audio: true });
      clients.push(other);
      await connectPeer(other, second, () => again);
      const pid2 = engine.workerPidOf?.(second);
      assert.ok(pid2 !== undefined && pid2 !== pid, "a new worker");
      await second.close();
      assert.equal(engine.counts().peers, 0);
    } finally {
      release(stopped);
      await closeAll(engine, clients);
    }
  },
);

wrtcTest(
  "the heartbeat finds a hung worker with no call in flight within 1.5 deadlines",
  async () => {
    const engine = await createMediaEngine({ workers: 1, callTimeoutMs: CALL_TIMEOUT_MS });
    let stopped: number | undefined;
    try {
      const closed: PeerCloseReason[] = [];
      // A peer that only waits (no call, no media) on the worker.
      await engine.createPeer({ listener: { onClosed: (reason) => void closed.push(reason) } });
      const [pid] = engine.workerPids?.() ?? [];
      assert.ok(pid !== undefined);
      Deno.kill(pid, "SIGSTOP");
      stopped = pid;
      const stoppedAt = performance.now();
      await waitUntil("Worker gone", () => closed.length > 0, CALL_TIMEOUT_MS * 1.5 + 1000);
      const foundAfter = performance.now() - stoppedAt;
      assert.deepEqual(closed, ["Worker gone"]);
      assert.ok(foundAfter >= CALL_TIMEOUT_MS - 100, `found after ${foundAfter.toFixed(0)} ms`);
      // deno-lint-ignore no-console
      console.log(`idle hung worker found after ${foundAfter.toFixed(0)} ms`);
      await waitUntil("the hung worker reaped", () => !processExists(pid));
      stopped = undefined;
      assert.equal(engine.counts().peers, 0);
    } finally {
      release(stopped);
      await closeAll(engine, []);
    }
  },
);

wrtcTest("a slow but live worker is not killed: its calls answer within the deadline", async () => {
  // Many calls at once on one worker: all answered, none counts as a miss.
  const engine = await createMediaEngine({ workers: 1, callTimeoutMs: CALL_TIMEOUT_MS });
  try {
    const [pid] = engine.workerPids?.() ?? [];
    const peers = await Promise.all(
      Array.from({ length: 20 }, () => engine.createPeer({ listener: {} })),
    );
    const started = performance.now();
    await Promise.all(peers.map((p) => p.createOffer({ data: true })));
    // deno-lint-ignore no-console
    console.log(`20 offers at once: ${(performance.now() - started).toFixed(0)} ms`);
    // Past a few heartbeats: the worker is still the same one.
    await new Promise((resolve) => setTimeout(resolve, CALL_TIMEOUT_MS * 2));
    assert.deepEqual(engine.workerPids?.(), [pid]);
    for (const p of peers) await p.close();
  } finally {
    await closeAll(engine, []);
  }
});
