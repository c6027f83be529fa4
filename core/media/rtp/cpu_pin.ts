/**
 * Keeps an RTP worker on one CPU. Each packet crosses three of its threads (libjuice's poll
 * thread, a libdatachannel worker, the JavaScript thread); when they sit on different CPUs
 * each handoff is a cross-CPU wakeup, which costs more than the packet's own work (an
 * inter-processor interrupt, dearer still in a VM). Bench on 2 cores, one VideoRoom publisher
 * alone: the worker took 2.2-3.4% of a core unpinned, 1.5-2.0% pinned; per subscriber at 1, 2
 * and 4 subscribers, 1.13x, 1.05x and 0.79x of the reference's unpinned, 1.02x, 0.89x and
 * 0.87x pinned. A worker's JavaScript runs on one thread anyway, and an engine's workers are
 * spread over the CPUs the gateway may use (consecutive ones from a random first one).
 *
 * @module
 */

/** The CPUs of a kernel CPU list ("0-3,6" in `/proc/self/status`' `Cpus_allowed_list`). */
export function parseCpuList(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.trim().split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const from = Number(m[1]);
    const to = m[2] !== undefined ? Number(m[2]) : from;
    for (let cpu = from; cpu <= to; cpu++) cpus.push(cpu);
  }
  return cpus;
}

/** The CPU list allowed to a thread, from its `/proc/.../status` text; undefined if absent. */
export function allowedCpuList(status: string): number[] | undefined {
  const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1];
  return list === undefined ? undefined : parseCpuList(list);
}

/** Bytes of glibc's `cpu_set_t` (1024 CPUs). */
const CPU_SET_BYTES = 128;

/**
 * Pins every thread of this process to the `slot`-th CPU it may use (modulo their number);
 * threads started later inherit the pin from the thread that starts them. Returns the CPU, or
 * undefined where it cannot pin (not Linux, no FFI, or a single CPU: nothing to gain).
 */
export function pinProcess(slot: number): number | undefined {
  let cpus: number[] | undefined;
  try {
    cpus = allowedCpuList(Deno.readTextFileSync("/proc/self/status"));
  } catch {
    return undefined;
  }
  if (!cpus || cpus.length < 2) return undefined;
  const cpu = cpus[slot % cpus.length]!;
  if (cpu >= CPU_SET_BYTES * 8) return undefined;
  let libc: Deno.DynamicLibrary<{
    sched_setaffinity: { parameters: ["i32", "usize", "buffer"]; result: "i32" };
  }>;
  try {
    libc = Deno.dlopen("libc.so.6", {
      sched_setaffinity: { parameters: ["i32", "usize", "buffer"], result: "i32" },
    });
  } catch {
    return undefined;
  }
  try {
    const mask = new Uint8Array(CPU_SET_BYTES);
    mask[cpu >> 3] = 1 << (cpu & 7);
    let pinned = 0;
    for (const entry of Deno.readDirSync("/proc/self/task")) {
      // A thread that ended since the listing just fails; the others still count.
      const done = libc.symbols.sched_setaffinity(Number(entry.name), BigInt(CPU_SET_BYTES), mask);
      if (done === 0) pinned++;
    }
    return pinned > 0 ? cpu : undefined;
  } finally {
    libc.close();
  }
}
