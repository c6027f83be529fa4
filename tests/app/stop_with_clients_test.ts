import assert from "node:assert/strict";
import { startTestGateway } from "../_helpers/gateway.ts";

Deno.test("stop() with a pending long poll and an open WebSocket ends within 5 s", async () => {
  const gw = await startTestGateway();
  const created = await (await fetch(gw.httpUrl, {
    method: "POST",
    body: JSON.stringify({ janus: "create", transaction: "c" }),
  })).json();
  const poll = fetch(`${gw.httpUrl}/${created.data.id}`).then((r) => r.text()).catch(() => "");
  const socket = new WebSocket(gw.wsUrl, "janus-protocol");
  await new Promise((r) => (socket.onopen = r));
  const closed = new Promise((r) => (socket.onclose = r));
  for (let i = 0; i < 50 && gw.counts().polls === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const started = performance.now();
  await gw.stop();
  const elapsed = performance.now() - started;
  await poll;
  await closed;
  assert.ok(elapsed < 5000, `stopped in ${elapsed.toFixed(0)} ms`);
});
