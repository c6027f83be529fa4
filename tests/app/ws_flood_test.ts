import assert from "node:assert/strict";
import { startTestGateway } from "../_helpers/gateway.ts";

Deno.test("WS flood over limits.ws_requests_per_second gets 490 and the session survives", async () => {
  await using gw = await startTestGateway({ limits: { ws_requests_per_second: 50 } });
  const socket = new WebSocket(gw.wsUrl, "janus-protocol");
  const replies: Record<string, unknown>[] = [];
  let wake = () => {};
  socket.onmessage = (e) => {
    replies.push(JSON.parse(String(e.data)));
    wake();
  };
  await new Promise((r) => (socket.onopen = r));
  const closed = new Promise((r) => (socket.onclose = r));
  const waitReplies = async (n: number) => {
    while (replies.length < n) await new Promise<void>((r) => (wake = r));
  };
  socket.send(JSON.stringify({ janus: "create", transaction: "c" }));
  await waitReplies(1);
  const session = (replies[0]?.data as { id: number }).id;
  for (let i = 0; i < 100; i++) {
    socket.send(JSON.stringify({ janus: "keepalive", session_id: session, transaction: `k${i}` }));
  }
  await waitReplies(101);
  const refused = replies.filter((r) => r.janus === "error");
  const acked = replies.filter((r) => r.janus === "ack");
  assert.ok(refused.length >= 50, `refused ${refused.length}`);
  assert.equal(acked.length + refused.length, 100);
  assert.deepEqual(Object.keys(refused[0] ?? {}), ["janus", "transaction", "error"]);
  assert.equal((refused[0]?.error as { code: number }).code, 490);
  await new Promise((r) => setTimeout(r, 1100));
  socket.send(JSON.stringify({ janus: "keepalive", session_id: session, transaction: "late" }));
  await waitReplies(102);
  assert.equal(replies[101]?.janus, "ack");
  assert.equal(gw.counts().sessions, 1);
  socket.close();
  await closed;
});
