/**
 * A wait that a stop cuts short: retries and backoffs end at once when their owner stops,
 * leaving no timer behind.
 *
 * @module
 */

/** Resolves after `ms`, or at once when `signal` aborts (already aborted: at once). */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
