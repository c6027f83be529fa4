/**
 * EchoTest with a real wrtc client peer, over WebSocket and over HTTP long-poll: the signalling
 * flow and event order observed on Janus 1.1.2 (janus-core-api.md §1.3, §3, §10), echoed
 * media and data (plugins/echotest.md), toggles, bitrate, renegotiation, admin handle_info and
 * the hangup teardown. Runs inside the test network namespace; the client peers live in a
 * child process (`_peers.ts`), so this module never loads wrtc itself.
 *
 * The answer is shaped as the reference's (janus-core-api.md §10): the offer's `o=` session id
 * and version (then +1 per renegotiation), one codec per medium (opus 111, VP8 96 + rtx 97),
 * `a=msid-semantic: WMS *`, `a=sendrecv` on `m=application`, no TCP candidates; handle_info
 * lists our candidates once in the short form and ignores the client's for bundled m-lines
 * after the first (and TCP ones), and `all-trickles` is set after `completed`.
 *
 * Not asserted (a reference difference of the media layer): candidates are listed in the
 * first m-section only.
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { isLoopbackAddress } from "../_helpers/netns.ts";
import {
  attachEcho,
  checkAnswer,
  checkClientCandidates,
  createSession,
  DATA_PREFIX,
  ECHO_ENGINES,
  echoMessage,
  ECHOTEST,
  expectSuccess,
  framesAtLeast,
  framesIn,
  handleInfo,
  origin,
  sleep,
  startCall,
  startEchoGateway,
  takeMediaUp,
  takeTeardown,
  trickleAll,
} from "./_echotest.ts";
import { peerTest, until } from "./_peers.ts";
import { openSignal, txn } from "./_signal.ts";

function iceUfrag(sdp: string): string | undefined {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
}

function object(value: unknown, what: string): JsonObject {
  assert.ok(typeof value === "object" && value !== null && !Array.isArray(value), what);
  return value as JsonObject;
}

for (const [kind, engine] of ECHO_ENGINES.flatMap((e) => [["ws", e], ["http", e]] as const)) {
  peerTest(
    `echotest on ${engine} over ${kind}: offer/answer, trickles, webrtcup, media, echo, toggles, ` +
      "bitrate, renegotiation, handle_info, hangup",
    async (host) => {
      await using gw = await startEchoGateway(engine);
      const sig = await openSignal(kind, gw);
      const client = await host.peer({ audio: true, video: true, data: "echo" });
      try {
        const s = await createSession(sig);
        const h = await attachEcho(sig, s);

        // Offer -> ack (hint) -> event (same transaction, result ok, answer); trickles; webrtcup.
        const call = await startCall(sig, s, h, client);
        assert.equal(call.answer.match(/\r\na=sendrecv/g)?.length, 3, "audio, video, data");
        assert.match(call.answer, /\r\nm=application [1-9]\d* /);
        assert.match(call.answer, /\r\nm=audio \d+ UDP\/TLS\/RTP\/SAVPF 111\r\n/);
        assert.match(call.answer, /\r\nm=video \d+ UDP\/TLS\/RTP\/SAVPF 96 97\r\n/);
        assert.match(call.answer, /\r\na=rtpmap:111 opus\/48000\/2\r\n/);
        assert.match(call.answer, /\r\na=fmtp:111 [^\r]*useinbandfec=1/);
        assert.match(call.answer, /\r\na=msid-semantic: WMS \*\r\n/);
        assert.doesNotMatch(call.answer, /a=candidate:\S+ \d+ tcp /i, "ice_tcp is off");
        assert.deepEqual(origin(call.answer), origin(call.offer), "the offer's o= id and version");
        const media = await takeMediaUp(sig, s, h);
        // Reference order: the answer event, then webrtcup, then the media events.
        assert.ok(call.received.answer.seq < call.received.webrtcup.seq);
        for (const m of media) {
          assert.ok(call.received.webrtcup.seq < m.seq, "media after webrtcup");
        }

        // Echoed video: decoded by the client, with the pattern it sent (bright left half).
        await framesAtLeast(client, 20);
        const { luma } = await client.stats();
        assert.equal(luma.width, 320);
        assert.equal(luma.height, 240);
        assert.ok(luma.left > 150 && luma.right < 100, JSON.stringify(luma));
        // Echoed audio: the 440 Hz tone.
        await until("echoed audio", async () => {
          const { audioSamples, audioRate } = await client.stats();
          return audioSamples >= audioRate;
        });
        const { tone440, tone1k } = await client.stats();
        assert.ok(tone440 > 50 * tone1k && tone440 > 1000, `440 Hz ${tone440} vs 1 kHz ${tone1k}`);

        // Data channel text comes back with the reference's prefix.
        await until(
          "data channel open",
          async () => (await client.stats()).channelState === "open",
        );
        await client.send("hello echotest");
        await until("data echo", async () => (await client.stats()).messages.length > 0);
        const { messages } = await client.stats();
        assert.deepEqual(messages, ["Janus EchoTest here! You wrote: hello echotest"]);
        assert.equal(messages[0], `${DATA_PREFIX}hello echotest`);

        // {video:false} stops the echoed frames, {video:true} brings them back.
        const flowing = await framesIn(client, 1000);
        assert.ok(flowing >= 15, `echoed frames per second before the toggle: ${flowing}`);
        await echoMessage(sig, s, h, { video: false });
        await sleep(400); // frames already in flight
        const stopped = await framesIn(client, 1000);
        assert.ok(stopped <= 2, `frames per second with video:false: ${stopped}`);
        await echoMessage(sig, s, h, { video: true });
        await sleep(500);
        const resumed = await framesIn(client, 1000);
        assert.ok(resumed >= 10, `frames per second after video:true: ${resumed}`);

        // {bitrate} -> ack + ok; the plugin state shows it.
        await echoMessage(sig, s, h, { bitrate: 128000 });

        // handle_info during the call.
        const info = await handleInfo(gw, s, h);
        assert.equal(info.session_id, s);
        assert.equal(info.handle_id, h);
        assert.equal(info.plugin, ECHOTEST);
        assert.equal(info.opaque_id, "echotest-test");
        assert.equal(
          info.session_transport,
          kind === "ws" ? "janus.transport.websockets" : "janus.transport.http",
        );
        const ps = object(info.plugin_specific, "plugin_specific");
        assert.equal(ps.audio_active, true);
        assert.equal(ps.video_active, true);
        assert.equal(ps.bitrate, 128000);
        const flags = object(info.flags, "flags");
        assert.equal(flags.ready, true);
        assert.equal(flags.negotiated, true);
        assert.equal(flags["got-offer"], true);
        const webrtc = object(info.webrtc, "a webrtc object during a call");
        const ice = object(webrtc.ice, "webrtc.ice");
        const dtls = object(webrtc.dtls, "webrtc.dtls");
        assert.equal(ice.state, "ready");
        assert.equal(dtls["dtls-state"], "connected");
        const pair = String(ice["selected-pair"]);
        assert.match(pair, /127\.|::1/, `selected pair ${pair}`);
        assert.equal(flags["all-trickles"], true, "after completed");
        // Remote: the client's UDP candidates of the first bundled m-line, without the
        // "candidate:" prefix; those of mids 1 and 2 (bundled) and TCP ones are ignored.
        const remote = ice["remote-candidates"];
        assert.ok(Array.isArray(remote));
        const applied = call.candidates.filter((c) =>
          c.sdpMid === "0" && / udp /i.test(String(c.candidate))
        ).map((c) => String(c.candidate).replace(/^candidate:/, ""));
        assert.ok(applied.length > 0);
        assert.deepEqual([...remote].sort(), [...new Set(applied)].sort());
        const local = ice["local-candidates"];
        assert.ok(Array.isArray(local) && local.length > 0);
        assert.equal(new Set(local).size, local.length, `listed once: ${JSON.stringify(local)}`);
        for (const l of local) {
          assert.match(String(l), /^\S+ 1 udp \d+ \S+ \d+ typ host$/, "short form");
          const address = String(l).split(" ")[4] ?? "";
          assert.ok(isLoopbackAddress(address), `local candidate ${l}`);
        }

        // Renegotiation: a second offer on the same handle -> ack, then an event with a fresh
        // answer; media goes on. wrtc restarts ICE (new candidates trickled); the RTP engine
        // cannot (libdatachannel), so its renegotiation keeps the ICE credentials.
        const restart = engine === "wrtc";
        const offer2 = await client.offer({ iceRestart: restart });
        const reneg = await echoMessage(sig, s, h, { audio: true, video: true }, {
          type: "offer",
          sdp: offer2,
        });
        const answer2 = checkAnswer(reneg.event.msg.jsep);
        assert.notEqual(answer2, call.answer);
        const o1 = origin(call.answer);
        const o2 = origin(answer2);
        assert.equal(o2.id, o1.id, "same o= session id");
        assert.equal(o2.version, o1.version + 1n, `o= version ${o1.version} -> ${o2.version}`);
        if (restart) {
          assert.notEqual(iceUfrag(answer2), iceUfrag(call.answer), "new ICE credentials");
        } else {
          assert.equal(iceUfrag(answer2), iceUfrag(call.answer), "same ICE credentials");
        }
        await client.answer(answer2);
        if (restart) await trickleAll(sig, s, h, checkClientCandidates(await client.candidates()));
        await sleep(300);
        const after = await framesIn(client, 1000);
        assert.ok(after >= 10, `frames per second after renegotiation: ${after}`);
        assert.equal((await client.stats()).connectionState, "connected");

        // Exactly one media event per mid for the whole call (nothing stopped arriving).
        const mediaEvents = sig.events.filter((r) => r.msg.janus === "media");
        assert.deepEqual(mediaEvents.map((r) => r.msg), media.map((r) => r.msg));

        if (!restart) {
          // An ICE restart is refused with a clear error event; the call goes on.
          const transaction = txn("restart");
          const reply = await sig.request({
            janus: "message",
            transaction,
            session_id: s,
            handle_id: h,
            body: { audio: true, video: true },
            jsep: { type: "offer", sdp: await client.offer({ iceRestart: true }) },
          });
          assert.equal(reply.janus, "ack");
          const refused = await sig.take(
            "the refused restart",
            (m) => m.janus === "event" && m.transaction === transaction,
          );
          assert.deepEqual(object(refused.msg.plugindata, "plugindata").data, {
            echotest: "event",
            error_code: 414,
            error: "ICE restart is not supported by the rtp media engine",
          });
          const still = await framesIn(client, 1000);
          assert.ok(still >= 10, `frames per second after the refused restart: ${still}`);
        }

        // Hangup: success, then result:"done" (no transaction), then hangup "Janus API".
        const before = sig.seq;
        const hungUp = await expectSuccess(sig, { janus: "hangup", session_id: s, handle_id: h });
        const teardown = await takeTeardown(sig, s, h, "Janus API", before);
        if (kind === "ws") assert.ok(hungUp.seq < teardown.done.seq, "success comes first");
        await until("no peer left", () => Promise.resolve(gw.counts().peers === 0));
        const idle = await handleInfo(gw, s, h);
        assert.equal(object(idle.flags, "flags").ready, false);
        assert.equal(idle.webrtc, undefined, "no webrtc object once hung up");

        // The handle outlives the hangup: detach -> success + detached; destroy -> success.
        const beforeDetach = sig.seq;
        await expectSuccess(sig, { janus: "detach", session_id: s, handle_id: h });
        const detached = await sig.take("detached", (m) => m.janus === "detached");
        assert.deepEqual(detached.msg, { janus: "detached", session_id: s, sender: h });
        assert.deepEqual(sig.since(s, beforeDetach).map((r) => r.msg), [detached.msg]);
        await expectSuccess(sig, { janus: "destroy", session_id: s });
        assert.deepEqual(
          {
            sessions: gw.counts().sessions,
            handles: gw.counts().handles,
            peers: gw.counts().peers,
          },
          { sessions: 0, handles: 0, peers: 0 },
        );
        // deno-lint-ignore no-console
        console.log(
          `[${kind}] echoed frames/s: ${flowing} before, ${stopped} with video:false, ` +
            `${resumed} after video:true, ${after} after renegotiation; ` +
            `offer->answer ${call.timings.answerMs.toFixed(0)} ms, ` +
            `offer->webrtcup ${call.timings.webrtcupMs.toFixed(0)} ms, ` +
            `offer->media ${
              (Math.max(...media.map((r) => r.at)) - call.timings.sentAt).toFixed(0)
            } ms`,
        );
      } finally {
        await client.close();
        await sig.close();
      }
    },
  );
}
