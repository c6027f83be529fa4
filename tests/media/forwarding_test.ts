/**
 * Per-stream forwarding in the wrtc engine, against real wrtc client peers inside the network
 * namespace: one m-line of a publisher with two video streams reaches exactly one m-line of a
 * subscriber, whose mids are known before its offer; pause, resume, switch and stop act on
 * that m-line only (decoded frames and RTP packet counts show it); m-lines added later keep
 * their reserved mids through renegotiation, a data channel included.
 */
import assert from "node:assert/strict";
import { createMediaEngine } from "../../core/media/engine.ts";
import type { Peer, PeerListener } from "../../core/media/types.ts";
import { sectionMids } from "../../core/media/sdp.ts";
import { ClientPeer, waitUntil, wrtcTest } from "./_client.ts";

function listener(state: { connected: number }): PeerListener {
  return { onConnected: () => void state.connected++ };
}

/** Offers from `client`, answers from `peer`, trickling both ways. */
async function answerFrom(client: ClientPeer, peer: Peer): Promise<void> {
  client.trickleTo((c) => peer.addRemoteCandidate(c));
  const offer = await client.offer();
  await client.answer(await peer.acceptOffer(offer));
}

/** Applies our `offer` to `client` and its answer back to `peer`. */
async function offerTo(peer: Peer, client: ClientPeer, offer: string): Promise<void> {
  await client.pc.setRemoteDescription({ type: "offer", sdp: offer });
  const answer = await client.pc.createAnswer();
  await client.pc.setLocalDescription(answer);
  await peer.acceptAnswer(answer.sdp);
}

/** Frames decoded on `mid` during `ms` (after letting frames in flight drain). */
async function framesDuring(client: ClientPeer, mid: string, ms: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 300));
  const before = client.framesOf(mid);
  await new Promise((r) => setTimeout(r, ms));
  return client.framesOf(mid) - before;
}

async function packetsDuring(client: ClientPeer, mid: string, ms: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 300));
  const before = await client.packetsOf(mid);
  await new Promise((r) => setTimeout(r, ms));
  return (await client.packetsOf(mid)) - before;
}

wrtcTest("forward: one stream per m-line; pause, resume, switch, stop, add", async (wrtc) => {
  const engine = await createMediaEngine({ workers: 1 });
  const publisher = new ClientPeer(wrtc, { audio: true, video: true, videoStreams: 2 });
  const subscriber = new ClientPeer(wrtc, {});
  try {
    const pubState = { connected: 0 };
    const pub = await engine.createPeer({ affinity: "r", listener: listener(pubState) });
    await answerFrom(publisher, pub);
    await waitUntil("publisher connected", () => pubState.connected > 0);
    const subState = { connected: 0 };
    const sub = await engine.createPeer({ affinity: "r", listener: listener(subState) });

    // Only the second video stream (pattern mirrored) and the audio; mids known at once.
    assert.equal(await pub.forward({ to: sub, fromMid: "2" }), "0");
    assert.equal(await pub.forward({ to: sub, fromMid: "0" }), "1");
    const offer = await sub.createOffer();
    assert.deepEqual(sectionMids(offer), ["0", "1"]);
    assert.match(offer, /m=video [^\r]*\r\n(?:[^m][^\r]*\r\n)*a=mid:0\r\n/);
    subscriber.trickleTo((c) => sub.addRemoteCandidate(c));
    await offerTo(sub, subscriber, offer);
    await waitUntil("subscriber connected", () => subState.connected > 0);
    await waitUntil("frames of stream 2", () => subscriber.framesOf("0") > 10, 15000);
    const seen = subscriber.byMid.get("0");
    assert.ok(seen && seen.right > seen.left + 60, `mirrored pattern: ${JSON.stringify(seen)}`);
    assert.equal(subscriber.byMid.size, 1, "one video m-line only");

    // Pause the video m-line: its frames stop, the audio keeps flowing.
    await pub.setForwarding({ to: sub, toMid: "0", active: false });
    assert.ok((await framesDuring(subscriber, "0", 800)) <= 2, "paused video stops");
    assert.ok((await packetsDuring(subscriber, "1", 500)) > 5, "audio goes on");
    await pub.setForwarding({ to: sub, toMid: "0", active: true });
    assert.ok((await framesDuring(subscriber, "0", 800)) > 5, "resumed video flows");

    // Switch m-line 0 to the first video stream: same mid, the other pattern.
    assert.equal(await pub.forward({ to: sub, fromMid: "1", toMid: "0" }), "0");
    await waitUntil("switched pattern", () => {
      const m = subscriber.byMid.get("0");
      return m !== undefined && m.left > m.right + 60;
    }, 10000);

    // Stop the audio: its packets stop; the m-line stays free for the next stream of its kind.
    await pub.stopForward({ to: sub, toMid: "1" });
    assert.ok((await packetsDuring(subscriber, "1", 800)) <= 2, "stopped audio");
    await pub.stopForward({ to: sub, toMid: "1" }); // idempotent
    assert.equal(await pub.forward({ to: sub, fromMid: "0" }), "1", "free m-line reused");
    await assert.rejects(pub.forward({ to: sub, fromMid: "2", toMid: "1" }), /not video/);
    await assert.rejects(pub.forward({ to: sub, fromMid: "9" }), /No m-line 9/);
    await assert.rejects(pub.setForwarding({ to: sub, toMid: "7", active: true }), /No forward/);

    // A new m-line while connected: reserved mid "2", kept through the renegotiation (with a
    // data channel added in the same offer).
    assert.equal(await pub.forward({ to: sub, fromMid: "2" }), "2");
    const reoffer = await sub.createOffer({ data: true });
    const mids = sectionMids(reoffer);
    assert.deepEqual(mids.slice(0, 3), ["0", "1", "2"]);
    assert.equal(new Set(mids).size, mids.length, `unique mids: ${mids.join(",")}`);
    await offerTo(sub, subscriber, reoffer);
    await waitUntil("frames on the new m-line", () => subscriber.framesOf("2") > 10, 15000);
    const added = subscriber.byMid.get("2");
    assert.ok(added && added.right > added.left + 60, JSON.stringify(added));
    assert.ok((await framesDuring(subscriber, "0", 500)) > 3, "m-line 0 still flows");

    // The publisher goes: everything it fed stops; the subscriber lives on.
    await pub.close();
    assert.ok((await framesDuring(subscriber, "2", 800)) <= 2);
    assert.equal(engine.counts().peers, 1);
    await sub.close();
  } finally {
    publisher.close();
    subscriber.close();
    await engine.close();
    assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
  }
});

wrtcTest("forward: a paused forward starts paused; closing the target is clean", async (wrtc) => {
  const engine = await createMediaEngine({ workers: 1 });
  const publisher = new ClientPeer(wrtc, { video: true });
  const subscriber = new ClientPeer(wrtc, {});
  try {
    const state = { connected: 0 };
    const pub = await engine.createPeer({ affinity: "r", listener: listener(state) });
    await answerFrom(publisher, pub);
    await waitUntil("publisher connected", () => state.connected > 0);
    const subState = { connected: 0 };
    const sub = await engine.createPeer({ affinity: "r", listener: listener(subState) });
    assert.equal(await pub.forward({ to: sub, fromMid: "0", active: false }), "0");
    subscriber.trickleTo((c) => sub.addRemoteCandidate(c));
    await offerTo(sub, subscriber, await sub.createOffer());
    await waitUntil("subscriber connected", () => subState.connected > 0);
    assert.ok((await framesDuring(subscriber, "0", 800)) === 0, "nothing while paused");
    await pub.setForwarding({ to: sub, toMid: "0", active: true });
    await waitUntil("frames after resume", () => subscriber.framesOf("0") > 5, 10000);
    await sub.close();
    await assert.rejects(
      pub.forward({ to: sub, fromMid: "0" }),
      /Unknown peer|closed/,
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(engine.counts().peers, 1);
    await pub.close();
  } finally {
    publisher.close();
    subscriber.close();
    await engine.close();
  }
});
