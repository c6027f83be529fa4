/**
 * The whole test suite (`deno task test`): brings what the tests need where it
 * can (Chromium through apt-get when root), then runs every test inside a private
 * network namespace so all traffic stays on loopback (`_helpers/suite.ts` runs the files
 * and ends with one `N passed, N failed` line).
 *
 * @module
 */
import { netnsArgv } from "./_helpers/netns.ts";

const CHROMIUM = "/usr/bin/chromium";

function fail(message: string): never {
  // deno-lint-ignore no-console
  console.error(`deno task test: ${message}`);
  Deno.exit(1);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function commandExists(name: string): Promise<boolean> {
  const { success } = await new Deno.Command("sh", { args: ["-c", `command -v ${name}`] })
    .output();
  return success;
}

async function ensureTools(): Promise<void> {
  const root = Deno.uid() === 0;
  const missing: string[] = [];
  if (!(await exists(CHROMIUM))) missing.push("chromium");
  if (!(await commandExists("ip"))) missing.push("iproute2");
  if (!(await commandExists("unshare"))) missing.push("util-linux");
  // The official demo pages (Debian `janus-demos`) and media tools, for the tests that use them;
  // those tests fail naming the package when it is missing and cannot be installed here.
  const optional: string[] = [];
  if (!(await exists("/usr/share/janus/demos"))) optional.push("janus-demos");
  // ffmpeg/ffprobe feed and decode RTP; janus-pp-rec (janus-tools) converts our MJR recordings.
  if (!(await commandExists("ffmpeg"))) optional.push("ffmpeg");
  if (!(await commandExists("janus-pp-rec"))) optional.push("janus-tools");
  if (missing.length === 0 && (optional.length === 0 || !root)) return;
  if (!root) {
    fail(`missing ${missing.join(", ")}: install them (apt-get install -y ${missing.join(" ")})`);
  }
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const apt = (args: string[]) =>
    new Deno.Command("apt-get", { args, env, stdout: "inherit", stderr: "inherit" }).output();
  await apt(["update", "-qq"]);
  if (missing.length > 0) {
    const { success } = await apt(["install", "-y", "-qq", ...missing]);
    if (!success) fail(`apt-get install ${missing.join(" ")} failed`);
  }
  if (optional.length > 0) {
    const { success } = await apt(["install", "-y", "-qq", "--no-install-recommends", ...optional]);
    if (!success) {
      // deno-lint-ignore no-console
      console.error(`deno task test: apt-get install ${optional.join(" ")} failed; going on`);
    }
  }
}

/** janode (a Node client) for the interop tests; npm cannot be reached inside the namespace. */
async function ensureJanode(): Promise<void> {
  const dir = new URL("../node_modules/.janode-1.8.0", import.meta.url).pathname;
  try {
    await Deno.stat(`${dir}/node_modules/janode/package.json`);
    return;
  } catch {
    await Deno.mkdir(dir, { recursive: true });
  }
  const { success } = await new Deno.Command("npm", {
    args: ["install", "--no-audit", "--no-fund", "--silent", "--prefix", dir, "janode@1.8.0"],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!success) fail("npm install janode@1.8.0 failed: Node.js and npm are needed");
}

/** Every npm package in deno.json, fetched now: the namespace has no network. */
async function ensureDependencies(): Promise<void> {
  const { success } = await new Deno.Command(Deno.execPath(), {
    args: ["install", "--quiet"],
    cwd: new URL("..", import.meta.url).pathname,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!success) fail("deno install failed: the npm registry must be reachable for the first run");
}

async function main(): Promise<void> {
  await ensureTools();
  await ensureDependencies();
  await ensureJanode();
  const suite = new URL("./_helpers/suite.ts", import.meta.url).pathname;
  const argv = netnsArgv([Deno.execPath(), "run", "--allow-all", suite, ...Deno.args]);
  const [command, ...args] = argv;
  if (!command) fail("no command");
  const status = await new Deno.Command(command, { args, stdout: "inherit", stderr: "inherit" })
    .spawn().status;
  Deno.exit(status.code);
}

await main();
