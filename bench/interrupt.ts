/**
 * The cleanup of a bench phase's child (`inside.ts`): run once, at the end or when the runner
 * stops the child (SIGTERM) or the user interrupts it (SIGINT), so that no gateway, reference
 * or client process outlives the phase.
 *
 * @module
 */
import { print } from "./print.ts";

/**
 * Returns `steps` memoised (later calls get the first call's promise) and runs it on SIGTERM
 * or SIGINT too, after printing `<name> bench interrupted`, then exits with 130.
 */
export function cleanupOnInterrupt(name: string, steps: () => Promise<void>): () => Promise<void> {
  let cleaning: Promise<void> | undefined;
  const cleanup = () => cleaning ??= steps();
  const onSignal = () => {
    print(`  ${name} bench interrupted: cleaning up`);
    void cleanup().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.addSignalListener("SIGINT", onSignal);
  return cleanup;
}
