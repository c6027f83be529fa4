/**
 * Runs the browser phase (`inside.ts`) in a child inside a fresh private network namespace
 * (`netnsArgv`), relays its progress and returns its result; past a deadline the child is
 * stopped (SIGTERM, then SIGKILL).
 *
 * @module
 */
import { readLines } from "../../core/media/rpc.ts";
import { netnsArgv } from "../../tests/_helpers/netns.ts";
import { print } from "../print.ts";
import {
  BROWSER_RESULT_PREFIX,
  type BrowserBenchOptions,
  type BrowserBenchResult,
} from "./results.ts";

const INSIDE = new URL("./inside.ts", import.meta.url);
const CONFIG = new URL("../../deno.json", import.meta.url);
const REPO = new URL("../../", import.meta.url);

function path(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/** Runs `inside.ts` in a namespace; resolves its result, or why there is none. */
export async function runBrowserBench(
  options: BrowserBenchOptions,
): Promise<BrowserBenchResult | { failed: string }> {
  const [command, ...args] = netnsArgv([
    Deno.execPath(),
    "run",
    "--allow-all",
    "--config",
    path(CONFIG),
    path(INSIDE),
    `--options=${JSON.stringify(options)}`,
  ]);
  if (command === undefined) return { failed: "netnsArgv returned nothing" };
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args,
      cwd: path(REPO),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    return { failed: `cannot start ${command}: ${(e as Error).message}` };
  }
  let result: BrowserBenchResult | undefined;
  const errors: string[] = [];
  const stdout = (async () => {
    for await (const line of readLines(child.stdout)) {
      if (line.startsWith(BROWSER_RESULT_PREFIX)) {
        result = JSON.parse(line.slice(BROWSER_RESULT_PREFIX.length)) as BrowserBenchResult;
      } else {
        print(line);
      }
    }
  })().catch(() => {});
  const stderr = (async () => {
    for await (const line of readLines(child.stderr)) {
      errors.push(line);
      print(`    [browser stderr] ${line}`);
    }
  })().catch(() => {});
  const deadline = 120_000 + options.rounds * 20_000;
  let timedOut = false;
  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  };
  const term = setTimeout(() => {
    timedOut = true;
    kill("SIGTERM");
  }, deadline);
  const hard = setTimeout(() => kill("SIGKILL"), deadline + 15_000);
  const status = await child.status;
  clearTimeout(term);
  clearTimeout(hard);
  await stdout;
  await stderr;
  if (result) return result;
  return {
    failed: timedOut
      ? `timed out after ${deadline / 1000} s`
      : `the browser child exited with code ${status.code} without a result` +
        (errors.length > 0 ? ` (${errors.slice(-3).join(" | ")})` : ""),
  };
}
