/**
 * VideoCall with real wrtc peers inside the test network namespace: Alice calls Bob, each
 * decodes the other's video (Bob sends the pattern mirrored, so a frame proves where it came
 * from: no echo) and hears the other's tone, the data channel carries text both ways, `set`
 * video false pauses what that side sends and true resumes it (on a keyframe), and the call
 * ends by a hangup from either side or a detach mid-call; every peer is released each time.
 *
 * Run: `deno task test tests/plugins/videocall_media_test.ts`
 */
import assert from "node:assert/strict";
import { httpClient, type JanusClient } from "../_helpers/janus_client.ts";
import type { TestGateway } from "../_helpers/gateway.ts";
import { ClientPeer, goertzel, waitUntil, type Wrtc, wrtcTest } from "../media/_client.ts";
import {
  brief,
  hangup,
  jsepOf,
  pluginCounts,
  result,
  settled,
  type TestJsep,
  videoCallGateway,
  VideoCallUser,
} from "./_videocall.ts";

const REMOTE = "Remote WebRTC hangup";
const CLOSE_PC = { janus: "hangup", reason: "Close PC" };
/** Core events that come while media flows, between the ones whose order is checked. */
const MEDIA_EVENTS = new Set(["webrtcup", "media", "slowlink", "trickle"]);

/** The local SDP of `peer` once ICE gathering completed. */
async function gathered(peer: ClientPeer): Promise<string> {
  await waitUntil("ICE gathering", () => peer.pc.iceGatheringState === "complete", 5000);
  return peer.pc.localDescription?.sdp ?? "";
}

/** A call set up with real peers: Alice offers, Bob answers with media of his own. */
interface LiveCall {
  alice: ClientPeer;
  bob: ClientPeer;
}

async function connect(
  wrtc: Wrtc,
  a: VideoCallUser,
  b: VideoCallUser,
): Promise<LiveCall> {
  const alice = new ClientPeer(wrtc, { audio: true, video: true, data: "JanusDataChannel" });
  // Bob's pattern is mirrored: what Alice decodes is his, not her own.
  const bob = new ClientPeer(wrtc, {
    audio: true,
    video: true,
    data: "JanusDataChannel",
    answers: true,
    invert: true,
  });
  await alice.offer();
  const offer: TestJsep = { type: "offer", sdp: await gathered(alice) };
  assert.deepEqual(
    await a.ask({ request: "call", username: "bob" }, offer),
    result({ event: "calling" }),
  );
  const incoming = await b.next();
  assert.deepEqual(brief(incoming), {
    data: result({ event: "incomingcall", username: "alice" }),
    jsep: "offer",
  });
  const theirs = jsepOf(incoming);
  await bob.pc.setRemoteDescription({ type: "offer", sdp: theirs.sdp });
  await bob.pc.setLocalDescription(await bob.pc.createAnswer());
  const answer: TestJsep = { type: "answer", sdp: await gathered(bob) };
  assert.deepEqual(await b.ask({ request: "accept" }, answer), result({ event: "accepted" }));
  const accepted = await a.next();
  assert.deepEqual(brief(accepted), {
    data: result({ event: "accepted", username: "bob" }),
    jsep: "answer",
  });
  await alice.answer(jsepOf(accepted).sdp);
  return { alice, bob };
}

/** Both sides decode the other's pattern and hear a 440 Hz tone. */
async function assertMediaBothWays(call: LiveCall): Promise<void> {
  const { alice, bob } = call;
  await waitUntil("both decode video", () => alice.videoFrames > 10 && bob.videoFrames > 10, 15000);
  // Bob sends the mirrored pattern (bright right half), Alice the plain one.
  assert.ok(
    alice.luma.right > alice.luma.left + 50,
    `alice sees bob: ${JSON.stringify(alice.luma)}`,
  );
  assert.ok(bob.luma.left > bob.luma.right + 50, `bob sees alice: ${JSON.stringify(bob.luma)}`);
  await waitUntil("both hear audio", () => alice.audio.length > 24000 && bob.audio.length > 24000);
  for (const [who, peer] of [["alice", alice], ["bob", bob]] as const) {
    const tail = peer.audio.slice(-24000);
    const tone = goertzel(tail, peer.audioRate, 440);
    const off = goertzel(tail, peer.audioRate, 1000);
    assert.ok(tone > 10 * off, `${who} hears the 440 Hz tone (${tone} vs ${off})`);
  }
}

function closePeers(call: LiveCall | undefined): void {
  call?.alice.close();
  call?.bob.close();
}

async function users(gw: TestGateway, clients: JanusClient[]): Promise<VideoCallUser[]> {
  const out: VideoCallUser[] = [];
  for (const name of ["alice", "bob"]) {
    const client = httpClient(gw.httpUrl);
    clients.push(client);
    const u = await VideoCallUser.open(client);
    u.skip = MEDIA_EVENTS;
    assert.deepEqual(
      await u.ask({ request: "register", username: name }),
      result({ event: "registered", username: name }),
    );
    out.push(u);
  }
  return out;
}

wrtcTest(
  "videocall: two peers decode each other's video and audio, chat both ways, set video pauses one way, hangups from each side",
  async (wrtc) => {
    const gw = await videoCallGateway();
    const clients: JanusClient[] = [];
    let call: LiveCall | undefined;
    try {
      const [a, b] = await users(gw, clients) as [VideoCallUser, VideoCallUser];
      call = await connect(wrtc, a, b);
      await assertMediaBothWays(call);
      const { alice, bob } = call;
      await waitUntil(
        "data channels open",
        () => alice.channel?.readyState === "open" && bob.channel?.readyState === "open",
      );
      alice.channel!.send("hello bob");
      bob.channel!.send("hello alice");
      await waitUntil(
        "text both ways",
        () => bob.messages.includes("hello bob") && alice.messages.includes("hello alice"),
      );
      assert.equal(alice.messages.includes("hello bob"), false, "no echo of Alice's own text");

      // Alice stops sending video: Bob's frames stop, Alice still gets Bob's.
      assert.deepEqual(await a.ask({ request: "set", video: false }), result({ event: "set" }));
      await new Promise((resolve) => setTimeout(resolve, 500));
      const paused = bob.videoFrames;
      const aliceBefore = alice.videoFrames;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.ok(bob.videoFrames - paused <= 2, `bob got ${bob.videoFrames - paused} frames paused`);
      assert.ok(alice.videoFrames - aliceBefore > 20, "bob's video to alice goes on");
      assert.deepEqual(await a.ask({ request: "set", video: true }), result({ event: "set" }));
      await waitUntil("bob decodes again", () => bob.videoFrames > paused + 10, 5000);

      assert.deepEqual(await b.briefsOf({ request: "hangup" }, undefined, 3), [
        { tx: true, data: hangup("bob", "Explicit hangup") },
        { data: hangup("alice", REMOTE) },
        CLOSE_PC,
      ]);
      assert.deepEqual(await a.briefs(3), [
        { data: hangup("bob", "We did the hangup") },
        { data: hangup("bob", REMOTE) },
        CLOSE_PC,
      ]);
      await settled(gw, 2);
      closePeers(call);

      // Again, Alice hangs up this time.
      call = await connect(wrtc, a, b);
      await assertMediaBothWays(call);
      assert.deepEqual(await a.briefsOf({ request: "hangup" }, undefined, 3), [
        { tx: true, data: hangup("alice", "Explicit hangup") },
        { data: hangup("bob", REMOTE) },
        CLOSE_PC,
      ]);
      assert.deepEqual(await b.briefs(3), [
        { data: hangup("alice", "We did the hangup") },
        { data: hangup("alice", REMOTE) },
        CLOSE_PC,
      ]);
      await settled(gw, 2);
    } finally {
      closePeers(call);
      await Promise.all(clients.map((c) => c.close()));
      await gw.stop();
    }
    assert.deepEqual(pluginCounts(gw), { sessions: 0, users: 0, calls: 0 });
  },
);

wrtcTest(
  "videocall: the callee detaching mid-call ends the caller's PeerConnection",
  async (wrtc) => {
    const gw = await videoCallGateway();
    const clients: JanusClient[] = [];
    let call: LiveCall | undefined;
    try {
      const [a, b] = await users(gw, clients) as [VideoCallUser, VideoCallUser];
      call = await connect(wrtc, a, b);
      await assertMediaBothWays(call);
      assert.equal((await b.detach()).janus, "success");
      assert.deepEqual(await a.briefs(2), [{ data: hangup("bob", REMOTE) }, CLOSE_PC]);
      await settled(gw, 1);
      // The caller's client sees its PeerConnection end.
      await waitUntil(
        "alice's PeerConnection ends",
        () => ["closed", "failed", "disconnected"].includes(call!.alice.pc.connectionState),
        15000,
      );
    } finally {
      closePeers(call);
      await Promise.all(clients.map((c) => c.close()));
      await gw.stop();
    }
    assert.deepEqual(pluginCounts(gw), { sessions: 0, users: 0, calls: 0 });
  },
);
