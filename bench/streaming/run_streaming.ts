/**
 * Runs the Streaming phase in a child inside a fresh private network namespace (as
 * `../media/run_media.ts` does for the media phases): relays its progress, returns its
 * result, and bounds it in time (SIGTERM, then SIGKILL; a private reference it left behind
 * is stopped).
 *
 * @module
 */
import { readLines } from "../../core/media/rpc.ts";
import { netnsArgv } from "../../tests/_helpers/netns.ts";
import { REFERENCE_PREFIX } from "../media/results.ts";
import { cleanupReference } from "../media/run_media.ts";
import { print } from "../print.ts";
import {
  STREAMING_RESULT_PREFIX,
  type StreamingBenchOptions,
  type StreamingBenchResult,
} from "./results.ts";

const INSIDE = new URL("./inside.ts", import.meta.url);
const CONFIG = new URL("../../deno.json", import.meta.url);
const REPO = new URL("../../", import.meta.url);

function path(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/** A generous upper bound of the phase's duration, in ms. */
export function streamingDeadlineMs(options: StreamingBenchOptions): number {
  const servers = options.noRef ? 1 : 2;
  const perWindow = (options.seconds + options.settle + 20) * 1000;
  return 90_000 + servers * (options.viewers.length + 1) * perWindow;
}

/** Runs `inside.ts` in a namespace; resolves its result, or why there is none. */
export async function runStreamingBench(
  options: StreamingBenchOptions,
): Promise<StreamingBenchResult | { failed: string }> {
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
  let result: StreamingBenchResult | undefined;
  let reference: { pid?: number; runDir?: string } | undefined;
  const stdout = (async () => {
    for await (const line of readLines(child.stdout)) {
      if (line.startsWith(STREAMING_RESULT_PREFIX)) {
        result = JSON.parse(line.slice(STREAMING_RESULT_PREFIX.length)) as StreamingBenchResult;
      } else if (line.startsWith(REFERENCE_PREFIX)) {
        reference = JSON.parse(line.slice(REFERENCE_PREFIX.length)) as typeof reference;
      } else {
        print(line);
      }
    }
  })().catch(() => {});
  const stderr = (async () => {
    for await (const line of readLines(child.stderr)) print(`    [streaming stderr] ${line}`);
  })().catch(() => {});
  const deadline = streamingDeadlineMs(options);
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
    print(`  streaming phase still running after ${deadline / 1000} s: stopping it`);
    kill("SIGTERM");
  }, deadline);
  const hard = setTimeout(() => kill("SIGKILL"), deadline + 15_000);
  const status = await child.status;
  clearTimeout(term);
  clearTimeout(hard);
  await stdout;
  await stderr;
  await cleanupReference(reference);
  if (result) return result;
  return {
    failed: timedOut
      ? `timed out after ${deadline / 1000} s`
      : `the streaming child exited with code ${status.code} without a result`,
  };
}
