/**
 * AudioBridge forwarding groups with real peers (the reference's group submixes): in a room
 * with groups `a` and `b`, a 440 Hz speaker in `a` and a 660 Hz one in `b`; a PCMU forwarder
 * of group `a` carries only 440 Hz, one of `b` only 660 Hz, one without a group the full mix
 * (both), while the participants still hear each other (groups only shape forwarders). A
 * `configure` moving the 440 Hz speaker to `b` moves its tone to `b`'s forwarder. The RTP is
 * received here and decoded (G.711 mu-law) to measure each tone. Runs in the test network
 * namespace.
 *
 * @module
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { wsClient } from "../_helpers/janus_client.ts";
import { freeEvenUdpPort } from "../_helpers/udp_port.ts";
import { goertzel, waitUntil, wrtcTest } from "../media/_client.ts";
import { AbHandle, audioBridgeCounts, startAudioBridgeGateway } from "./_audiobridge.ts";
import { ToneClient } from "./_audiobridge_tone.ts";

const ROOM = 61;
/** A tone is heard at over a hundredth of its sent power (8000 peak: 1.6e7), absent under 1e-4. */
const HEARD = 1.6e5;
const ABSENT = 1.6e3;
const RATE = 8000;

/** G.711 mu-law to a 16-bit sample (ITU-T G.711). */
function ulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

/** A PCMU receiver on a loopback port that keeps the last second it got. */
async function pcmuReceiver() {
  const port = await freeEvenUdpPort();
  const socket = dgram.createSocket("udp4");
  const last = new Float32Array(RATE);
  let write = 0;
  let packets = 0;
  socket.on("message", (msg: Uint8Array) => {
    // 12-byte RTP header (no CSRC or extension from the mixer), payload type 0.
    if (msg.length <= 12 || (msg[1]! & 0x7f) !== 0) return;
    packets++;
    for (const b of msg.subarray(12)) {
      last[write] = ulawToLinear(b);
      write = (write + 1) % RATE;
    }
  });
  await new Promise<void>((resolve) => socket.bind(port, "127.0.0.1", resolve));
  return {
    port,
    packets: () => packets,
    /** Mean power of `f` over 100 ms blocks of the last second. */
    power(f: number): number {
      const ordered = [...last.subarray(write), ...last.subarray(0, write)];
      let sum = 0;
      for (let b = 0; b < 10; b++) {
        sum += goertzel(Float32Array.from(ordered.slice(b * 800, (b + 1) * 800)), RATE, f);
      }
      return sum / 10;
    },
    close: () => socket.close(),
  };
}

type Receiver = Awaited<ReturnType<typeof pcmuReceiver>>;

/** Waits until `r` carries exactly the tones of `heard` among 440 and 660 Hz. */
async function carries(r: Receiver, heard: number[], what: string): Promise<void> {
  const ok = () =>
    [440, 660].every((f) => heard.includes(f) ? r.power(f) > HEARD : r.power(f) < ABSENT);
  await waitUntil(what, ok, 20000).catch(() => {
    const shown = `440: ${Math.round(r.power(440))}, 660: ${Math.round(r.power(660))}`;
    throw new Error(`${what}: ${shown} after ${r.packets()} packets`);
  });
}

wrtcTest(
  "audiobridge groups: a group's forwarder sends only that group's participants, the full " +
    "mix has all, configure moves a participant between groups; participants hear everyone",
  async (wrtc) => {
    await using gw = await startAudioBridgeGateway();
    const c = await wsClient(gw.wsUrl);
    const a = new ToneClient(wrtc, 440);
    const b = new ToneClient(wrtc, 660);
    const receivers: Receiver[] = [];
    try {
      const admin = await AbHandle.open(c);
      await admin.sync({ request: "create", room: ROOM, groups: ["a", "b"] });
      const [ra, rb, rfull] = [await pcmuReceiver(), await pcmuReceiver(), await pcmuReceiver()];
      receivers.push(ra, rb, rfull);
      for (const [r, group] of [[ra, "a"], [rb, "b"], [rfull, undefined]] as const) {
        const fwd = await admin.sync({
          request: "rtp_forward",
          room: ROOM,
          host: "127.0.0.1",
          port: r.port,
          codec: "pcmu",
          ptype: 0,
          ...(group ? { group } : {}),
        });
        assert.equal(fwd.audiobridge, "success", JSON.stringify(fwd));
        assert.equal(fwd.group, group);
      }
      const handles: AbHandle[] = [];
      for (const [client, id, group] of [[a, 1, "a"], [b, 2, "b"]] as const) {
        const h = await AbHandle.open(c);
        handles.push(h);
        await h.joinWith(client, { room: ROOM, id, group });
      }
      await carries(ra, [440], "group a's forwarder");
      await carries(rb, [660], "group b's forwarder");
      await carries(rfull, [440, 660], "the full mix's forwarder");
      // Participants hear the full mix (minus themselves), whatever their group.
      await waitUntil(
        "each hears the other",
        () => a.powers([660])[660]! > HEARD && b.powers([440])[440]! > HEARD,
        20000,
      );
      // The 440 Hz speaker moves to group b (after the events queued so far: webrtcup, joins).
      while (await handles[0]!.any(200));
      const moved = await handles[0]!.ask({ request: "configure", group: "b" });
      assert.equal(moved.data.result, "ok", JSON.stringify(moved.data));
      await carries(rb, [440, 660], "group b's forwarder after the move");
      await carries(ra, [], "group a's forwarder after the move");
      await carries(rfull, [440, 660], "the full mix after the move");
      for (const h of handles) await h.close();
      await admin.sync({ request: "destroy", room: ROOM });
      await admin.close();
    } finally {
      a.close();
      b.close();
      for (const r of receivers) r.close();
      await c.close();
    }
    await waitUntil("handles gone", () => gw.counts().handles === 0);
    assert.deepEqual(audioBridgeCounts(gw), { rooms: 1, participants: 0, sessions: 0 });
  },
);
