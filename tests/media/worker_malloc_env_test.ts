/**
 * RTP engine workers run with glibc's mmap and trim thresholds fixed (`RTP_WORKER_MALLOC_ENV`,
 * against heap fragmentation under churn), seen in the live worker's `/proc/<pid>/environ`;
 * wrtc workers keep glibc's defaults; a value the gateway's environment sets wins.
 */
import assert from "node:assert/strict";
import {
  createMediaEngine,
  defaultWorkerCommand,
  RTP_WORKER_MAIN_URL,
  RTP_WORKER_MALLOC_ENV,
  WORKER_MAIN_URL,
} from "../../core/media/engine.ts";

/** The MALLOC_* variables of a live process. */
function mallocEnvOf(pid: number): Record<string, string> {
  const entries = Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0")
    .filter((e) => e.startsWith("MALLOC_"))
    .map((e) => e.split("=", 2) as [string, string]);
  return Object.fromEntries(entries);
}

/** Runs `fn` with the MALLOC_* variables of the test's environment removed, then restores them. */
async function withoutMallocEnv(fn: () => Promise<void> | void): Promise<void> {
  const saved = Object.entries(Deno.env.toObject()).filter(([n]) => n.startsWith("MALLOC_"));
  for (const [name] of saved) Deno.env.delete(name);
  try {
    await fn();
  } finally {
    for (const [name, value] of saved) Deno.env.set(name, value);
  }
}

Deno.test({
  name: "an RTP engine worker runs with the fixed malloc thresholds, a wrtc worker without",
  sanitizeResources: false,
  fn: () =>
    withoutMallocEnv(async () => {
      const cases = [
        { workerMain: RTP_WORKER_MAIN_URL, expected: RTP_WORKER_MALLOC_ENV },
        { workerMain: WORKER_MAIN_URL, expected: {} },
      ];
      for (const { workerMain, expected } of cases) {
        const engine = await createMediaEngine({ workerMain });
        try {
          const [pid] = engine.workerPids?.() ?? [];
          assert.ok(pid !== undefined, `${workerMain.pathname}: a live worker`);
          assert.deepEqual(mallocEnvOf(pid), expected, workerMain.pathname);
        } finally {
          await engine.close();
        }
      }
    }),
});

Deno.test("a malloc variable the gateway's environment sets is left to it", () =>
  withoutMallocEnv(() => {
    Deno.env.set("MALLOC_MMAP_THRESHOLD_", "262144");
    try {
      // The worker inherits the gateway's value; only the other one is added.
      assert.deepEqual(defaultWorkerCommand(RTP_WORKER_MAIN_URL).env, {
        MALLOC_TRIM_THRESHOLD_: "131072",
      });
      assert.equal(defaultWorkerCommand(WORKER_MAIN_URL).env, undefined);
    } finally {
      Deno.env.delete("MALLOC_MMAP_THRESHOLD_");
    }
  }));
