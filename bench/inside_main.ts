/**
 * The frame of a bench phase's child (`inside.ts`): its `--options={json}` argument, and a
 * `main` run so that a failure or a stray rejection is printed, never thrown past the runner
 * that reads the child's lines.
 *
 * @module
 */
import { print } from "./print.ts";

/** The phase's options, as the runner passes them (`--options=<json>`). */
export function phaseOptions<T>(): T {
  const arg = Deno.args.find((a) => a.startsWith("--options="));
  if (!arg) throw new Error("Missing --options={json}");
  return JSON.parse(arg.slice("--options=".length)) as T;
}

/** Runs `main`, prints why it failed (exit code 1), lets pending prints out, then exits. */
export async function runPhaseMain(name: string, main: () => Promise<number>): Promise<never> {
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    print(`  ${name} bench: unhandled rejection: ${String(event.reason)}`);
  });
  let code = 1;
  try {
    code = await main();
  } catch (e) {
    print(`  ${name} bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 0));
  Deno.exit(code);
}
