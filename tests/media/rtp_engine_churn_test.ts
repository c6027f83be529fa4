/**
 * Churn and garbage collection of the RTP engine (issue 10): node-datachannel wrappers are
 * held in the worker's registry until their onClosed, because a collected one crashes Deno.
 * Two echo calls stay up while 200 more peers are created and closed on the same worker
 * (some answer a real client offer, so native tracks exist), with a full GC forced in the
 * worker while each batch closes and after it (`_gc_on_signal.ts`). The echoed video must
 * keep flowing, the engine's counts must return to the two survivors, and the worker must
 * exit with code 0 (a wrapper shell records it: the engine does not expose exit codes).
 */
import assert from "node:assert/strict";
import {
  createMediaEngine,
  defaultWorkerCommand,
  RTP_WORKER_MAIN_URL,
  type WorkerCommand,
} from "../../core/media/engine.ts";
import type { MediaEngine, Peer } from "../../core/media/types.ts";
import { ClientPeer, waitUntil, type Wrtc, wrtcTest } from "./_client.ts";
import { connectPeer, processExists } from "./_media_setup.ts";

const PEERS = 200;
const BATCH = 20;
/** Peers of each batch that answer a real client offer (audio + video tracks). */
const WITH_OFFER = 4;

/** The RTP worker with GC exposed, under `sh` that writes the worker's exit code to `codeFile`. */
function gcWorkerCommand(gcFile: string, codeFile: string): WorkerCommand {
  const base = defaultWorkerCommand(RTP_WORKER_MAIN_URL);
  const [run, ...rest] = base.args;
  const preload = decodeURIComponent(new URL("./_gc_on_signal.ts", import.meta.url).pathname);
  const deno = [
    "env",
    `MEDIA_WORKER_GC_FILE=${gcFile}`,
    base.command,
    run ?? "run",
    "--v8-flags=--expose-gc",
    "--preload",
    preload,
    ...rest,
  ];
  return {
    ...base,
    command: "sh",
    args: ["-c", 'code="$1"; shift; "$@"; echo $? > "$code"', "sh", codeFile, ...deno],
  };
}

/** What the worker's GC preload last wrote. */
function gcState(gcFile: string): { pid: number; runs: number } | undefined {
  try {
    return JSON.parse(Deno.readTextFileSync(gcFile));
  } catch {
    return undefined; // not written yet, or being written
  }
}

/** Forces a full GC in the worker and waits until it has run. */
async function forceGc(gcFile: string): Promise<void> {
  const before = gcState(gcFile);
  assert.ok(before, "the worker's GC preload reported");
  Deno.kill(before.pid, "SIGUSR2");
  await waitUntil("the worker's GC", () => (gcState(gcFile)?.runs ?? 0) > before.runs, 5000);
}

/** An echo call: engine peer plus wrtc client with audio and video, echo on. */
async function echoCall(
  wrtc: Wrtc,
  engine: MediaEngine,
): Promise<{ peer: Peer; client: ClientPeer }> {
  let connected = false;
  const peer = await engine.createPeer({
    listener: { onConnected: () => void (connected = true) },
  });
  const client = new ClientPeer(wrtc, { audio: true, video: true });
  await connectPeer(client, peer, () => connected);
  for (const mid of ["0", "1"]) await peer.forward({ to: peer, fromMid: mid });
  return { peer, client };
}

/**
 * Creates one batch of peers, some answering a client's offer (the clients take the answer, so
 * ICE and DTLS start), then closes them all, forcing a GC while their closes are in flight.
 */
async function churnBatch(wrtc: Wrtc, engine: MediaEngine, gcFile: string): Promise<void> {
  const peers = await Promise.all(
    Array.from({ length: BATCH }, () => engine.createPeer({ listener: {} })),
  );
  const clients = peers.slice(0, WITH_OFFER).map(() =>
    new ClientPeer(wrtc, { audio: true, video: true })
  );
  try {
    await Promise.all(clients.map(async (client, i) => {
      const answer = await peers[i]?.acceptOffer(await client.offer());
      assert.match(answer ?? "", /m=video/);
      await client.answer(answer ?? "");
    }));
  } finally {
    const closing = peers.map((p) => p.close());
    await forceGc(gcFile);
    await Promise.all(closing);
    for (const c of clients) c.close();
  }
}

wrtcTest(
  "rtp engine: 200 peers created and closed with GC forced in between; the echo calls keep " +
    "flowing and the worker exits 0",
  async (wrtc) => {
    const dir = await Deno.makeTempDir({ prefix: "rtp-churn-" });
    const gcFile = `${dir}/gc.json`;
    const codeFile = `${dir}/exit-code`;
    const engine = await createMediaEngine({
      workers: 1,
      workerMain: RTP_WORKER_MAIN_URL,
      workerCommand: gcWorkerCommand(gcFile, codeFile),
    });
    const clients: ClientPeer[] = [];
    let workerPid: number | undefined;
    try {
      const calls = [await echoCall(wrtc, engine), await echoCall(wrtc, engine)];
      clients.push(...calls.map((c) => c.client));
      await waitUntil("echoed video on both calls", () => clients.every((c) => c.videoFrames > 10));
      await waitUntil("the GC preload", () => gcState(gcFile) !== undefined);
      workerPid = gcState(gcFile)?.pid;
      const pids = engine.workerPids?.();
      assert.equal(pids?.length, 1);
      await forceGc(gcFile);

      for (let done = 0; done < PEERS; done += BATCH) {
        const frames = clients.map((c) => c.videoFrames);
        await churnBatch(wrtc, engine, gcFile);
        assert.deepEqual(engine.counts(), { peers: 2, workers: 1 }, `after ${done + BATCH} peers`);
        await forceGc(gcFile);
        await waitUntil(
          `echoed video still flowing after ${done + BATCH} peers and a GC`,
          () => clients.every((c, i) => c.videoFrames > (frames[i] ?? 0) + 5),
        );
      }
      assert.deepEqual(engine.workerPids?.(), pids, "the same worker throughout");
      assert.equal(gcState(gcFile)?.runs, 2 * PEERS / BATCH + 1);

      for (const { peer } of calls) await peer.close();
      await forceGc(gcFile);
      assert.deepEqual(engine.counts(), { peers: 0, workers: 1 });
    } finally {
      for (const c of clients) c.close();
      await engine.close();
    }
    const code = await Deno.readTextFile(codeFile).catch(() => "none written");
    await Deno.remove(dir, { recursive: true });
    assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
    assert.equal(code.trim(), "0", "the worker's exit code");
    assert.ok(workerPid !== undefined && !processExists(workerPid), "the worker process is gone");
  },
);
