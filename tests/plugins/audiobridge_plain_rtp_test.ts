/**
 * AudioBridge plain-RTP participants: a UDP client on loopback joins a room that allows them
 * with an `rtp` object and no offer, and is told the plugin's own `rtp` {ip, port,
 * payload_type}; it sends a 1000 Hz tone as Opus RTP (opusscript) and decodes the mix it gets
 * back. A wrtc participant sending 440 Hz hears the client's tone and not its own; the client
 * hears 440 Hz and not its own, measured by frequency. After `leave` nothing more comes and the
 * socket's port is free again; so it is after a `hangup` and a detach of a joined one; the
 * mixer's member count follows, and the handles, peers and the room's mixer are all released.
 * Runs in the test network namespace.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import type { JsonObject } from "../../core/protocol.ts";
import { wsClient } from "../_helpers/janus_client.ts";
import { waitUntil, wrtcTest } from "../media/_client.ts";
import { AbHandle, assertMixingReleased, startAudioBridgeGateway } from "./_audiobridge.ts";
import { ToneClient } from "./_audiobridge_tone.ts";
import { joinRtp, PT, RtpToneClient } from "./_rtp_tone_client.ts";

/** A tone is heard at over a hundredth of its sent power (8000 peak: 1.6e7), absent under 1e-4. */
const HEARD = 1.6e5;
const ABSENT = 1.6e3;

/** Waits (up to 5 s) until `port` can be bound on loopback: the gateway let its socket go. */
async function released(port: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (await udpPortFree(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`port ${port} still bound`);
}

/** Whether `port` on loopback can be bound now (the gateway let it go). */
async function udpPortFree(port: number): Promise<boolean> {
  const s = dgram.createSocket("udp4");
  const bound = await new Promise<boolean>((resolve) => {
    s.once("error", () => resolve(false));
    s.bind(port, "127.0.0.1", () => resolve(true));
  });
  s.close();
  return bound;
}

wrtcTest(
  "audiobridge plain RTP: a UDP Opus participant and a wrtc one hear each other's tone; leave, hangup and detach release",
  async (wrtc) => {
    await using gw = await startAudioBridgeGateway();
    const c = await wsClient(gw.wsUrl);
    const web = new ToneClient(wrtc, 440);
    const rtp = new RtpToneClient(1000);
    try {
      const admin = await AbHandle.open(c);
      await admin.sync({ request: "create", room: 80, allow_rtp_participants: true });
      const webHandle = await AbHandle.open(c);
      const joined = await webHandle.ask(
        { request: "join", room: 80, id: 1 },
        { type: "offer", sdp: await web.offer() },
      );
      await web.pc.setRemoteDescription({ type: "answer", sdp: joined.jsep?.sdp as string });

      const rtpHandle = await AbHandle.open(c);
      const clientPort = await rtp.bind();
      const rtpJoined = await rtpHandle.ask({
        request: "join",
        room: 80,
        id: 2,
        display: "rtp",
        rtp: { ip: "127.0.0.1", port: clientPort, payload_type: PT, audiolevel_ext: 1, fec: true },
      });
      assert.equal(rtpJoined.jsep, undefined);
      const told = rtpJoined.data.rtp as JsonObject;
      const { participants, ...rest } = rtpJoined.data;
      assert.deepEqual(rest, { audiobridge: "joined", room: 80, id: 2, rtp: told });
      assert.deepEqual((participants as JsonObject[]).map((p) => p.id), [1]);
      assert.deepEqual(Object.keys(told), ["ip", "port", "payload_type"]);
      assert.equal(told.ip, "127.0.0.1");
      assert.equal(told.payload_type, PT);
      const port = told.port as number;
      assert.ok(Number.isInteger(port) && port >= 10000 && port <= 60000, `port ${port}`);
      rtp.start(port);

      await waitUntil(
        "audio both ways",
        () => web.received > web.rate * 2 && rtp.packets > 100,
        15000,
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const heard = web.powers([440, 1000]);
      const shown = JSON.stringify({
        web: heard,
        rtp: { 440: rtp.power(440), 1000: rtp.power(1000) },
      });
      assert.ok(heard[1000]! > HEARD, `the wrtc peer hears the RTP tone ${shown}`);
      assert.ok(heard[440]! < ABSENT, `the wrtc peer does not hear itself ${shown}`);
      assert.ok(rtp.power(440) > HEARD, `the RTP client hears the wrtc tone ${shown}`);
      assert.ok(rtp.power(1000) < ABSENT, `the RTP client does not hear itself ${shown}`);

      assert.equal(await gw.media.mixerMembers?.(), 2, "the peer and the RTP socket mix");

      // Leaving frees the socket: nothing more comes, and its port can be bound again.
      const left = await rtpHandle.ask({ request: "leave" });
      assert.deepEqual(left.data, { audiobridge: "left", room: 80, id: 2 });
      await released(port);
      const after = rtp.packets;
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.ok(rtp.packets - after <= 1, `${rtp.packets - after} packets after leave`);
      assert.equal(await gw.media.mixerMembers?.(), 1, "the peer alone mixes");

      // A hangup and a detach release a joined socket too.
      const rejoin = async (id: number) => {
        const r = await rtpHandle.ask({ request: "join", room: 80, id, rtp: { ip: "127.0.0.1" } });
        assert.equal(r.data.audiobridge, "joined", JSON.stringify(r.data));
        return (r.data.rtp as JsonObject).port as number;
      };
      const port3 = await rejoin(3);
      assert.equal(await gw.media.mixerMembers?.(), 2);
      assert.deepEqual((await rtpHandle.ask({ request: "hangup" })).data, {
        audiobridge: "hangingup",
      });
      await released(port3);
      const port4 = await rejoin(4);
      await rtpHandle.close();
      await released(port4);
      assert.equal(await gw.media.mixerMembers?.(), 1);
      for (const h of [webHandle, admin]) await h.close();
    } finally {
      web.close();
      rtp.close();
      await c.close();
    }
    await assertMixingReleased(gw, 2);
  },
);

/** Waits (up to `ms`) for `h`'s plugin event `kind` about participant `id`, skipping others. */
async function talkEvent(h: AbHandle, kind: string, id: number, ms = 8000): Promise<JsonObject> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    assert.ok(left > 0, `no ${kind} event for ${id}`);
    const data = await h.next(left).catch(() => undefined);
    if (data?.audiobridge === kind && data.id === id) return data;
  }
}

wrtcTest(
  "audiobridge plain RTP: audiolevel_ext levels make talking and stopped-talking events; listparticipants shows talking",
  async (wrtc) => {
    await using gw = await startAudioBridgeGateway();
    const c = await wsClient(gw.wsUrl);
    const web = new ToneClient(wrtc, 440);
    // The wrtc participant stays silent: only the RTP one talks.
    web.amplitude = 0;
    const rtp = new RtpToneClient(1000);
    try {
      const admin = await AbHandle.open(c);
      await admin.sync({
        request: "create",
        room: 81,
        allow_rtp_participants: true,
        audiolevel_event: true,
        audio_active_packets: 10,
        audio_level_average: 40,
      });
      const webHandle = await AbHandle.open(c);
      await webHandle.joinWith(web, { room: 81, id: 1 });
      const rtpHandle = await AbHandle.open(c);
      // Loud (20 dBov under full scale, under the room's 40 average) in every packet.
      rtp.levelExt = 1;
      rtp.level = 20;
      await joinRtp(rtpHandle, rtp, { room: 81, id: 2 }, { audiolevel_ext: 1 });
      const talking = await talkEvent(webHandle, "talking", 2);
      assert.deepEqual(talking, { audiobridge: "talking", room: 81, id: 2 });
      const list = await admin.sync({ request: "listparticipants", room: 81 });
      const listed = (list.participants as JsonObject[]).find((p) => p.id === 2);
      assert.equal(listed?.talking, true, JSON.stringify(list));
      // Quiet (127: silence) from now on.
      rtp.level = 127;
      const stopped = await talkEvent(webHandle, "stopped-talking", 2);
      assert.deepEqual(stopped, { audiobridge: "stopped-talking", room: 81, id: 2 });
      for (const h of [rtpHandle, webHandle, admin]) await h.close();
    } finally {
      web.close();
      rtp.close();
      await c.close();
    }
    await assertMixingReleased(gw, 2);
  },
);
