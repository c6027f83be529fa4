import assert from "node:assert/strict";
import { startTestGateway } from "../_helpers/gateway.ts";

/** Where `deno task test` installs janode for Node (before entering the network namespace). */
const JANODE_DIR = new URL("../../node_modules/.janode-1.8.0", import.meta.url).pathname;

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

Deno.test("janode (Node) drives the EchoTest and the admin API over WebSocket", async () => {
  const dir = await janodeFolder();
  await Deno.copyFile(new URL("./janode_client.mjs", import.meta.url), `${dir}/janode_client.mjs`);
  await using gw = await startTestGateway();
  const out = await new Deno.Command("node", {
    args: [`${dir}/janode_client.mjs`, gw.wsUrl, gw.adminWsUrl],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `janode failed:\n${stdout}\n${stderr}`);
  const seen = JSON.parse(stdout.trim().split("\n").pop() ?? "{}");
  assert.equal(seen.name, "Janus WebRTC Server");
  assert.equal(seen.echotest, true);
  assert.equal(seen.session, true);
  assert.equal(seen.handle, true);
  assert.equal(seen.start.result, "ok");
  assert.equal(seen.hangupResult.result, "done");
  assert.equal(seen.adminListed, true);
});
