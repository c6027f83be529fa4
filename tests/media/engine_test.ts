/**
 * The wrtc media engine against real wrtc client peers on loopback, inside a private network
 * namespace. Every test goes through `wrtcTest`, which checks the namespace, loads wrtc in
 * this process for the client side and ends the isolate through `Deno.exit` (`_client.ts`).
 */
import assert from "node:assert/strict";
import { createMediaEngine } from "../../core/media/engine.ts";
import type {
  MediaEngine,
  MediaStateChange,
  Peer,
  PeerCloseReason,
  PeerListener,
} from "../../core/media/types.ts";
import {
  allLoopback,
  ClientPeer,
  goertzel,
  sdpCandidateAddresses,
  waitUntil,
  wrtcTest,
} from "./_client.ts";
import { joinSdp, mediaKind, splitSdp } from "../../core/media/sdp.ts";

/** Records what a peer tells its listener. */
class Recorder {
  connected = 0;
  media: MediaStateChange[] = [];
  closed: PeerCloseReason[] = [];
  data: { label: string; data: string | Uint8Array }[] = [];
  candidates = 0;
  endOfCandidates = false;
  onData: ((m: { label: string; data: string | Uint8Array }) => void) | undefined;

  get listener(): PeerListener {
    return {
      onConnected: () => void this.connected++,
      onMedia: (c) => void this.media.push(c),
      onClosed: (r) => void this.closed.push(r),
      onLocalCandidate: (c) => {
        if (c) this.candidates++;
        else this.endOfCandidates = true;
      },
      onData: (m) => {
        this.data.push(m);
        this.onData?.(m);
      },
    };
  }

  receiving(mid: string): boolean {
    return this.media.findLast((m) => m.mid === mid)?.receiving ?? false;
  }
}

/** Offer from `client`, answer from `peer`, trickle both ways; resolves when connected. */
async function connect(client: ClientPeer, peer: Peer, events: Recorder): Promise<string> {
  client.trickleTo((c) => peer.addRemoteCandidate(c));
  const offer = await client.offer();
  const answer = await peer.acceptOffer(offer);
  await client.answer(answer);
  await waitUntil("onConnected", () => events.connected > 0);
  return answer;
}

async function closeAll(engine: MediaEngine, clients: ClientPeer[]): Promise<void> {
  for (const c of clients) c.close();
  await engine.close();
  assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
}

wrtcTest("echo peer: answer, onConnected, onMedia, echoed video and 440 Hz audio", async (wrtc) => {
  const engine = await createMediaEngine({ workers: 1 });
  const events = new Recorder();
  const peer = await engine.createPeer({ listener: events.listener });
  events.onData = (m) => void peer.sendData({ label: m.label, data: m.data }).catch(() => {});
  const client = new ClientPeer(wrtc, { audio: true, video: true, data: "chat" });
  try {
    const answer = await connect(client, peer, events);
    // Echo: each m-line forwarded to the peer itself.
    assert.equal(await peer.forward({ to: peer, fromMid: "0" }), "0");
    assert.equal(await peer.forward({ to: peer, fromMid: "1", toMid: "1" }), "1");
    await assert.rejects(peer.forward({ to: peer, fromMid: "0", toMid: "1" }), /same m-line/);
    const addresses = sdpCandidateAddresses(answer);
    assert.ok(addresses.length > 0, "the answer carries candidates");
    assert.ok(allLoopback(addresses), `non-loopback candidate in ${addresses.join(",")}`);
    assert.match(answer, /a=end-of-candidates/);
    assert.equal(answer.match(/a=sendrecv/g)?.length, 3, "audio, video and data answered sendrecv");
    assert.ok(events.endOfCandidates && events.candidates > 0, "onLocalCandidate ran");
    assert.equal(events.connected, 1);

    await waitUntil("media on both mids", () => events.receiving("0") && events.receiving("1"));
    assert.deepEqual(events.media.find((m) => m.mid === "0"), {
      mid: "0",
      kind: "audio",
      receiving: true,
    });
    await waitUntil("echoed video frames", () => client.videoFrames >= 20);
    assert.equal(client.luma.width, 320);
    assert.ok(client.luma.left > 150 && client.luma.right < 100, JSON.stringify(client.luma));
    await waitUntil("echoed audio", () => client.audio.length >= client.audioRate);
    const tail = client.audio.slice(-client.audioRate / 2);
    const tone = goertzel(tail, client.audioRate, 440);
    const other = goertzel(tail, client.audioRate, 1000);
    assert.ok(tone > 50 * other && tone > 1000, `440 Hz ${tone} vs 1 kHz ${other}`);

    await waitUntil("data channel open", () => client.channel?.readyState === "open");
    client.channel?.send("ping");
    client.channel?.send(new Uint8Array([1, 2, 3]));
    await waitUntil("data echoed", () => client.messages.length >= 2);
    assert.equal(client.messages[0], "ping");
    assert.deepEqual(client.messages[1], new Uint8Array([1, 2, 3]));
    assert.equal(events.data[0]?.label, "chat");

    const info = await peer.info();
    assert.equal(info.connectionState, "connected");
    assert.equal(info.dtlsState, "connected");
    assert.match(info.selectedPair ?? "", /127\.|::1/);
    const mids = info.stats.mids as Record<
      string,
      { inboundPackets: number; outboundPackets: number }
    >;
    assert.ok((mids["1"]?.inboundPackets ?? 0) > 0 && (mids["1"]?.outboundPackets ?? 0) > 0);

    await peer.setForwarding({ to: peer, toMid: "1", active: false });
    const framesBefore = client.videoFrames;
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.ok(client.videoFrames - framesBefore < 5, "video echo stopped");
    await peer.setForwarding({ to: peer, toMid: "1", active: true });
    await waitUntil("video echo resumed", () => client.videoFrames > framesBefore + 10);

    client.stopFeeding();
    await waitUntil("receiving:false", () => !events.receiving("0") && !events.receiving("1"));
    client.close();
    await waitUntil("onClosed", () => events.closed.length > 0);
    assert.deepEqual(events.closed, ["DTLS alert"]);
    assert.equal(engine.counts().peers, 0);
    await peer.close(); // idempotent after a remote close
  } finally {
    await closeAll(engine, [client]);
  }
});

wrtcTest("an m-line wrtc cannot decode (H264 only) is rejected with port 0", async (wrtc) => {
  const engine = await createMediaEngine({ workers: 1 });
  const peer = await engine.createPeer({ listener: {} });
  const client = new ClientPeer(wrtc, { audio: true, video: true });
  try {
    const offer = await client.offer();
    const split = splitSdp(offer);
    split.media = split.media.map((section) => {
      if (mediaKind(section) !== "video") return section;
      const kept = section.filter((l) => !/^a=(rtpmap|rtcp-fb|fmtp|ssrc-group):/.test(l));
      kept[0] = (kept[0] ?? "").replace(/^(m=video \d+ \S+) .*$/, "$1 102");
      return [...kept, "a=rtpmap:102 H264/90000", "a=fmtp:102 packetization-mode=1"];
    });
    const h264 = joinSdp(split);
    const answer = await peer.acceptOffer(h264);
    assert.match(answer, /m=video 0 /);
    assert.match(answer, /m=audio [1-9]\d* /);
  } finally {
    await peer.close();
    await closeAll(engine, [client]);
  }
});

/** Video bytes the client received per second over `ms`. */
async function videoBitrate(client: ClientPeer, ms: number): Promise<number> {
  const bytes = async () => {
    let total = 0;
    (await client.pc.getStats()).forEach((value) => {
      const r = value as { type: string; kind?: string; bytesReceived?: number };
      if (r.type === "inbound-rtp" && r.kind === "video") total += r.bytesReceived ?? 0;
    });
    return total;
  };
  const before = await bytes();
  await new Promise((r) => setTimeout(r, ms));
  return ((await bytes()) - before) * 8 * 1000 / ms;
}

wrtcTest("setBitrateCap lowers what a live echo call sends back", async (wrtc) => {
  const engine = await createMediaEngine({ workers: 1 });
  const events = new Recorder();
  const peer = await engine.createPeer({ listener: events.listener });
  const client = new ClientPeer(wrtc, { audio: true, video: true, noise: true });
  try {
    await connect(client, peer, events);
    for (const mid of ["0", "1"]) await peer.forward({ to: peer, fromMid: mid });
    await waitUntil("echoed video frames", () => client.videoFrames >= 20);
    await new Promise((r) => setTimeout(r, 1500));
    const free = await videoBitrate(client, 2000);
    await peer.setBitrateCap(40_000);
    await new Promise((r) => setTimeout(r, 2000));
    // The encoder converges on the cap in a few seconds (slower on a loaded machine).
    let capped = await videoBitrate(client, 2000);
    for (let i = 0; i < 3 && capped >= 60_000; i++) capped = await videoBitrate(client, 2000);
    assert.ok(
      capped < 60_000,
      `capped echo at ${capped.toFixed(0)} bit/s (uncapped ${free.toFixed(0)})`,
    );
    assert.ok(
      capped < free / 2,
      `capped ${capped.toFixed(0)} vs uncapped ${free.toFixed(0)} bit/s`,
    );
    // deno-lint-ignore no-console
    console.log(
      `echo bitrate ${free.toFixed(0)} -> ${capped.toFixed(0)} bit/s under a 40 kbit/s cap`,
    );
    const packets = await client.packetsOf("1");
    await new Promise((r) => setTimeout(r, 2000));
    assert.ok((await client.packetsOf("1")) > packets + 4, "video still flows under the cap");
  } finally {
    await peer.close();
    await closeAll(engine, [client]);
  }
});

wrtcTest("rtpPortRange binds every candidate of the answer inside the range", async (wrtc) => {
  const engine = await createMediaEngine({ workers: 1, rtpPortRange: { min: 42000, max: 42100 } });
  const peer = await engine.createPeer({ listener: {} });
  const client = new ClientPeer(wrtc, { audio: true, video: true });
  try {
    const answer = await peer.acceptOffer(await client.offer());
    const ports = [...answer.matchAll(/^a=candidate:\S+ \d+ \S+ \d+ \S+ (\d+) typ/gm)]
      .map((m) => Number(m[1]));
    assert.ok(ports.length > 0, "the answer has candidates");
    for (const port of ports) assert.ok(port >= 42000 && port <= 42100, `port ${port}`);
  } finally {
    await peer.close();
    await closeAll(engine, [client]);
  }
});

wrtcTest(
  "a killed worker ends its peers with Worker gone; new peers get a new worker",
  async (wrtc) => {
    const engine = await createMediaEngine({ workers: 1 });
    const clients: ClientPeer[] = [];
    try {
      const events = new Recorder();
      const peer = await engine.createPeer({ listener: events.listener });
      const first = new ClientPeer(wrtc, { audio: true });
      clients.push(first);
      await connect(first, peer, events);
      const pid = engine.workerPidOf?.(peer);
      assert.ok(pid !== undefined);
      Deno.kill(pid, "SIGKILL");
      await waitUntil("Worker gone", () => events.closed.length > 0);
      assert.deepEqual(events.closed, ["Worker gone"]);
      assert.equal(engine.counts().peers, 0);
      await assert.rejects(peer.info());

      const again = new Recorder();
      const second = await engine.createPeer({ listener: again.listener });
      const client = new ClientPeer(wrtc, { audio: true });
      clients.push(client);
      await connect(client, second, again);
      assert.notEqual(engine.workerPidOf?.(second), pid);
      await second.close();
      assert.equal(engine.counts().peers, 0);
    } finally {
      await closeAll(engine, clients);
    }
  },
);

wrtcTest("peers with the same affinity key share a worker", async () => {
  const engine = await createMediaEngine({ workers: 2 });
  try {
    assert.equal(engine.workerPids?.().length, 2);
    const a1 = await engine.createPeer({ affinity: "room-a", listener: {} });
    // What the workers reported: wrtc decodes, has no RTP access, and negotiates Opus and VP8.
    const capabilities = engine.capabilities?.();
    assert.deepEqual([capabilities?.decodes, capabilities?.rtp], [true, false]);
    assert.ok(capabilities?.codecs.audio.includes("opus"), JSON.stringify(capabilities));
    assert.ok(capabilities?.codecs.video.includes("vp8"), JSON.stringify(capabilities));
    const b1 = await engine.createPeer({ affinity: "room-b", listener: {} });
    const a2 = await engine.createPeer({ affinity: "room-a", listener: {} });
    const pidOf = (p: Peer): number | undefined => engine.workerPidOf?.(p);
    assert.equal(pidOf(a1), pidOf(a2));
    assert.notEqual(pidOf(a1), pidOf(b1));
    // Same worker: the worker looks the m-line up; another worker: refused before that.
    await assert.rejects(
      a1.forward({ to: a2, fromMid: "0" }),
      (e: Error) => !(e instanceof TypeError),
    );
    await assert.rejects(a1.forward({ to: b1, fromMid: "0" }), TypeError);
    await assert.rejects(a1.requestKeyframe("0"), /does not request keyframes/);
    for (const p of [a1, b1, a2]) await p.close();
    assert.equal(engine.counts().peers, 0);
  } finally {
    await closeAll(engine, []);
  }
});

wrtcTest(
  "a worker is recycled after maxPeersPerWorker peers, once its peers are gone",
  async () => {
    const engine = await createMediaEngine({ workers: 1, maxPeersPerWorker: 1 });
    try {
      const p1 = await engine.createPeer({ listener: {} });
      const p2 = await engine.createPeer({ listener: {} });
      const pid1 = engine.workerPidOf?.(p1);
      const pid2 = engine.workerPidOf?.(p2);
      assert.ok(pid1 !== undefined && pid2 !== undefined);
      assert.notEqual(pid1, pid2);
      assert.ok(engine.workerPids?.().includes(pid1), "the first worker waits for its peer");
      await p1.close();
      await waitUntil("first worker exit", () => !engine.workerPids?.().includes(pid1));
      await waitUntil("process reaped", () => !existsSync(`/proc/${pid1}`));
      assert.ok(engine.workerPids?.().includes(pid2));
      await p2.close();
      assert.equal(engine.counts().peers, 0);
    } finally {
      await closeAll(engine, []);
    }
  },
);

wrtcTest("a worker over maxWorkerRssBytes is drained and replaced", async () => {
  // Any worker is over a 1-byte ceiling, so each new peer lands on a fresh worker.
  const engine = await createMediaEngine({ workers: 1, maxWorkerRssBytes: 1 });
  try {
    const p1 = await engine.createPeer({ listener: {} });
    const p2 = await engine.createPeer({ listener: {} });
    const pid1 = engine.workerPidOf?.(p1);
    const pid2 = engine.workerPidOf?.(p2);
    assert.ok(pid1 !== undefined && pid2 !== undefined);
    assert.notEqual(pid1, pid2);
    await p1.close();
    await waitUntil("drained worker exit", () => !engine.workerPids?.().includes(pid1));
    await p2.close();
    assert.equal(engine.counts().peers, 0);
  } finally {
    await closeAll(engine, []);
  }
});

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

wrtcTest(
  "forward sends a publisher's video to a subscriber offered by the engine",
  async (wrtc) => {
    const engine = await createMediaEngine({ workers: 2 });
    const publisher = new ClientPeer(wrtc, { video: true });
    const subscriber = new ClientPeer(wrtc, {});
    try {
      const pubEvents = new Recorder();
      const pub = await engine.createPeer({ affinity: "room", listener: pubEvents.listener });
      await connect(publisher, pub, pubEvents);
      await waitUntil("publisher media", () => pubEvents.receiving("0"));
      const subEvents = new Recorder();
      const sub = await engine.createPeer({ affinity: "room", listener: subEvents.listener });
      assert.equal(await pub.forward({ to: sub, fromMid: "0" }), "0");
      const offer = await sub.createOffer();
      assert.match(offer, /a=sendonly/);
      assert.ok(allLoopback(sdpCandidateAddresses(offer)));
      subscriber.trickleTo((c) => sub.addRemoteCandidate(c));
      await subscriber.pc.setRemoteDescription({ type: "offer", sdp: offer });
      const answer = await subscriber.pc.createAnswer();
      await subscriber.pc.setLocalDescription(answer);
      await sub.acceptAnswer(answer.sdp);
      await waitUntil("subscriber connected", () => subEvents.connected > 0);
      await waitUntil("forwarded frames", () => subscriber.videoFrames >= 10);
      assert.ok(subscriber.luma.left > 150 && subscriber.luma.right < 100);
      await pub.close();
      await sub.close();
    } finally {
      await closeAll(engine, [publisher, subscriber]);
    }
  },
);
