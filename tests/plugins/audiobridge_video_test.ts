/**
 * A video m-line in an AudioBridge `join` offer: the reference answers it rejected (port 0,
 * payload 0, `a=inactive`, out of BUNDLE) and keeps the audio. Asked of Janus 1.1.2 with
 * audio+video, video+audio and video-only offers; the same here with wrtc clients, and the
 * audio of an audio+video participant is mixed (two participants hear each other's tone).
 * Where we differ: a video m-line offered first is rejected with port 0 too (the reference
 * keeps it at port 9, `a=inactive`, as its BUNDLE transport), and a video-only offer gets an
 * answer with nothing live (the reference's inactive m-line still sets up ICE and DTLS).
 * Runs in the test network namespace.
 *
 * @module
 */
import assert from "node:assert/strict";
import { splitSdp } from "../../core/media/sdp.ts";
import type { WrtcPeerConnection } from "../../core/media/wrtc.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { wsClient } from "../_helpers/janus_client.ts";
import { waitUntil, type Wrtc, wrtcTest } from "../media/_client.ts";
import { AbHandle, audioBridgeCounts, startAudioBridgeGateway } from "./_audiobridge.ts";
import { ToneClient } from "./_audiobridge_tone.ts";

/** A tone is heard at over a hundredth of its sent power (8000 peak: 1.6e7). */
const HEARD = 1.6e5;

/** The reference's rejected video m-line (its `c=` names its own address). */
const rejectedVideo = (mid: string) => [
  "m=video 0 UDP/TLS/RTP/SAVPF 0",
  "c=IN IP4 0.0.0.0",
  "a=inactive",
  `a=mid:${mid}`,
];

/** A live Opus audio m-line: a port, only Opus, sendrecv. */
function assertLiveAudio(section: readonly string[] | undefined, mid: string): void {
  assert.ok(section, "an audio m-line");
  assert.match(section[0] ?? "", /^m=audio [1-9]\d* UDP\/TLS\/RTP\/SAVPF 111$/);
  assert.ok(section.includes(`a=mid:${mid}`), section.join("\n"));
  assert.ok(section.includes("a=sendrecv"), section.join("\n"));
  assert.ok(section.includes("a=rtpmap:111 opus/48000/2"), section.join("\n"));
}

/** A bare client offering these kinds in this order (no media sent). */
async function bareOffer(wrtc: Wrtc, kinds: readonly ("audio" | "video")[]) {
  const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
  for (const k of kinds) pc.addTransceiver(k, { direction: "sendrecv" });
  await pc.setLocalDescription(await pc.createOffer());
  await waitUntil("ICE gathering", () => pc.iceGatheringState === "complete", 3000)
    .catch(() => {});
  return { pc, sdp: pc.localDescription?.sdp ?? "" };
}

/** Joins room 1234 with `sdp`; asserts `joined` and an answer, resolves the answer. */
async function join(h: AbHandle, sdp: string, display: string): Promise<string> {
  const r = await h.ask({ request: "join", room: 1234, display }, { type: "offer", sdp });
  assert.equal(r.data.audiobridge, "joined", JSON.stringify(r.data));
  assert.equal(r.jsep?.type, "answer");
  return (r.jsep as JsonObject).sdp as string;
}

wrtcTest(
  "audiobridge: a video m-line in a join offer is rejected as the reference (port 0, " +
    "inactive, out of BUNDLE), the audio kept and mixed; video first and video only too",
  async (wrtc) => {
    await using gw = await startAudioBridgeGateway();
    const c = await wsClient(gw.wsUrl);
    const a = new ToneClient(wrtc, 440);
    const b = new ToneClient(wrtc, 660);
    const bare: WrtcPeerConnection[] = [];
    try {
      // Audio then video, as janus.js offers when a page asks for both.
      a.pc.addTransceiver("video", { direction: "sendrecv" });
      const ha = await AbHandle.open(c);
      const answerA = await join(ha, await a.offer(), "a");
      const split = splitSdp(answerA);
      assert.ok(split.session.includes("a=group:BUNDLE 0"), split.session.join("\n"));
      assertLiveAudio(split.media[0], "0");
      assert.deepEqual(split.media[1], rejectedVideo("1"));
      await a.pc.setRemoteDescription({ type: "answer", sdp: answerA });
      const hb = await AbHandle.open(c);
      const answerB = await join(hb, await b.offer(), "b");
      await b.pc.setRemoteDescription({ type: "answer", sdp: answerB });
      // The audio of the audio+video participant is mixed both ways.
      await waitUntil(
        "each hears the other's tone",
        () => a.powers([660])[660]! > HEARD && b.powers([440])[440]! > HEARD,
        20000,
      ).catch(() => {
        throw new Error(
          `a hears 660 Hz at ${Math.round(a.powers([660])[660]!)}, ` +
            `b hears 440 Hz at ${Math.round(b.powers([440])[440]!)}`,
        );
      });

      // Video first: rejected the same way (the reference keeps it as BUNDLE transport).
      const first = await bareOffer(wrtc, ["video", "audio"]);
      bare.push(first.pc);
      const hc = await AbHandle.open(c);
      const answerC = await join(hc, first.sdp, "c");
      const splitC = splitSdp(answerC);
      assert.deepEqual(splitC.media[0], rejectedVideo("0"));
      assertLiveAudio(splitC.media[1], "1");
      assert.ok(splitC.session.includes("a=group:BUNDLE 1"), splitC.session.join("\n"));
      await first.pc.setRemoteDescription({ type: "answer", sdp: answerC });

      // Video only: joined (the reference joins too), nothing live in the answer.
      const only = await bareOffer(wrtc, ["video"]);
      bare.push(only.pc);
      const hd = await AbHandle.open(c);
      const answerD = await join(hd, only.sdp, "d");
      const splitD = splitSdp(answerD);
      assert.deepEqual(splitD.media, [rejectedVideo("0")]);
      assert.ok(!splitD.session.some((l) => l.startsWith("a=group:BUNDLE")));
      await only.pc.setRemoteDescription({ type: "answer", sdp: answerD });

      const listed = await ha.sync({ request: "listparticipants", room: 1234 });
      const names = (listed.participants as JsonObject[]).map((p) => p.display).sort();
      assert.deepEqual(names, ["a", "b", "c", "d"]);
      for (const h of [ha, hb, hc, hd]) await h.close();
    } finally {
      a.close();
      b.close();
      for (const pc of bare) pc.close();
      await c.close();
    }
    await waitUntil("handles gone", () => gw.counts().handles === 0);
    assert.deepEqual(audioBridgeCounts(gw), { rooms: 1, participants: 0, sessions: 0 });
  },
);
