/**
 * Reads a numeric `--name=value` flag of a bench child process (the gateways the benches
 * spawn get their settings this way).
 *
 * @module
 */

/** The value of `--name=value` in `Deno.args`, or `fallback`; a negative or malformed one throws. */
export function childFlag(name: string, fallback: number, whole = true): number {
  const arg = Deno.args.find((a) => a.startsWith(`--${name}=`));
  const value = arg === undefined ? fallback : Number(arg.slice(name.length + 3));
  const ok = whole ? Number.isInteger(value) : Number.isFinite(value);
  if (!ok || value < 0) throw new Error(`--${name}: bad value '${arg}'`);
  return value;
}
