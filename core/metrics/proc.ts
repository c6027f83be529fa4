/**
 * CPU time of another process (a media worker) from /proc (Linux).
 *
 * @module
 */
export { residentBytes } from "../media/engine.ts";

/** Clock ticks per second of /proc's times (USER_HZ: 100 on every Linux Deno runs on). */
const TICKS_PER_SECOND = 100;

/** User plus system CPU seconds of `pid`; undefined where /proc cannot be read. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces), from field 3 on.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const user = Number(fields[11]);
    const system = Number(fields[12]);
    if (!Number.isFinite(user) || !Number.isFinite(system)) return undefined;
    return (user + system) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
