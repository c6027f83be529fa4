/**
 * Reads a process's resident memory and CPU time from `/proc` (Linux only).
 *
 * @module
 */

/** Clock ticks per second for `/proc/<pid>/stat` (USER_HZ; 100 on Linux). */
const CLOCK_TICKS = 100;

/** Resident set size of `pid` in bytes (VmRSS), or undefined if unreadable. */
export function readRss(pid: number): number | undefined {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds used so far by `pid` (all its threads), or undefined. */
export function readCpuSeconds(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) may contain spaces; the fields after its ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return (utime + stime) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** CPU seconds the whole machine spent busy (all CPUs), from /proc/stat. */
export function readSystemBusySeconds(): number | undefined {
  try {
    const line = Deno.readTextFileSync("/proc/stat").split("\n")[0] ?? "";
    const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
    const busy = [user, nice, system, irq, softirq, steal].reduce<number>(
      (a, b) => a + (b ?? 0),
      0,
    );
    return Number.isFinite(busy) ? busy / CLOCK_TICKS : undefined;
  } catch {
    return undefined;
  }
}

/** True while `pid` exists. */
export function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** The pid of the process listening on TCP `port` on IPv4 (via /proc/net/tcp), if visible. */
export function listenerPid(port: number): number | undefined {
  const inodes = new Set<string>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(file);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      // State 0A is LISTEN.
      if (!local || cols[3] !== "0A") continue;
      const localPort = Number.parseInt(local.split(":")[1] ?? "", 16);
      if (localPort === port && cols[9]) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      for (const fd of Deno.readDirSync(`/proc/${entry.name}/fd`)) {
        const target = Deno.readLinkSync(`/proc/${entry.name}/fd/${fd.name}`);
        const match = /^socket:\[(\d+)\]$/.exec(target);
        if (match?.[1] && inodes.has(match[1])) return Number(entry.name);
      }
    } catch {
      // Not ours to read, or gone.
    }
  }
  return undefined;
}

/** CPU and RSS of one process between two points in time. */
export interface Usage {
  cpuSeconds: number | undefined;
  rssBefore: number | undefined;
  rssAfter: number | undefined;
}

/** Starts measuring `pid`; the returned function ends the measurement. */
export function startUsage(pid: number | undefined): () => Usage {
  const cpu0 = pid === undefined ? undefined : readCpuSeconds(pid);
  const rss0 = pid === undefined ? undefined : readRss(pid);
  return () => {
    const cpu1 = pid === undefined ? undefined : readCpuSeconds(pid);
    return {
      cpuSeconds: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0,
      rssBefore: rss0,
      rssAfter: pid === undefined ? undefined : readRss(pid),
    };
  };
}
