/**
 * A media worker under call churn keeps its thread count: wrtc tears its factory down each
 * time a process's last open peer closes, and every teardown leaks 4 threads and their
 * memory, so the worker keeps one peer open for its whole life (`worker_main.ts`). Runs
 * inside the network namespace (`_client.ts`).
 */
import assert from "node:assert/strict";
import { createMediaEngine } from "../../core/media/engine.ts";
import type { PeerCloseReason } from "../../core/media/types.ts";
import { ClientPeer, waitUntil, wrtcTest } from "./_client.ts";
import type { Wrtc } from "../../core/media/wrtc.ts";
import type { MediaEngine } from "../../core/media/types.ts";

function threadsOf(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]);
}

/** One call: a worker peer connected to a client peer, then both closed (0 peers left). */
async function call(wrtc: Wrtc, engine: MediaEngine): Promise<void> {
  let connected = false;
  const closed: PeerCloseReason[] = [];
  const peer = await engine.createPeer({
    listener: {
      onConnected: () => void (connected = true),
      onMedia: () => {},
      onClosed: (r) => void closed.push(r),
      onLocalCandidate: () => {},
    },
  });
  const client = new ClientPeer(wrtc, { audio: true, video: false });
  try {
    client.trickleTo((c) => peer.addRemoteCandidate(c));
    await client.answer(await peer.acceptOffer(await client.offer()));
    await waitUntil("connected", () => connected);
  } finally {
    await peer.close();
    client.close();
  }
  await waitUntil("no peers left", () => engine.counts().peers === 0);
}

wrtcTest(
  "a media worker keeps its thread count over calls that each leave it with no peer",
  async (wrtc) => {
    const engine = await createMediaEngine({ workers: 1 });
    try {
      const [pid] = engine.workerPids?.() ?? [];
      assert.ok(pid !== undefined, "a worker pid");
      // The first call starts the threads every later call shares.
      await call(wrtc, engine);
      const before = threadsOf(pid);
      for (let i = 0; i < 4; i++) await call(wrtc, engine);
      const after = threadsOf(pid);
      // Without the kept peer this grows by 4 per call (16 here).
      assert.ok(after <= before + 2, `worker threads ${before} → ${after} after 4 calls`);
    } finally {
      await engine.close();
    }
    assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
  },
);
