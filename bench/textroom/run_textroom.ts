/**
 * Runs the TextRoom fan-out phase (`inside.ts`) in a fresh private network namespace
 * (`netnsArgv`), relays its progress and returns its result; past a deadline it is stopped
 * (SIGTERM, then SIGKILL) and a private reference it left behind is stopped by pid.
 *
 * @module
 */
import { readLines } from "../../core/media/rpc.ts";
import { netnsArgv } from "../../tests/_helpers/netns.ts";
import { print } from "../print.ts";
import { alive } from "../proc.ts";
import {
  TEXTROOM_REFERENCE_PREFIX,
  TEXTROOM_RESULT_PREFIX,
  type TextRoomBenchOptions,
  type TextRoomBenchResult,
} from "./protocol.ts";

const INSIDE = new URL("./inside.ts", import.meta.url);
const CONFIG = new URL("../../deno.json", import.meta.url);
const REPO = new URL("../../", import.meta.url);

function path(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/** A generous upper bound of the phase's duration, in ms. */
export function textRoomDeadlineMs(options: TextRoomBenchOptions): number {
  const servers = options.noRef ? 1 : 2;
  return 90_000 + servers * (60_000 + options.rounds * (options.seconds + 15) * 1000);
}

/** Runs `inside.ts` in a namespace; resolves its result, or why there is none. */
export async function runTextRoomBench(
  options: TextRoomBenchOptions,
): Promise<TextRoomBenchResult | { failed: string }> {
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
  let result: TextRoomBenchResult | undefined;
  let reference: { pid?: number; runDir?: string } | undefined;
  const stdout = (async () => {
    for await (const line of readLines(child.stdout)) {
      if (line.startsWith(TEXTROOM_RESULT_PREFIX)) {
        result = JSON.parse(line.slice(TEXTROOM_RESULT_PREFIX.length)) as TextRoomBenchResult;
      } else if (line.startsWith(TEXTROOM_REFERENCE_PREFIX)) {
        reference = JSON.parse(line.slice(TEXTROOM_REFERENCE_PREFIX.length)) as typeof reference;
      } else {
        print(line);
      }
    }
  })().catch(() => {});
  const stderr = (async () => {
    for await (const line of readLines(child.stderr)) print(`    [textroom stderr] ${line}`);
  })().catch(() => {});
  const deadline = textRoomDeadlineMs(options);
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
    print(`  textroom phase still running after ${deadline / 1000} s: stopping it`);
    kill("SIGTERM");
  }, deadline);
  const hard = setTimeout(() => kill("SIGKILL"), deadline + 15_000);
  const status = await child.status;
  clearTimeout(term);
  clearTimeout(hard);
  await stdout;
  await stderr;
  await stopLeftReference(reference);
  if (result) return result;
  return {
    failed: timedOut
      ? `timed out after ${deadline / 1000} s`
      : `the textroom child exited with code ${status.code} without a result`,
  };
}

/** Stops a private reference the child left behind (only a janus naming its run dir). */
async function stopLeftReference(ref: { pid?: number; runDir?: string } | undefined) {
  const removeDir = async () => {
    if (ref?.runDir?.startsWith("/tmp/")) {
      await Deno.remove(ref.runDir, { recursive: true }).catch(() => {});
    }
  };
  if (ref?.pid === undefined || !alive(ref.pid)) return await removeDir();
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
  await removeDir();
}
