/**
 * EchoTest calls that end in the other ways the reference was observed to handle
 * (janus-core-api.md §1.3, §2, §10 "Variants"): the client closes its PeerConnection,
 * detach and destroy with a live peer, and trickles sent before the offer.
 */
import assert from "node:assert/strict";
import {
  attachEcho,
  createSession,
  ECHO_ENGINES,
  echoCallUp,
  expectSuccess,
  framesAtLeast,
  handleInfo,
  keepalive,
  sleep,
  startCall,
  startEchoGateway,
  takeMediaUp,
  takeTeardown,
} from "./_echotest.ts";
import { peerTest, until } from "./_peers.ts";
import { openSignal } from "./_signal.ts";

for (const [kind, engine] of ECHO_ENGINES.flatMap((e) => [["ws", e], ["http", e]] as const)) {
  peerTest(
    `echotest on ${engine} over ${kind}: the client closing its PeerConnection gives result:"done", then ` +
      `hangup "DTLS alert"; the handle takes a new call`,
    async (host) => {
      await using gw = await startEchoGateway(engine);
      const sig = await openSignal(kind, gw);
      const first = await host.peer({ audio: true, video: true });
      const second = await host.peer({ audio: true, video: true });
      try {
        const { s, h } = await echoCallUp(sig, first, 5);

        const before = sig.seq;
        const closedAt = performance.now();
        await first.close();
        const { hangup } = await takeTeardown(sig, s, h, "DTLS alert", before);
        await until("no peer left", () => Promise.resolve(gw.counts().peers === 0));
        // deno-lint-ignore no-console
        console.log(`[${kind}] client close -> hangup ${(hangup.at - closedAt).toFixed(0)} ms`);

        // Same handle, new PeerConnection: a full call again.
        await startCall(sig, s, h, second);
        await takeMediaUp(sig, s, h);
        await framesAtLeast(second, 5);
        await keepalive(sig, s);
        await expectSuccess(sig, { janus: "destroy", session_id: s });
      } finally {
        await first.close();
        await second.close();
        await sig.close();
      }
    },
  );

  peerTest(
    `echotest on ${engine} over ${kind}: detach with a live peer gives success and only detached`,
    async (host) => {
      await using gw = await startEchoGateway(engine);
      const sig = await openSignal(kind, gw);
      const client = await host.peer({ audio: true, video: true });
      try {
        const { s, h } = await echoCallUp(sig, client);
        assert.equal(gw.counts().peers, 1);

        const before = sig.seq;
        await expectSuccess(sig, { janus: "detach", session_id: s, handle_id: h });
        const detached = await sig.take("detached", (m) => m.janus === "detached");
        assert.deepEqual(detached.msg, { janus: "detached", session_id: s, sender: h });
        await until("no peer left", () => Promise.resolve(gw.counts().peers === 0));
        await sleep(1000); // no hangup, no plugin event may follow
        assert.deepEqual(sig.since(s, before).map((r) => r.msg), [detached.msg]);
        assert.deepEqual(
          { sessions: gw.counts().sessions, handles: gw.counts().handles },
          { sessions: 1, handles: 0 },
        );
        const transaction = "gone";
        const reply = await sig.request({
          janus: "keepalive",
          transaction,
          session_id: s,
          handle_id: h,
        });
        assert.deepEqual(reply, {
          janus: "error",
          session_id: s,
          transaction,
          error: { code: 459, reason: `No such handle ${h} in session ${s}` },
        });
        await expectSuccess(sig, { janus: "destroy", session_id: s });
      } finally {
        await client.close();
        await sig.close();
      }
    },
  );

  peerTest(
    `echotest on ${engine} over ${kind}: destroy with a live peer gives success and nothing else`,
    async (host) => {
      await using gw = await startEchoGateway(engine);
      const sig = await openSignal(kind, gw);
      const client = await host.peer({ audio: true, video: true });
      try {
        const { s } = await echoCallUp(sig, client);
        assert.equal(gw.counts().peers, 1);

        const before = sig.seq;
        await expectSuccess(sig, { janus: "destroy", session_id: s });
        await until("no peer left", () => Promise.resolve(gw.counts().peers === 0));
        await sleep(1000); // no detached, hangup or plugin event may follow
        assert.deepEqual(sig.since(s, before).map((r) => r.msg), []);
        const { sessions, handles, peers } = gw.counts();
        assert.deepEqual({ sessions, handles, peers }, { sessions: 0, handles: 0, peers: 0 });
        const transaction = "gone";
        const reply = await sig.request({ janus: "keepalive", transaction, session_id: s });
        assert.deepEqual(reply, {
          janus: "error",
          session_id: s,
          transaction,
          error: { code: 458, reason: `No such session ${s}` },
        });
      } finally {
        await client.close();
        await sig.close();
      }
    },
  );

  peerTest(
    `echotest on ${engine} over ${kind}: candidates trickled before the offer are queued, acked and applied`,
    async (host) => {
      await using gw = await startEchoGateway(engine);
      const sig = await openSignal(kind, gw);
      const client = await host.peer({ audio: true, video: true });
      try {
        const s = await createSession(sig);
        const h = await attachEcho(sig, s);
        const { candidates, timings } = await startCall(sig, s, h, client, { trickleFirst: true });
        await takeMediaUp(sig, s, h);
        await framesAtLeast(client, 5);

        const info = await handleInfo(gw, s, h);
        const webrtc = info.webrtc as { ice?: { "remote-candidates"?: unknown } } | undefined;
        const remote = webrtc?.ice?.["remote-candidates"];
        assert.ok(Array.isArray(remote), JSON.stringify(info.webrtc));
        const strip = (c: unknown) => String(c).replace(/^candidate:/, "");
        // The UDP ones of the first bundled m-line are applied (the others are ignored, as the
        // reference ignores them).
        const wanted = candidates.filter((c) =>
          c.sdpMid === "0" && / udp /i.test(String(c.candidate))
        );
        assert.ok(wanted.length > 0);
        for (const c of wanted) {
          assert.ok(
            remote.map(strip).includes(strip(c.candidate)),
            `queued ${c.candidate} applied; remote-candidates: ${JSON.stringify(remote)}`,
          );
        }
        assert.equal(remote.length, new Set(wanted.map((c) => strip(c.candidate))).size);
        // deno-lint-ignore no-console
        console.log(
          `[${kind}] trickle first: offer->webrtcup ${timings.webrtcupMs.toFixed(0)} ms`,
        );
        await expectSuccess(sig, { janus: "destroy", session_id: s });
      } finally {
        await client.close();
        await sig.close();
      }
    },
  );
}
