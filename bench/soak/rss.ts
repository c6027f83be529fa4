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
