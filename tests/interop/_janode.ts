/**
 * Runs a janode script (a `janode_*_client.mjs` next to this module) under Node against a
 * gateway and returns the JSON line it printed last. The script is copied, with the
 * `_janode_util.mjs` it imports, into the folder where `deno task test` installed janode for
 * Node (before entering the network namespace), so that its `import "janode"` resolves there.
 *
 * @module
 */
import assert from "node:assert/strict";

const JANODE_DIR = new URL("../../node_modules/.janode-1.8.0", import.meta.url).pathname;
/** node-datachannel as Deno installed it (deno.json's version); Node loads its ESM entry. */
export const DATACHANNEL_ENTRY = new URL(
  "../../node_modules/.deno/node-datachannel@0.33.4/node_modules/node-datachannel/dist/esm/lib/index.mjs",
  import.meta.url,
).pathname;

async function janodeFolder(): Promise<string> {
  try {
    await Deno.stat(`${JANODE_DIR}/node_modules/janode/package.json`);
    return JANODE_DIR;
  } catch {
    throw new Error(
      "janode is not installed: run the suite through `deno task test`, which installs it with npm",
    );
  }
}

/** `node <script> ...args`; fails with the end of its output unless it exits 0. */
export async function runJanodeScript<T = Record<string, unknown>>(
  script: string,
  args: string[],
): Promise<T> {
  const dir = await janodeFolder();
  for (const file of [script, "_janode_util.mjs"]) {
    await Deno.copyFile(new URL(`./${file}`, import.meta.url), `${dir}/${file}`);
  }
  const out = await new Deno.Command("node", {
    args: [`${dir}/${script}`, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `janode failed:\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`);
  return JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as T;
}
