/**
 * ICE options of the core seen through an EchoTest call: `full_trickle` (our candidates go
 * out as `trickle` events, none in the answer), `ice_enforce_list` (only the listed
 * addresses are offered) and `nat_1_1_mapping` (host candidates carry the public address).
 */
import assert from "node:assert/strict";
import type { ConfigInput } from "../../core/config.ts";
import type { EngineName } from "../../core/media/engine_router.ts";
import type { JsonObject } from "../../core/protocol.ts";
import type { TestGateway } from "../_helpers/gateway.ts";
import {
  attachEcho,
  checkClientCandidates,
  createSession,
  ECHO_ENGINES,
  echoMessage,
  expectSuccess,
  framesAtLeast,
  startEchoGateway,
  takeWebrtcup,
  trickleAll,
} from "./_echotest.ts";
import { peerTest } from "./_peers.ts";
import { openSignal } from "./_signal.ts";

function startGateway(overrides: ConfigInput, engine: EngineName): Promise<TestGateway> {
  return startEchoGateway(engine, overrides);
}

/** Addresses of the `a=candidate` lines of an SDP. */
function candidateAddresses(sdp: string): string[] {
  return [...sdp.matchAll(/^a=candidate:\S+ \d+ \S+ \d+ (\S+) \d+ typ/gm)].map((m) => m[1] ?? "");
}

for (const engine of ECHO_ENGINES) {
  peerTest(
    `full_trickle on ${engine}: candidates arrive as trickle events (then completed), the answer has none`,
    async (host) => {
      await using gw = await startGateway({
        general: { full_trickle: true },
        media: { ice_enforce_list: ["127.0.0.10"] },
      }, engine);
      const sig = await openSignal("ws", gw);
      const client = await host.peer({ audio: true, video: true });
      try {
        const s = await createSession(sig);
        const h = await attachEcho(sig, s);
        const offer = await client.offer();
        const { event } = await echoMessage(sig, s, h, { audio: true, video: true }, {
          type: "offer",
          sdp: offer,
        });
        const answer = String((event.msg.jsep as JsonObject).sdp);
        assert.doesNotMatch(answer, /^a=candidate:/m, "no candidates in a full-trickle answer");
        assert.doesNotMatch(answer, /^a=end-of-candidates/m);
        const done = await sig.take(
          "trickle completed",
          (m) => m.janus === "trickle" && (m.candidate as JsonObject).completed === true,
        );
        const trickles = sig.since(s, 0).filter((r) =>
          r.msg.janus === "trickle" && r.seq < done.seq
        );
        assert.ok(trickles.length > 0, "at least one candidate trickled");
        for (const t of trickles) {
          assert.deepEqual(Object.keys(t.msg), ["janus", "session_id", "sender", "candidate"]);
          const c = t.msg.candidate as JsonObject;
          assert.deepEqual(Object.keys(c), ["sdpMid", "sdpMLineIndex", "candidate"]);
          assert.match(String(c.candidate), /^candidate:\S+ 1 udp \d+ 127\.0\.0\.10 \d+ typ host/);
        }
        // The client takes the trickled candidates with the answer, as janus.js would add them.
        const lines = trickles.map((t) => `a=${(t.msg.candidate as JsonObject).candidate}`);
        const withCandidates = answer.replace(
          /(a=mid:[^\r\n]+\r\n)/,
          `$1${lines.join("\r\n")}\r\n`,
        );
        await client.answer(withCandidates);
        await trickleAll(sig, s, h, checkClientCandidates(await client.candidates()));
        await takeWebrtcup(sig, s, h);
        await framesAtLeast(client, 5);
        await expectSuccess(sig, { janus: "destroy", session_id: s });
      } finally {
        await client.close();
        await sig.close();
      }
    },
  );
}

for (const engine of ECHO_ENGINES) {
  peerTest(
    `ice_enforce_list on ${engine}: the answer offers only the listed address, and connects`,
    async (host) => {
      await using gw = await startGateway({ media: { ice_enforce_list: ["127.0.0.10"] } }, engine);
      const sig = await openSignal("ws", gw);
      const client = await host.peer({ audio: true, video: true });
      try {
        const s = await createSession(sig);
        const h = await attachEcho(sig, s);
        const { event } = await echoMessage(sig, s, h, { audio: true, video: true }, {
          type: "offer",
          sdp: await client.offer(),
        });
        const answer = String((event.msg.jsep as JsonObject).sdp);
        const addresses = candidateAddresses(answer);
        assert.ok(addresses.length > 0);
        assert.deepEqual([...new Set(addresses)], ["127.0.0.10"], answer);
        await client.answer(answer);
        await trickleAll(sig, s, h, checkClientCandidates(await client.candidates()));
        await takeWebrtcup(sig, s, h);
        await expectSuccess(sig, { janus: "destroy", session_id: s });
      } finally {
        await client.close();
        await sig.close();
      }
    },
  );
}

for (const engine of ECHO_ENGINES) {
  peerTest(
    `nat_1_1_mapping on ${engine}: host candidates carry the mapped address`,
    async (host) => {
      // The answer is only read, never applied: nothing is sent to the mapped address.
      await using gw = await startGateway({
        media: { ice_enforce_list: ["127.0.0.1"], nat_1_1_mapping: "203.0.113.7" },
      }, engine);
      const sig = await openSignal("ws", gw);
      const client = await host.peer({ audio: true, video: true });
      try {
        const s = await createSession(sig);
        const h = await attachEcho(sig, s);
        const { event } = await echoMessage(sig, s, h, { audio: true, video: true }, {
          type: "offer",
          sdp: await client.offer(),
        });
        const addresses = candidateAddresses(String((event.msg.jsep as JsonObject).sdp));
        assert.ok(addresses.length > 0);
        assert.deepEqual([...new Set(addresses)], ["203.0.113.7"]);
        await expectSuccess(sig, { janus: "destroy", session_id: s });
      } finally {
        await client.close();
        await sig.close();
      }
    },
  );
}
