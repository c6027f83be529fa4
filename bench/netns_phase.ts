/**
 * Runs one bench phase's `inside.ts` in a child inside a fresh private network namespace
 * (`netnsArgv`, design.md "Networking in tests"), so media only ever goes to loopback-range
 * addresses. Relays the child's progress, returns the result it prints on a prefixed line,
 * and bounds it in time: past the deadline it is stopped (SIGTERM, then SIGKILL), and a
 * private reference it announced is stopped by pid and its run directory removed.
 *
 * @module
 */
import { readLines } from "../core/media/rpc.ts";
import { netnsArgv } from "../tests/_helpers/netns.ts";
import { print } from "./print.ts";
import { alive } from "./proc.ts";

const CONFIG = new URL("../deno.json", import.meta.url);
const REPO = new URL("../", import.meta.url);

function path(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/** A private reference the child started, as it announces it. */
export interface LeftReference {
  pid?: number;
  runDir?: string;
}

/** What the runner needs to know about one phase. */
export interface NetnsPhase {
  /** The phase's `inside.ts`; it gets `--options=<json>`. */
  inside: URL;
  options: unknown;
  /** Tags stderr lines (`[<name> stderr]`) and the failure message. */
  name: string;
  /** Prefix of the line carrying the JSON result. */
  resultPrefix: string;
  /** Prefix of the line announcing a private reference ({pid, runDir}), if it starts one. */
  referencePrefix?: string;
  deadlineMs: number;
  /** Printed when the deadline passes, before the child is stopped. */
  timeoutNote?: string;
  /** Appends the last stderr lines to the failure of a child that exits without a result. */
  stderrInFailure?: boolean;
}

/** Runs the phase's child; resolves its parsed result, or why there is none. */
export async function runNetnsPhase<R>(phase: NetnsPhase): Promise<R | { failed: string }> {
  const [command, ...args] = netnsArgv([
    Deno.execPath(),
    "run",
    "--allow-all",
    "--config",
    path(CONFIG),
    path(phase.inside),
    `--options=${JSON.stringify(phase.options)}`,
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
  let result: R | undefined;
  let reference: LeftReference | undefined;
  const errors: string[] = [];
  const stdout = (async () => {
    for await (const line of readLines(child.stdout)) {
      if (line.startsWith(phase.resultPrefix)) {
        result = JSON.parse(line.slice(phase.resultPrefix.length)) as R;
      } else if (phase.referencePrefix && line.startsWith(phase.referencePrefix)) {
        reference = JSON.parse(line.slice(phase.referencePrefix.length)) as LeftReference;
      } else {
        print(line);
      }
    }
  })().catch(() => {});
  const stderr = (async () => {
    for await (const line of readLines(child.stderr)) {
      if (phase.stderrInFailure) errors.push(line);
      print(`    [${phase.name} stderr] ${line}`);
    }
  })().catch(() => {});
  const deadline = phase.deadlineMs;
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
    if (phase.timeoutNote) print(phase.timeoutNote);
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
      : `the ${phase.name} child exited with code ${status.code} without a result` +
        (errors.length > 0 ? ` (${errors.slice(-3).join(" | ")})` : ""),
  };
}

/** Stops a private reference the child left behind (it normally stops it itself). */
export async function cleanupReference(ref: LeftReference | undefined): Promise<void> {
  const removeDir = async () => {
    if (ref?.runDir?.startsWith("/tmp/")) {
      await Deno.remove(ref.runDir, { recursive: true }).catch(() => {});
    }
  };
  if (ref?.pid === undefined || !alive(ref.pid)) return await removeDir();
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
  await removeDir();
}
