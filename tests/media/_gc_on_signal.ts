/**
 * Test-only preload for a media worker started with `--v8-flags=--expose-gc`: each SIGUSR2
 * runs a full garbage collection, then writes `{ pid, runs }` to the file named by
 * `MEDIA_WORKER_GC_FILE`, so a test can force GC in the worker and know it ran (and which
 * process to signal, when the worker runs under a wrapper shell). It is never loaded by the
 * gateway itself.
 *
 * @module
 */
const file = Deno.env.get("MEDIA_WORKER_GC_FILE");
const gc = (globalThis as { gc?: () => void }).gc;
if (file === undefined || gc === undefined) {
  throw new Error("_gc_on_signal.ts needs MEDIA_WORKER_GC_FILE and --v8-flags=--expose-gc");
}
let runs = 0;
const report = () => Deno.writeTextFileSync(file, JSON.stringify({ pid: Deno.pid, runs }));
Deno.addSignalListener("SIGUSR2", () => {
  gc();
  runs++;
  report();
});
report();
