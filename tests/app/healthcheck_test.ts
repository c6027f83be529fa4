import assert from "node:assert/strict";
import { localAddress } from "../../healthcheck.ts";
import { startTestGateway } from "../_helpers/gateway.ts";

const SCRIPT = new URL("../../healthcheck.ts", import.meta.url).pathname;

/** Runs the health check as the container's HEALTHCHECK does: only the environment differs. */
async function runCheck(env: Record<string, string>): Promise<number> {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", SCRIPT],
    env,
    clearEnv: true,
    stdout: "null",
    stderr: "null",
  }).output();
  return code;
}

Deno.test("healthcheck.ts finds the gateway on the port and bind address of its environment", async () => {
  const gw = await startTestGateway({ http: { base_path: "/gw" } });
  const port = String(gw.app.ports.http);
  const free = String(gw.app.ports.adminHttp); // listening, but not the Janus API
  try {
    const config = await Deno.makeTempFile({ suffix: ".json" });
    try {
      await Deno.writeTextFile(config, JSON.stringify({ http: { base_path: "/gw" } }));
      const env = { JANUS_BIND: "127.0.0.1", JANUS_CONFIG: config };
      assert.equal(await runCheck({ ...env, JANUS_HTTP_PORT: port }), 0);
      // The default bind (0.0.0.0) is reached on loopback.
      assert.equal(await runCheck({ JANUS_CONFIG: config, JANUS_HTTP_PORT: port }), 0);
      assert.equal(await runCheck({ ...env, JANUS_HTTP_PORT: free }), 1);
      // Without the config file's base path, /janus/info is a 404: unhealthy.
      assert.equal(await runCheck({ JANUS_BIND: "127.0.0.1", JANUS_HTTP_PORT: port }), 1);
      assert.equal(await runCheck({ ...env, JANUS_HTTP_PORT: "not-a-port" }), 1);
    } finally {
      await Deno.remove(config);
    }
  } finally {
    await gw.stop();
  }
  assert.equal(await runCheck({ JANUS_BIND: "127.0.0.1", JANUS_HTTP_PORT: port }), 1);
});

Deno.test("localAddress maps wildcard binds to loopback and brackets IPv6", () => {
  assert.equal(localAddress("0.0.0.0"), "127.0.0.1");
  assert.equal(localAddress("::"), "[::1]");
  assert.equal(localAddress("10.1.2.3"), "10.1.2.3");
  assert.equal(localAddress("fe80::1"), "[fe80::1]");
});
