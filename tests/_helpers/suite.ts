/**
 * Runs the test files (inside the network namespace made by `tests/run.ts`) and prints
 * one `N passed, N failed` line. Files whose tests load wrtc in the test process each get
 * a `deno test` process of their own: wrtc ties native state to the first test file that
 * loads it, and a second such file in the same process crashes Deno.
 *
 * Usage: `deno run -A tests/_helpers/suite.ts [paths...]` (default: `tests/`).
 *
 * @module
 */

const LOADS_WRTC = /(?:\.\.\/media\/|\.\/)_client\.ts"|"@roamhq\/wrtc"/;
const SUMMARY = /(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/;

async function collect(path: string, into: string[]): Promise<void> {
  const info = await Deno.stat(path);
  if (info.isFile) {
    if (/_test\.(ts|js|mjs)$/.test(path)) into.push(path);
    return;
  }
  for await (const entry of Deno.readDir(path)) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    await collect(`${path}/${entry.name}`, into);
  }
}

/** Runs one `deno test` over `files`; returns its counts. */
async function runDenoTest(files: string[]): Promise<{ passed: number; failed: number }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "--allow-all", ...files],
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  let tail = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    await Deno.stdout.write(chunk);
    tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4000);
  }
  const status = await child.status;
  const m = SUMMARY.exec(tail);
  const passed = m ? Number(m[1]) : 0;
  let failed = m ? Number(m[2]) : 0;
  // A crash or an exit before the summary counts as a failure of the whole run.
  if (!status.success && failed === 0) failed = 1;
  return { passed, failed };
}

async function main(): Promise<void> {
  const roots = Deno.args.length > 0 ? Deno.args : ["tests"];
  const files: string[] = [];
  for (const root of roots) await collect(root.replace(/\/$/, ""), files);
  files.sort();
  const shared: string[] = [];
  const isolated: string[] = [];
  for (const file of files) {
    (LOADS_WRTC.test(await Deno.readTextFile(file)) ? isolated : shared).push(file);
  }
  let passed = 0;
  let failed = 0;
  for (const group of [shared, ...isolated.map((f) => [f])]) {
    if (group.length === 0) continue;
    const counts = await runDenoTest(group);
    passed += counts.passed;
    failed += counts.failed;
  }
  // deno-lint-ignore no-console
  console.log(`\ntests: ${passed} passed, ${failed} failed`);
  Deno.exit(failed === 0 && passed > 0 ? 0 : 1);
}

if (import.meta.main) await main();
