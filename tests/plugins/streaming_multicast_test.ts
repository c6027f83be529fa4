/**
 * Streaming multicast sources (`mcast`/`audiomcast`, as the reference): a mountpoint's fixed
 * port joins an IPv4 group on the loopback interface; RTP sent to the group (PCMU, a 440 Hz tone
 * encoded here, sent with the loopback interface as the multicast one) reaches a wrtc viewer.
 * A `mcast` with `port: 0` is ignored, as the reference. Runs in the test network namespace
 * (`deno task test`).
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { linearToUlaw } from "../../core/media/audio_rtp.ts";
import { httpClient } from "../_helpers/janus_client.ts";
import { freeUdpPort } from "../_helpers/udp_port.ts";
import { goertzel, waitUntil, wrtcTest } from "../media/_client.ts";
import {
  closeViewers,
  createdPorts,
  same,
  startStreamingGateway,
  StHandle,
  waitFresh,
  watchWrtc,
  type WrtcViewer,
} from "./_streaming.ts";

const GROUP = "239.12.34.56";

/** Sends a 440 Hz PCMU tone (PT 0, 20 ms packets) to `group`:`port` through loopback. */
async function multicastTone(group: string, port: number): Promise<() => Promise<void>> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  socket.setMulticastInterface("127.0.0.1");
  let seq = 0;
  const timer = setInterval(() => {
    const packet = new Uint8Array(12 + 160);
    const view = new DataView(packet.buffer);
    packet[0] = 0x80;
    view.setUint16(2, seq & 0xffff);
    view.setUint32(4, seq * 160);
    view.setUint32(8, 0x1234);
    for (let i = 0; i < 160; i++) {
      const t = (seq * 160 + i) / 8000;
      packet[12 + i] = linearToUlaw(Math.round(12000 * Math.sin(2 * Math.PI * 440 * t)));
    }
    seq++;
    socket.send(packet, port, group);
  }, 20);
  return async () => {
    clearInterval(timer);
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  };
}

wrtcTest(
  "streaming multicast: a fixed port joins a group; RTP sent to it reaches a viewer",
  async (wrtc) => {
    await using gw = await startStreamingGateway();
    await using c = httpClient(gw.httpUrl);
    const admin = await StHandle.open(c);
    const port = await freeUdpPort();
    same(
      await admin.sync({
        request: "create",
        type: "rtp",
        id: 90,
        audio: true,
        audioport: port,
        audiopt: 0,
        audiocodec: "pcmu",
        audiomcast: GROUP,
        audioiface: "127.0.0.1",
      }),
      {
        streaming: "created",
        created: "mp-90",
        permanent: false,
        stream: {
          id: 90,
          type: "live",
          description: "mp-90",
          is_private: false,
          audio_host: "127.0.0.1",
          audio_port: port,
        },
        warning: "deprecated_api",
      },
    );
    // With port 0 the group is ignored: a port of the range is bound as usual.
    const picked = createdPorts(
      await admin.sync({
        request: "create",
        type: "rtp",
        id: 91,
        media: [{ type: "audio", mid: "a", port: 0, pt: 0, codec: "pcmu", mcast: GROUP }],
      }),
    );
    assert.ok(picked[0]! > 0);
    const stop = await multicastTone(GROUP, port);
    const viewers: WrtcViewer[] = [];
    try {
      await waitFresh(admin, 90, 5000);
      const v = await watchWrtc(c, wrtc, 90);
      viewers.push(v);
      await waitUntil("a second of audio", () => v.peer.audio.length > v.peer.audioRate, 8000);
      const tail = v.peer.audio.slice(-v.peer.audioRate / 2);
      const tone = goertzel(tail, v.peer.audioRate, 440);
      const off = goertzel(tail, v.peer.audioRate, 1000);
      assert.ok(tone > 20 * off, `440 Hz ${tone} against 1000 Hz ${off}`);
    } finally {
      await stop();
      await closeViewers(viewers, admin);
    }
  },
);
