/**
 * Resident memory of a process tree (a gateway and its media workers) read from `/proc`, and
 * the least-squares slope of a series.
 *
 * @module
 */
import { readRss } from "../proc.ts";

/** The children of `pid` (all its threads), from `/proc/<pid>/task/<tid>/children`. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  let tasks: Iterable<Deno.DirEntry>;
  try {
    tasks = Deno.readDirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const task of tasks) {
    try {
      const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`);
      for (const s of text.trim().split(/\s+/)) if (/^\d+$/.test(s)) out.push(Number(s));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

/** `pid` and every descendant. */
export function processTree(pid: number): number[] {
  const seen = [pid];
  for (let i = 0; i < seen.length; i++) {
    for (const child of childPids(seen[i] ?? 0)) if (!seen.includes(child)) seen.push(child);
  }
  return seen;
}

/** What a process of our tree is, from its command line. */
export type ProcessRole = "main" | "wrtc" | "rtp" | "other";

/** Resident memory of one process split as `/proc/<pid>/status` does, in bytes. */
export interface ProcessRss {
  pid: number;
  role: ProcessRole;
  rss: number;
  /** Anonymous pages (heaps, malloc arenas, V8): what a leak or fragmentation grows. */
  anon: number;
  /** Mapped files (code, shared libraries): grows only as code is first touched. */
  file: number;
  shmem: number;
}

function roleOf(pid: number, root: boolean): ProcessRole {
  if (root) return "main";
  let cmdline = "";
  try {
    cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
  } catch {
    return "other";
  }
  if (cmdline.includes("rtp/worker_main.ts")) return "rtp";
  if (cmdline.includes("worker_main.ts")) return "wrtc";
  return "other";
}

/** The RSS split of `pid`, or undefined once it is gone. */
export function processRss(pid: number, root = false): ProcessRss | undefined {
  let status: string;
  try {
    status = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    return undefined;
  }
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0) * 1024;
  return {
    pid,
    role: roleOf(pid, root),
    rss: kb("VmRSS"),
    anon: kb("RssAnon"),
    file: kb("RssFile"),
    shmem: kb("RssShmem"),
  };
}

/** The RSS split of every process of the tree under `pid` (the root first). */
export function treeProcesses(pid: number): ProcessRss[] {
  return processTree(pid).flatMap((p, i) => processRss(p, i === 0) ?? []);
}

/** RSS of a process tree: the root alone and its descendants, in bytes. */
export interface TreeRss {
  main: number;
  children: number;
  total: number;
  /** Descendants counted. */
  processes: number;
}

/** Reads the RSS of `pid` and its descendants (gone processes count 0). */
export function treeRss(pid: number): TreeRss {
  const [root, ...rest] = processTree(pid);
  const main = readRss(root ?? pid) ?? 0;
  let children = 0;
  for (const p of rest) children += readRss(p) ?? 0;
  return { main, children, total: main + children, processes: rest.length };
}

/** The least-squares slope of `y` over `x` (undefined with fewer than 2 distinct x). */
export function slope(points: readonly { x: number; y: number }[]): number | undefined {
  const n = points.length;
  if (n < 2) return undefined;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? undefined : num / den;
}
