/**
 * Runs the media phases in a child inside a fresh private network namespace (`netnsArgv`,
 * design.md "Networking in tests"), so media only ever goes to loopback-range addresses.
 * Relays its progress, returns its result, and bounds it in time: past the deadline it is
 * stopped (SIGTERM, then SIGKILL), and a private reference it started is stopped by pid and
 * its run directory removed.
 *
 * @module
 */
import { readLines } from "../../core/media/rpc.ts";
import { netnsArgv } from "../../tests/_helpers/netns.ts";
import { print } from "../print.ts";
import { alive } from "../proc.ts";
import {
  type MediaBenchOptions,
  type MediaBenchResult,
  REFERENCE_PREFIX,
  RESULT_PREFIX,
} from "./results.ts";

const INSIDE = new URL("./inside.ts", import.meta.url);
const CONFIG = new URL("../../deno.json", import.meta.url);
const REPO = new URL("../../", import.meta.url);

function path(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/** A generous upper bound of the media phases' duration, in ms. */
export function mediaDeadlineMs(options: MediaBenchOptions): number {
  const perWindow = (seconds: number) => (seconds + options.settle + 15) * 1000;
  const servers = options.noRef ? 1 : 2;
  let ms = 90_000;
  if (options.echo) ms += servers * options.echoCalls.length * perWindow(options.echoSeconds);
  if (options.videoroom) {
    ms += servers * (options.vrRounds + options.vrLargeRounds + 2 * options.vrWarmup) * 60_000;
    ms += servers * (options.vrSubscribers.length + 1) * perWindow(options.vrSeconds);
  }
  return ms;
}

/** Runs `inside.ts` in a namespace; resolves its result, or why there is none. */
export async function runMediaBench(
  options: MediaBenchOptions,
): Promise<MediaBenchResult | { failed: string }> {
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
  let result: MediaBenchResult | undefined;
  let reference: { pid?: number; runDir?: string } | undefined;
  const stdout = (async () => {
    for await (const line of readLines(child.stdout)) {
      if (line.startsWith(RESULT_PREFIX)) {
        result = JSON.parse(line.slice(RESULT_PREFIX.length)) as MediaBenchResult;
      } else if (line.startsWith(REFERENCE_PREFIX)) {
        reference = JSON.parse(line.slice(REFERENCE_PREFIX.length)) as typeof reference;
      } else {
        print(line);
      }
    }
  })().catch(() => {});
  const stderr = (async () => {
    for await (const line of readLines(child.stderr)) print(`    [media stderr] ${line}`);
  })().catch(() => {});
  const deadline = mediaDeadlineMs(options);
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
    print(`  media phases still running after ${deadline / 1000} s: stopping them`);
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
      : `the media child exited with code ${status.code} without a result`,
  };
}

/** Stops a private reference the child left behind (it normally stops it itself). */
export async function cleanupReference(
  ref: { pid?: number; runDir?: string } | undefined,
): Promise<void> {
  if (ref?.pid === undefined || !alive(ref.pid)) {
    if (ref?.runDir?.startsWith("/tmp/")) {
      await Deno.remove(ref.runDir, { recursive: true }).catch(() => {});
    }
    return;
  }
  // Only a janus we started: its command line names the run directory.
  let cmdline = "";
  try {
    cmdline = Deno.readTextFileSync(`/proc/${ref.pid}/cmdline`).replaceAll("\0", " ");
  } catch {
    return;
  }
  if (!ref.runDir || !cmdline.includes(ref.runDir)) return;
  print(`  stopping the private reference left behind (pid ${ref.pid})`);
  try {
    Deno.kill(ref.pid, "SIGKILL");
  } catch {
    // Gone meanwhile.
  }
  for (let i = 0; i < 50 && alive(ref.pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (ref.runDir.startsWith("/tmp/")) {
    await Deno.remove(ref.runDir, { recursive: true }).catch(() => {});
  }
}
