import assert from "node:assert/strict";
import { startTestGateway } from "../_helpers/gateway.ts";

Deno.test("GET /janus/S released when the client aborts the long poll", async () => {
  await using gw = await startTestGateway();
  const created = await (await fetch(gw.httpUrl, {
    method: "POST",
    body: JSON.stringify({ janus: "create", transaction: "c" }),
  })).json();
  const abort = new AbortController();
  const poll = fetch(`${gw.httpUrl}/${created.data.id}`, { signal: abort.signal }).catch(() =>
    undefined
  );
  for (let i = 0; i < 50 && gw.counts().polls === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(gw.counts().polls, 1);
  abort.abort();
  await poll;
  for (let i = 0; i < 100 && (gw.counts().polls ?? 0) > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(gw.counts().polls, 0);
  await (await fetch(`${gw.httpUrl}/${created.data.id}`, {
    method: "POST",
    body: JSON.stringify({ janus: "destroy", transaction: "d" }),
  })).body?.cancel();
});
