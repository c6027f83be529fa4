/**
 * A media worker that dies (SIGKILL) takes its calls with it: each handle gets EchoTest's
 * `result:"done"` and then `hangup` with reason "Worker gone" (design.md, "Media engine
 * placement"), the sessions live on, and a new call gets a fresh worker.
 */
import assert from "node:assert/strict";
import {
  attachEcho,
  createSession,
  expectSuccess,
  framesAtLeast,
  keepalive,
  startCall,
  startEchoGateway,
  takeMediaUp,
  takeTeardown,
} from "./_echotest.ts";
import { peerTest, type RemotePeer } from "./_peers.ts";
import { openSignal, type Signal } from "./_signal.ts";

peerTest(
  "echotest: a killed media worker hangs up both live calls (Worker gone); sessions live on " +
    "and a new call on a fresh handle connects",
  async (host) => {
    await using gw = await startEchoGateway();
    // One session over each transport.
    const sigs: Signal[] = [await openSignal("ws", gw), await openSignal("http", gw)];
    const clients: RemotePeer[] = [];
    const peer = async () => {
      const c = await host.peer({ audio: true, video: true });
      clients.push(c);
      return c;
    };
    try {
      const calls: { sig: Signal; s: number; h: number; client: RemotePeer }[] = [];
      for (const sig of sigs) {
        const s = await createSession(sig);
        const h = await attachEcho(sig, s);
        const client = await peer();
        await startCall(sig, s, h, client);
        await takeMediaUp(sig, s, h);
        calls.push({ sig, s, h, client });
      }
      for (const { client } of calls) {
        await framesAtLeast(client, 5);
      }
      assert.equal(gw.counts().peers, 2);
      const pids = gw.media.workerPids?.() ?? [];
      assert.equal(pids.length, 1, `one media worker: ${pids}`);
      const [pid] = pids;
      assert.ok(pid !== undefined);

      const marks = calls.map(({ sig }) => sig.seq);
      const killedAt = performance.now();
      Deno.kill(pid, "SIGKILL");
      for (const [i, { sig, s, h }] of calls.entries()) {
        const { hangup } = await takeTeardown(sig, s, h, "Worker gone", marks[i] ?? 0);
        // deno-lint-ignore no-console
        console.log(`[${sig.kind}] kill -> hangup ${(hangup.at - killedAt).toFixed(0)} ms`);
      }
      assert.equal(gw.counts().peers, 0);
      assert.deepEqual(
        { sessions: gw.counts().sessions, handles: gw.counts().handles },
        { sessions: 2, handles: 2 },
      );

      // The sessions are alive.
      for (const { sig, s } of calls) await keepalive(sig, s);

      // A new call on a fresh handle, on each session: a new worker takes it.
      for (const { sig, s } of calls) {
        const h = await attachEcho(sig, s);
        const client = await peer();
        const started = performance.now();
        const { timings } = await startCall(sig, s, h, client);
        await takeMediaUp(sig, s, h);
        await framesAtLeast(client, 5);
        // deno-lint-ignore no-console
        console.log(
          `[${sig.kind}] after the kill: offer->webrtcup ${timings.webrtcupMs.toFixed(0)} ms ` +
            `(call ${(performance.now() - started).toFixed(0)} ms)`,
        );
      }
      const now = gw.media.workerPids?.() ?? [];
      assert.equal(now.length, 1);
      assert.ok(!now.includes(pid), "a new worker process");
      assert.equal(gw.counts().peers, 2);
      for (const { sig, s } of calls) await expectSuccess(sig, { janus: "destroy", session_id: s });
      assert.equal(gw.counts().peers, 0);
    } finally {
      for (const c of clients) await c.close();
      for (const sig of sigs) await sig.close();
    }
  },
);
