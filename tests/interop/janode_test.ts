import assert from "node:assert/strict";
import { startTestGateway } from "../_helpers/gateway.ts";
import { runJanodeScript } from "./_janode.ts";

/** What `janode_client.mjs` prints. */
interface JanodeSeen {
  name: string;
  echotest: boolean;
  session: boolean;
  handle: boolean;
  start: { result?: string };
  hangupResult: { result?: string };
  adminListed: boolean;
}

Deno.test("janode (Node) drives the EchoTest and the admin API over WebSocket", async () => {
  await using gw = await startTestGateway();
  const seen = await runJanodeScript<JanodeSeen>("janode_client.mjs", [gw.wsUrl, gw.adminWsUrl]);
  assert.equal(seen.name, "Janus WebRTC Server");
  assert.equal(seen.echotest, true);
  assert.equal(seen.session, true);
  assert.equal(seen.handle, true);
  assert.equal(seen.start.result, "ok");
  assert.equal(seen.hangupResult.result, "done");
  assert.equal(seen.adminListed, true);
});
