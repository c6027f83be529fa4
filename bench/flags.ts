/**
 * Reading of command-line flags shared by the bench and the soak: `--name=value`,
 * `--name value`, or a bare `--name` switch.
 *
 * @module
 */

/** One flag; `value` is "" for a switch. */
export interface Flag {
  name: string;
  value: string;
}

/** The flags of `args` in order; the names in `switches` take no value. Throws on a malformed one. */
export function* readFlags(
  args: readonly string[],
  switches: ReadonlySet<string>,
): Generator<Flag> {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match?.[1]) throw new Error(`Unknown argument '${arg}'`);
    const name = match[1];
    if (switches.has(name)) {
      yield { name, value: "" };
      continue;
    }
    const value = match[2] ?? args[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    yield { name, value };
  }
}

/** `value` of `--name` as a finite number, at least 0 (`zeroOk`) or above it, whole if `whole`. */
export function flagNumber(name: string, value: string, zeroOk: boolean, whole: boolean): number {
  const n = Number(value);
  if (!Number.isFinite(n) || (zeroOk ? n < 0 : n <= 0) || (whole && !Number.isInteger(n))) {
    throw new Error(`--${name}: expected a ${whole ? "whole " : ""}number, got '${value}'`);
  }
  return n;
}
