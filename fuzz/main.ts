/**
 * `deno task fuzz`: a grammar-aware fuzzer of the HTTP, WebSocket and admin transports.
 *
 * Usage: `deno task fuzz [--requests N] [--seconds T] [--seed S] [--case I] [--concurrency C]`
 * (`--name=value` works too). Prints one summary line; exits 1 on any crash, non-Janus
 * reply, unexpected error, timeout or leak, listing each with the case that replays it.
 *
 * @module
 */
import { DEFAULT_REQUESTS, runFuzz, summaryLine } from "./run.ts";

function parseArgs(args: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg}`);
    out.set(m[1]!, m[2] ?? args[++i] ?? "");
  }
  return out;
}

function numberArg(args: Map<string, string>, name: string): number | undefined {
  const raw = args.get(name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} wants a number, got ${raw}`);
  return n;
}

async function main(): Promise<void> {
  const args = parseArgs(Deno.args);
  const known = new Set(["requests", "seconds", "seed", "case", "concurrency", "quiet"]);
  for (const name of args.keys()) if (!known.has(name)) throw new Error(`unknown option --${name}`);
  const seed = numberArg(args, "seed") ?? Math.floor(Math.random() * 2 ** 31);
  const onlyCase = numberArg(args, "case");
  const seconds = numberArg(args, "seconds");
  const quiet = args.has("quiet");
  // deno-lint-ignore no-console
  const print = (line: string) => console.log(line);
  // Progress at most every 10 s: a long run prints a line now and then, a short one none.
  let lastProgress = performance.now();
  const progress = (line: string) => {
    if (performance.now() - lastProgress < 10_000) return;
    lastProgress = performance.now();
    print(`  ${line}`);
  };
  const summary = await runFuzz({
    seed,
    requests: numberArg(args, "requests") ?? (seconds === undefined ? DEFAULT_REQUESTS : Infinity),
    ...(seconds === undefined ? {} : { seconds }),
    ...(onlyCase === undefined ? {} : { onlyCase }),
    ...(args.has("concurrency") ? { concurrency: numberArg(args, "concurrency")! } : {}),
    ...(quiet ? {} : { progress }),
  });
  for (const f of summary.failures) {
    print(`${f.kind}: case ${f.caseIndex}: ${f.what}\n    got: ${f.got}`);
    if (f.caseIndex >= 0) print(`    replay: deno task fuzz --seed ${seed} --case ${f.caseIndex}`);
  }
  print(summaryLine(summary));
  Deno.exit(summary.failures.length === 0 ? 0 : 1);
}

if (import.meta.main) await main();
