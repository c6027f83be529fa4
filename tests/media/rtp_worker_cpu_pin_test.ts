/**
 * RTP workers kept on one CPU each (`media.pin_rtp_workers`, `rtp/cpu_pin.ts`): every thread
 * of a worker, libdatachannel's included (started by its first PeerConnection), runs on one
 * CPU, and two workers on different ones; unpinned workers keep every CPU. Runs inside the
 * network namespace (`_client.ts`).
 */
import assert from "node:assert/strict";
import { createMediaEngine, RTP_WORKER_MAIN_URL } from "../../core/media/engine.ts";
import { allowedCpuList, parseCpuList } from "../../core/media/rtp/cpu_pin.ts";
import type { MediaEngine } from "../../core/media/types.ts";
import { ClientPeer, type Wrtc, wrtcTest } from "./_client.ts";
import { closeAll, connectPeer } from "./_media_setup.ts";

Deno.test("a kernel CPU list reads as its CPUs", () => {
  assert.deepEqual(parseCpuList("0-3,6"), [0, 1, 2, 3, 6]);
  assert.deepEqual(parseCpuList("5\n"), [5]);
  assert.deepEqual(parseCpuList("0,2-3"), [0, 2, 3]);
  assert.deepEqual(
    allowedCpuList("Name:\tdeno\nCpus_allowed:\tf\nCpus_allowed_list:\t0-1\n"),
    [0, 1],
  );
  assert.equal(allowedCpuList("Name:\tdeno\n"), undefined);
});

/** Each thread of process `pid`: its name and the CPUs it may run on. */
function threadCpus(pid: number): { name: string; cpus: string }[] {
  const out: { name: string; cpus: string }[] = [];
  for (const entry of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const status = Deno.readTextFileSync(`/proc/${pid}/task/${entry.name}/status`);
      const name = /^Name:\s*(.*)$/m.exec(status)?.[1] ?? "?";
      out.push({ name, cpus: (allowedCpuList(status) ?? []).join(",") });
    } catch {
      // The thread ended since the listing.
    }
  }
  return out;
}

/** A worker peer of `engine` connected to an audio client, so libdatachannel's threads run. */
async function connectOne(engine: MediaEngine, clients: ClientPeer[], wrtc: Wrtc): Promise<void> {
  let connected = false;
  const peer = await engine.createPeer({
    listener: {
      onConnected: () => void (connected = true),
      onMedia: () => {},
      onClosed: () => {},
      onLocalCandidate: () => {},
    },
  });
  const client = new ClientPeer(wrtc, { audio: true, video: false });
  clients.push(client);
  await connectPeer(client, peer, () => connected);
}

const ours = allowedCpuList(Deno.readTextFileSync("/proc/self/status")) ?? [];

wrtcTest("pinned RTP workers run every thread on one CPU each", async (wrtc) => {
  const engine = await createMediaEngine({
    workers: 2,
    workerMain: RTP_WORKER_MAIN_URL,
    pinCpus: true,
  });
  const clients: ClientPeer[] = [];
  try {
    await connectOne(engine, clients, wrtc);
    await connectOne(engine, clients, wrtc);
    const pids = engine.workerPids?.() ?? [];
    assert.equal(pids.length, 2);
    const cpuOf = pids.map((pid) => {
      const threads = threadCpus(pid);
      assert.ok(
        threads.some((t) => t.name === "juice poll") &&
          threads.some((t) => t.name === "RTC worker"),
        `libdatachannel's threads run in worker ${pid}: ${threads.map((t) => t.name)}`,
      );
      const lists = new Set(threads.map((t) => t.cpus));
      assert.equal(lists.size, 1, `one CPU list for all threads of ${pid}: ${[...lists]}`);
      return [...lists][0]!;
    });
    if (ours.length < 2) {
      // One CPU: nothing to pin to, every thread keeps it.
      assert.deepEqual(cpuOf, [ours.join(","), ours.join(",")]);
    } else {
      for (const cpus of cpuOf) assert.ok(/^\d+$/.test(cpus), `a single CPU: ${cpus}`);
      assert.notEqual(cpuOf[0], cpuOf[1], "the two workers on different CPUs");
      for (const cpu of cpuOf) assert.ok(ours.includes(Number(cpu)), `CPU ${cpu} is ours`);
    }
  } finally {
    await closeAll(engine, clients);
  }
});

wrtcTest("unpinned RTP workers keep every CPU", async (wrtc) => {
  const engine = await createMediaEngine({ workers: 1, workerMain: RTP_WORKER_MAIN_URL });
  const clients: ClientPeer[] = [];
  try {
    await connectOne(engine, clients, wrtc);
    const [pid] = engine.workerPids?.() ?? [];
    assert.ok(pid !== undefined);
    for (const t of threadCpus(pid)) assert.equal(t.cpus, ours.join(","), t.name);
  } finally {
    await closeAll(engine, clients);
  }
});
