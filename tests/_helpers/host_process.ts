/**
 * The end of a test helper process driven over `core/media/rpc.ts` (client peers, data-channel
 * clients): once its channel is closed it should exit; one that does not is killed.
 *
 * @module
 */

/**
 * Waits for `child` to exit (SIGKILL after `killAfterMs`), then for its channel's reader
 * (`done`) to finish.
 */
export async function awaitHostExit(
  child: Deno.ChildProcess,
  done: Promise<void>,
  killAfterMs = 5000,
): Promise<void> {
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, killAfterMs);
  try {
    await child.status;
    await done;
  } finally {
    clearTimeout(timer);
  }
}
