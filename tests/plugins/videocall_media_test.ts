/**
 * VideoCall with real wrtc peers inside the test network namespace: Alice calls Bob, each
 * decodes the other's video (Bob sends the pattern mirrored, so a frame proves where it came
 * from: no echo) and hears the other's tone, the data channel carries text both ways, `set`
 * video false pauses what that side sends and true resumes it (on a keyframe), and the call
 * ends by a hangup from either side or a detach mid-call; every peer is released each time.
 * `set` `record` writes what each side sends into MJR files that Janus's `janus-pp-rec`
 * converts (ffprobe reads the recorded time, a decoded frame shows whose video it is); a
 * renegotiation from either side (`set` with an offer, relayed as `update`s) that stops and
 * restarts one side's video keeps the rest flowing.
 *
 * Run: `deno task test tests/plugins/videocall_media_test.ts`
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { httpClient, type JanusClient } from "../_helpers/janus_client.ts";
import type { TestGateway } from "../_helpers/gateway.ts";
import { ClientPeer, goertzel, waitUntil, type Wrtc, wrtcTest } from "../media/_client.ts";
import { ffprobe, janusPpRec, requireTool } from "../media/_mjr_tools.ts";
import {
  brief,
  CLOSE_PC,
  hangup,
  hangupCall,
  jsepOf,
  pluginCounts,
  REMOTE,
  result,
  settled,
  type TestJsep,
  videoCallGateway,
  VideoCallUser,
} from "./_videocall.ts";

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

      await hangupCall(b, "bob", a, "alice");
      await settled(gw, 2);
      closePeers(call);

      // Again, Alice hangs up this time.
      call = await connect(wrtc, a, b);
      await assertMediaBothWays(call);
      await hangupCall(a, "alice", b, "bob");
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

/** Mean luma of the left and right halves of the first video frame of `file` (ffmpeg). */
async function firstFrameLuma(file: string, width: number, height: number) {
  const out = await new Deno.Command("ffmpeg", {
    args: ["-v", "error", "-i", file, "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  let left = 0;
  let right = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = out.stdout[y * width + x] ?? 0;
      if (x < width / 2) left += v;
      else right += v;
    }
  }
  const n = (width / 2) * height;
  return { left: left / n, right: right / n };
}

wrtcTest(
  "videocall: set record writes what each side sends; janus-pp-rec converts it, ffprobe reads the recorded time",
  async (wrtc) => {
    await requireTool("janus-pp-rec", "janus-tools");
    await requireTool("ffprobe", "ffmpeg");
    const gw = await videoCallGateway();
    const clients: JanusClient[] = [];
    const dir = await Deno.makeTempDir({ prefix: "videocall-rec-" });
    let call: LiveCall | undefined;
    try {
      const [a, b] = await users(gw, clients) as [VideoCallUser, VideoCallUser];
      call = await connect(wrtc, a, b);
      await assertMediaBothWays(call);
      const started = performance.now();
      for (const [u, name] of [[a, "alice"], [b, "bob"]] as const) {
        assert.deepEqual(
          await u.ask({ request: "set", record: true, filename: join(dir, name) }),
          result({ event: "set" }),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 3000));
      for (const u of [a, b]) {
        assert.deepEqual(await u.ask({ request: "set", record: false }), result({ event: "set" }));
      }
      const recorded = (performance.now() - started) / 1000;
      // A stopped recording is closed: the files are complete before the call ends.
      for (const name of ["alice", "bob"]) {
        const webm = join(dir, `${name}.webm`);
        const opus = join(dir, `${name}.opus`);
        const v = await janusPpRec(join(dir, `${name}-video.mjr`), webm);
        assert.ok(v.success, v.log);
        const au = await janusPpRec(join(dir, `${name}-audio.mjr`), opus);
        assert.ok(au.success, au.log);
        const vp = await ffprobe(webm);
        const ap = await ffprobe(opus);
        assert.equal(vp.streams[0]?.codec_name, "vp8");
        assert.equal(ap.streams[0]?.codec_name, "opus");
        // Video starts on the keyframe the recording asks for: up to a few frames late.
        assert.ok(
          Math.abs(vp.duration - recorded) < 0.8,
          `${name} video ${vp.duration} of ${recorded} s`,
        );
        assert.ok(
          Math.abs(ap.duration - recorded) < 0.5,
          `${name} audio ${ap.duration} of ${recorded} s`,
        );
        // Each file holds what that side sends: Alice's pattern is bright left, Bob's right.
        const { width = 0, height = 0 } = vp.streams[0] ?? {};
        const luma = await firstFrameLuma(webm, width, height);
        if (name === "alice") {
          assert.ok(luma.left > luma.right + 50, `alice's: ${JSON.stringify(luma)}`);
        } else assert.ok(luma.right > luma.left + 50, `bob's: ${JSON.stringify(luma)}`);
      }
      await hangupCall(a, "alice", b, "bob", "drain");
      await settled(gw, 2);
    } finally {
      closePeers(call);
      await Promise.all(clients.map((c) => c.close()));
      await gw.stop();
      await Deno.remove(dir, { recursive: true });
    }
    assert.deepEqual(pluginCounts(gw), { sessions: 0, users: 0, calls: 0 });
  },
);

/**
 * `from` renegotiates (its PeerConnection's new offer in `set`): `to` gets `update` with an
 * offer and answers it in `set`, `from` gets `update` with the answer; no other event.
 */
async function renegotiate(
  from: { user: VideoCallUser; peer: ClientPeer },
  to: { user: VideoCallUser; peer: ClientPeer },
): Promise<void> {
  const offer: TestJsep = { type: "offer", sdp: await from.peer.offer() };
  assert.deepEqual(await from.user.ask({ request: "set" }, offer), result({ event: "set" }));
  const update = await to.user.next();
  assert.deepEqual(brief(update), { data: result({ event: "update" }), jsep: "offer" });
  await to.peer.pc.setRemoteDescription({ type: "offer", sdp: jsepOf(update).sdp });
  await to.peer.pc.setLocalDescription(await to.peer.pc.createAnswer());
  const answer: TestJsep = { type: "answer", sdp: to.peer.pc.localDescription?.sdp ?? "" };
  assert.deepEqual(await to.user.ask({ request: "set" }, answer), result({ event: "set" }));
  const answered = await from.user.next();
  assert.deepEqual(brief(answered), { data: result({ event: "update" }), jsep: "answer" });
  await from.peer.answer(jsepOf(answered).sdp);
}

wrtcTest(
  "videocall: renegotiation from either side is relayed; a side stopping and restarting its video keeps the rest flowing",
  async (wrtc) => {
    const gw = await videoCallGateway();
    const clients: JanusClient[] = [];
    let call: LiveCall | undefined;
    try {
      const [a, b] = await users(gw, clients) as [VideoCallUser, VideoCallUser];
      call = await connect(wrtc, a, b);
      await assertMediaBothWays(call);
      const alice = { user: a, peer: call.alice };
      const bob = { user: b, peer: call.bob };
      const video = call.alice.pc.getTransceivers().find((t) => t.receiver.track.kind === "video");
      assert.ok(video, "alice's video transceiver");

      // Alice stops sending video (recvonly): Bob's frames stop, Alice still gets his.
      video.direction = "recvonly";
      await renegotiate(alice, bob);
      await new Promise((resolve) => setTimeout(resolve, 700));
      const stopped = call.bob.videoFrames;
      const aliceBefore = call.alice.videoFrames;
      const bobAudio = await call.bob.packetsOf("0");
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.ok(call.bob.videoFrames - stopped <= 2, `bob got ${call.bob.videoFrames - stopped}`);
      assert.ok(call.alice.videoFrames - aliceBefore > 20, "bob's video to alice goes on");
      assert.ok((await call.bob.packetsOf("0")) - bobAudio > 50, "alice's audio to bob goes on");

      // She sends it again: Bob decodes her pattern again.
      video.direction = "sendrecv";
      await renegotiate(alice, bob);
      await waitUntil("bob decodes alice again", () => call!.bob.videoFrames > stopped + 20, 8000);
      assert.ok(call.bob.luma.left > call.bob.luma.right + 50, JSON.stringify(call.bob.luma));

      // Bob renegotiates (nothing changed): media goes on both ways.
      await renegotiate(bob, alice);
      const frames = { alice: call.alice.videoFrames, bob: call.bob.videoFrames };
      await waitUntil(
        "both decode after bob's renegotiation",
        () =>
          call!.alice.videoFrames > frames.alice + 20 && call!.bob.videoFrames > frames.bob + 20,
        8000,
      );
      call.alice.audio = [];
      call.bob.audio = [];
      await assertMediaBothWays(call);
      assert.equal(gw.counts().peers, 2);
      await a.quiet(200);
      await b.quiet(200);
      await hangupCall(b, "bob", a, "alice", "drain");
      await settled(gw, 2);
    } finally {
      closePeers(call);
      await Promise.all(clients.map((c) => c.close()));
      await gw.stop();
    }
    assert.deepEqual(pluginCounts(gw), { sessions: 0, users: 0, calls: 0 });
  },
);
