// Shared by the janode_*_client.mjs scripts (copied next to them by _janode.ts).
// deno-lint-ignore-file explicit-module-boundary-types -- plain JavaScript run by Node

/** `promise`, or a rejection naming `what` after `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
