/**
 * The bench's only way to write to the terminal.
 *
 * @module
 */

/** Writes one line to stdout. */
export function print(line = ""): void {
  // deno-lint-ignore no-console
  console.log(line);
}
