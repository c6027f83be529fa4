import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../core/config.ts";

const none = { args: [], env: {} };

Deno.test("loadConfig() embeds Janus's default ports and timeouts", () => {
  const c = loadConfig(none);
  assert.equal(c.http.port, 8088);
  assert.equal(c.ws.port, 8188);
  assert.equal(c.admin.http_port, 7088);
  assert.equal(c.admin.ws_port, 7188);
  assert.equal(c.admin.bind, "127.0.0.1");
  assert.equal(c.general.session_timeout, 60);
  assert.equal(c.general.admin_secret, undefined);
});

Deno.test("loadConfig() layers file < environment < flags", () => {
  const file = JSON.stringify({ http: { port: 1000 }, general: { session_timeout: 5 } });
  const c = loadConfig({
    args: ["--config", "x.json", "--http-port", "3000"],
    env: { JANUS_HTTP_PORT: "2000", JANUS_SESSION_TIMEOUT: "7", JANUS_TOKEN_AUTH: "true" },
    readFile: () => file,
  });
  assert.equal(c.http.port, 3000);
  assert.equal(c.general.session_timeout, 7);
  assert.equal(c.general.token_auth, true);
  // Plugins write permanent changes back to the file the configuration came from.
  assert.equal(c.config_file, "x.json");
  assert.equal(loadConfig({ args: [], env: {} }).config_file, undefined);
});

Deno.test("loadConfig() reads every contract environment variable", () => {
  const c = loadConfig({
    args: [],
    env: {
      JANUS_BIND: "127.0.0.1",
      JANUS_WS_PORT: "1",
      JANUS_ADMIN_HTTP_PORT: "2",
      JANUS_ADMIN_WS_PORT: "3",
      JANUS_ADMIN_SECRET: "adm",
      JANUS_API_SECRET: "api",
      JANUS_RECLAIM_SESSION_TIMEOUT: "4",
      JANUS_ICE_ENFORCE_LIST: "127.0.0.1, lo",
      JANUS_ICE_IGNORE_LIST: "vmnet",
      JANUS_NAT_1_1_MAPPING: "203.0.113.1",
      JANUS_RTP_PORT_RANGE: "20000-40000",
      JANUS_LOG_LEVEL: "5",
    },
  });
  assert.equal(c.http.bind, "127.0.0.1");
  assert.deepEqual([c.ws.port, c.admin.http_port, c.admin.ws_port], [1, 2, 3]);
  assert.equal(c.general.admin_secret, "adm");
  assert.equal(c.general.api_secret, "api");
  assert.equal(c.general.reclaim_session_timeout, 4);
  assert.deepEqual(c.media.ice_enforce_list, ["127.0.0.1", "lo"]);
  assert.deepEqual(c.media.ice_ignore_list, ["vmnet"]);
  assert.equal(c.media.nat_1_1_mapping, "203.0.113.1");
  assert.deepEqual(c.media.rtp_port_range, { min: 20000, max: 40000 });
  assert.equal(c.general.log_level, 5);
});

Deno.test("loadConfig() names the key and the expected form of a bad value", () => {
  assert.throws(
    () => loadConfig({ args: [], env: { JANUS_HTTP_PORT: "http" } }),
    (e: unknown) =>
      e instanceof ConfigError && e.message.includes("JANUS_HTTP_PORT") &&
      e.message.includes("integer from 0 to 65535"),
  );
  assert.throws(
    () => loadConfig({ args: [], env: { JANUS_TOKEN_AUTH: "maybe" } }),
    /JANUS_TOKEN_AUTH: expected true or false/,
  );
  assert.throws(
    () => loadConfig({ args: ["--ws-port", "70000"], env: {} }),
    /ws\.port/,
  );
  assert.throws(() => loadConfig({ args: ["--nope", "1"], env: {} }), /Unknown flag --nope/);
  assert.throws(
    () => loadConfig({ args: [], env: { JANUS_RTP_PORT_RANGE: "a-b" } }),
    /MIN-MAX/,
  );
});
