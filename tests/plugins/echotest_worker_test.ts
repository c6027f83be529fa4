/**
 * A media worker that dies (SIGKILL) takes its calls with it: each handle gets EchoTest's
 * `result:"done"` and then `hangup` with reason "Worker gone" (design.md, "Media engine
 * placement"), the sessions live on, and a new call gets a fresh worker. So does a worker that
 * hangs (SIGSTOP: alive but silent), once a call to it (the heartbeat) misses its deadline.
 */
import assert from "node:assert/strict";
import type { EngineName } from "../../core/media/engine_router.ts";
import {
  attachEcho,
  createSession,
  ECHO_ENGINES,
  type EchoGateway,
  expectSuccess,
  framesAtLeast,
  keepalive,
  startCall,
  startEchoGateway,
  takeMediaUp,
  takeTeardown,
} from "./_echotest.ts";
import { processExists } from "../media/_media_setup.ts";
import { peerTest, type RemotePeer, until } from "./_peers.ts";
import { openSignal, type Signal } from "./_signal.ts";

for (const engine of ECHO_ENGINES) {
  peerTest(
    `echotest on ${engine}: a killed media worker hangs up both live calls (Worker gone); ` +
      "sessions live on and a new call on a fresh handle connects",
    async (host) => {
      await using gw = await startEchoGateway(engine);
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
        const pids = gw.echoWorkerPids();
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
        const now = gw.echoWorkerPids();
        assert.equal(now.length, 1);
        assert.ok(!now.includes(pid), "a new worker process");
        assert.equal(gw.counts().peers, 2);
        for (const { sig, s } of calls) {
          await expectSuccess(sig, { janus: "destroy", session_id: s });
        }
        assert.equal(gw.counts().peers, 0);
      } finally {
        for (const c of clients) {
          await c.close();
        }
        for (const sig of sigs) await sig.close();
      }
    },
  );
}

/** Deadline of every worker call in the hung-worker test, in ms. */
const CALL_TIMEOUT_MS = 1000;

/** One media worker whose calls have a deadline of {@link CALL_TIMEOUT_MS}, and a gateway. */
function startGatewayWithDeadline(engine: EngineName): Promise<EchoGateway> {
  return startEchoGateway(engine, { media: { call_timeout_ms: CALL_TIMEOUT_MS } });
}

for (const engine of ECHO_ENGINES) {
  peerTest(
    `echotest on ${engine}: a hung media worker (SIGSTOP) is found by a missed call deadline, ` +
      "killed, and its call hung up (Worker gone); the session lives on and a new call gets a " +
      "new worker",
    async (host) => {
      await using gw = await startGatewayWithDeadline(engine);
      const sig = await openSignal("ws", gw);
      const clients: RemotePeer[] = [];
      let stopped: number | undefined;
      try {
        const s = await createSession(sig);
        const h = await attachEcho(sig, s);
        const client = await host.peer({ audio: true, video: true });
        clients.push(client);
        await startCall(sig, s, h, client);
        await takeMediaUp(sig, s, h);
        await framesAtLeast(client, 5);
        const [pid] = gw.echoWorkerPids();
        assert.ok(pid !== undefined, "one media worker");

        const mark = sig.seq;
        const stoppedAt = performance.now();
        Deno.kill(pid, "SIGSTOP");
        stopped = pid;
        const { hangup } = await takeTeardown(sig, s, h, "Worker gone", mark);
        const waited = hangup.at - stoppedAt;
        // deno-lint-ignore no-console
        console.log(`SIGSTOP -> hangup ${waited.toFixed(0)} ms (deadline ${CALL_TIMEOUT_MS} ms)`);
        // Found by the heartbeat (every half deadline) missing its deadline: 1.5 deadlines at most.
        assert.ok(waited >= CALL_TIMEOUT_MS - 100, `hung up after ${waited.toFixed(0)} ms`);
        assert.ok(waited < CALL_TIMEOUT_MS * 1.5 + 1000, `hung up after ${waited.toFixed(0)} ms`);
        assert.equal(gw.counts().peers, 0);
        assert.deepEqual(
          { sessions: gw.counts().sessions, handles: gw.counts().handles },
          { sessions: 1, handles: 1 },
        );
        // The stopped process was killed (SIGKILL ends a stopped process too) and reaped.
        await until("the hung worker reaped", () => Promise.resolve(!processExists(pid)));
        stopped = undefined;
        await keepalive(sig, s);

        const h2 = await attachEcho(sig, s);
        const again = await host.peer({ audio: true, video: true });
        clients.push(again);
        await startCall(sig, s, h2, again);
        await takeMediaUp(sig, s, h2);
        await framesAtLeast(again, 5);
        const now = gw.echoWorkerPids();
        assert.equal(now.length, 1);
        assert.ok(!now.includes(pid), "a new worker process");
        await expectSuccess(sig, { janus: "destroy", session_id: s });
        assert.equal(gw.counts().peers, 0);
      } finally {
        if (stopped !== undefined) Deno.kill(stopped, "SIGKILL");
        for (const c of clients) await c.close();
        await sig.close();
      }
    },
  );
}
