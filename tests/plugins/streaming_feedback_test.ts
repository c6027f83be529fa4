/**
 * Streaming mountpoints that do more than forward RTP: `videobufferkf` (a late viewer decodes
 * the kept keyframe at once, while a viewer of the same feed without it waits for the next
 * one), an RTCP-capable source (`videortcpport`: the mountpoint learns where the source's RTCP
 * comes from and sends it a PLI, at most one a second, when a viewer starts, and no receiver
 * reports, as janus_streaming.c), and data
 * streams (datagrams to the data port reach wrtc viewers over their data channel, the last one
 * kept with `buffermsg`). Runs in the test network namespace (`deno task test`).
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import type { JsonObject } from "../../core/protocol.ts";
import { parseRtcp } from "../../core/media/rtp/rtcp.ts";
import { httpClient } from "../_helpers/janus_client.ts";
import { waitUntil, wrtcTest } from "../media/_client.ts";
import {
  closeViewers,
  createdPorts,
  destroyWatched,
  same,
  startStreamingGateway,
  StHandle,
  stopFfmpeg,
  streamingCounts,
  waitFresh,
  watchWrtc,
  type WrtcViewer,
} from "./_streaming.ts";

type Socket = ReturnType<typeof dgram.createSocket>;

async function bound(): Promise<Socket> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  return socket;
}

wrtcTest(
  "streaming: videobufferkf gives a late viewer the kept keyframe at once; without it the viewer waits for the next one",
  async (wrtc) => {
    await using gw = await startStreamingGateway();
    await using c = httpClient(gw.httpUrl);
    const admin = await StHandle.open(c);
    const video = (bufferkf: boolean) => [
      {
        type: "video",
        mid: "v",
        port: 0,
        pt: 100,
        codec: "vp8",
        ...(bufferkf ? { bufferkf } : {}),
      },
    ];
    const kept = createdPorts(
      await admin.sync({ request: "create", type: "rtp", id: 41, media: video(true) }),
    );
    const plain = createdPorts(
      await admin.sync({ request: "create", type: "rtp", id: 42, media: video(false) }),
    );
    // One feed for both mountpoints: ffmpeg's packets copied to each port.
    const relay = await bound();
    const out = await bound();
    const targets = [kept[0]!, plain[0]!];
    relay.on("message", (m: Uint8Array) => {
      for (const port of targets) out.send(m, port, "127.0.0.1");
    });
    // A keyframe every 20 s: a viewer that waits for the next one sees nothing for long.
    const ffmpeg = new Deno.Command("ffmpeg", {
      args: [
        ...["-hide_banner", "-loglevel", "error", "-re"],
        ...["-f", "lavfi", "-i", "testsrc=size=320x240:rate=30"],
        ...["-c:v", "libvpx", "-deadline", "realtime", "-b:v", "500k", "-g", "600"],
        ...["-keyint_min", "600", "-payload_type", "100", "-f", "rtp"],
        `rtp://127.0.0.1:${relay.address().port}`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const viewers: WrtcViewer[] = [];
    try {
      await waitFresh(admin, 42, 8000);
      // The first keyframe is behind us: viewers join between it and the next (20 s on).
      const firstPacket = performance.now();
      await new Promise((r) => setTimeout(r, 1000));
      const [withKf, withoutKf] = await Promise.all([
        watchWrtc(c, wrtc, 41),
        watchWrtc(c, wrtc, 42),
      ]);
      viewers.push(withKf, withoutKf);
      for (const v of viewers) {
        same(await v.h.next(8000), { streaming: "event", result: { status: "started" } });
      }
      await waitUntil(
        "a decoded frame with videobufferkf",
        () => withKf.peer.videoFrames > 0,
        8000,
      );
      const firstFrameMs = performance.now() - withKf.startedAt;
      // The other viewer gets the same packets after the same start, but no keyframe yet.
      await new Promise((r) => setTimeout(r, 1500));
      const elapsed = performance.now() - firstPacket;
      // deno-lint-ignore no-console
      console.log(
        `videobufferkf: first frame ${
          Math.round(firstFrameMs)
        } ms after start; without: ${withoutKf.peer.videoFrames} frames ${
          Math.round(elapsed)
        } ms after the first packet`,
      );
      assert.ok(
        elapsed < 18_000,
        `the check came ${elapsed} ms after the keyframe: too late to tell`,
      );
      assert.equal(
        withoutKf.peer.videoFrames,
        0,
        "no frame before the next keyframe without videobufferkf",
      );
      assert.equal(await withoutKf.peer.packetsOf("v"), 0, "no video packets before a keyframe");
      assert.deepEqual(streamingCounts(gw), {
        mountpoints: 2,
        viewers: 2,
        sessions: 3,
        sources: 2,
      });
      for (const id of [41, 42]) await admin.sync({ request: "destroy", id });
      for (const v of viewers) {
        same(await v.h.next(), { streaming: "event", result: { status: "stopped" } });
        await v.h.core("hangup");
      }
      await waitUntil("no peers left", () => gw.counts().peers === 0, 3000);
    } finally {
      await stopFfmpeg(ffmpeg);
      relay.close();
      out.close();
      await closeViewers(viewers, admin);
    }
  },
);

/** A VP8 delta-frame RTP packet (a keyframe never comes: lines keep asking for one). */
function deltaPacket(seq: number, ts: number, ssrc: number): Uint8Array {
  const buf = new Uint8Array(12 + 2 + 100);
  const view = new DataView(buf.buffer);
  buf[0] = 0x80;
  buf[1] = 0x80 | 100;
  view.setUint16(2, seq & 0xffff);
  view.setUint32(4, ts >>> 0);
  view.setUint32(8, ssrc);
  // VP8 descriptor S=1 partition 0, then a payload header with P=1 (not a keyframe).
  buf[12] = 0x10;
  buf[13] = 0x01;
  return buf;
}

/** An RTCP SR of `ssrc` with no report blocks. */
function senderReport(ssrc: number, packets: number): Uint8Array {
  const buf = new Uint8Array(28);
  const view = new DataView(buf.buffer);
  buf[0] = 0x80;
  buf[1] = 200;
  view.setUint16(2, 6);
  view.setUint32(4, ssrc);
  const now = Date.now();
  view.setUint32(8, Math.floor(now / 1000) + 2208988800);
  view.setUint32(16, packets * 3000);
  view.setUint32(20, packets);
  view.setUint32(24, packets * 114);
  return buf;
}

wrtcTest(
  "streaming: an RTCP-capable source gets a PLI (no FIR, no receiver report, as the reference) back at the address its SRs came from when a viewer starts, at most one a second",
  async (wrtc) => {
    await using gw = await startStreamingGateway();
    await using c = httpClient(gw.httpUrl);
    const admin = await StHandle.open(c);
    const created = await admin.sync({
      request: "create",
      type: "rtp",
      id: 43,
      video: true,
      videoport: 0,
      videortcpport: 0,
      videopt: 100,
      videocodec: "vp8",
    });
    const stream = created.stream as JsonObject;
    const rtpPort = stream.video_port as number;
    const rtcpPort = stream.video_rtcp_port as number;
    const SSRC = 0x1234abcd;
    const media = await bound();
    const rtcp = await bound();
    const plis: number[] = [];
    const firs: number[] = [];
    const wrongSsrc: number[] = [];
    const others: string[] = [];
    rtcp.on("message", (m: Uint8Array) => {
      for (const p of parseRtcp(new Uint8Array(m)) ?? []) {
        if (p.type !== "pli" && p.type !== "fir" && p.type !== "remb") others.push(p.type);
        if (p.type === "pli") (p.mediaSsrc === SSRC ? plis : wrongSsrc).push(performance.now());
        if (p.type === "fir") {
          for (const e of p.entries) (e.ssrc === SSRC ? firs : wrongSsrc).push(performance.now());
        }
      }
    });
    let seq = 0;
    const timer = setInterval(() => {
      seq++;
      media.send(deltaPacket(seq, seq * 3000, SSRC), rtpPort, "127.0.0.1");
      if (seq % 10 === 1) rtcp.send(senderReport(SSRC, seq), rtcpPort, "127.0.0.1");
    }, 33);
    const viewers: WrtcViewer[] = [];
    try {
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(plis.length, 0, "no keyframe request before anyone watches");
      const v = await watchWrtc(c, wrtc, 43);
      viewers.push(v);
      same(await v.h.next(8000), { streaming: "event", result: { status: "started" } });
      await waitUntil("a PLI at the source", () => plis.length > 0, 5000);
      // Each resume asks again (the line restarts on a keyframe): four at once cost the source
      // one more request when the limiter allows it, not four.
      const before = plis.length;
      for (let i = 0; i < 4; i++) {
        await v.h.ask({ request: "pause" });
        await v.h.ask({ request: "start" });
      }
      await waitUntil("the held-back request", () => plis.length > before, 3000);
      await new Promise((r) => setTimeout(r, 2500));
      const more = plis.length - before;
      // deno-lint-ignore no-console
      console.log(
        `RTCP source: ${plis.length} PLI, ${firs.length} FIR; ${more} after 4 resumes; gaps ${
          plis.slice(1).map((t, i) => Math.round(t - plis[i]!))
        } ms`,
      );
      // Two when the resumes straddled the end of a second.
      assert.ok(more >= 1 && more <= 2, `${more} PLIs for 4 resumes`);
      assert.equal(firs.length, 0, "PLIs only, as janus_streaming.c sends");
      // janus_streaming.c sends the source PLIs and relayed REMBs only, no RR (Janus 1.1.2
      // sent nothing at all to such a source in 15 s of RTP and SRs without viewers).
      assert.deepEqual(others, [], "no other RTCP (no receiver report) goes to the source");
      for (let i = 1; i < plis.length; i++) {
        assert.ok(plis[i]! - plis[i - 1]! >= 900, `PLIs ${plis[i]! - plis[i - 1]!} ms apart`);
      }
      assert.deepEqual(wrongSsrc, [], "every request names the source's SSRC");
      await destroyWatched(gw, admin, 43, [v]);
    } finally {
      clearInterval(timer);
      media.close();
      rtcp.close();
      await closeViewers(viewers, admin);
    }
  },
);

wrtcTest(
  "streaming: datagrams to a data mountpoint reach a wrtc viewer's data channel, the kept one first with buffermsg",
  async (wrtc) => {
    await using gw = await startStreamingGateway();
    await using c = httpClient(gw.httpUrl);
    const admin = await StHandle.open(c);
    const created = await admin.sync({
      request: "create",
      type: "rtp",
      id: 44,
      media: [{ type: "data", mid: "d", port: 0, buffermsg: true }],
    });
    const dataPort = createdPorts(created)[0]!;
    const sender = await bound();
    const send = (text: string) =>
      sender.send(new TextEncoder().encode(text), dataPort, "127.0.0.1");
    const viewers: WrtcViewer[] = [];
    try {
      // Sent before anyone watches: kept for the viewer.
      send("kept before watching");
      const deadline = performance.now() + 3000;
      for (;;) {
        const info = (await admin.sync({ request: "info", id: 44 })).info as JsonObject;
        if (((info.media as JsonObject[])[0]!.age_ms as number) < 3000) break;
        assert.ok(performance.now() < deadline, "the datagram did not reach the mountpoint");
        await new Promise((r) => setTimeout(r, 50));
      }
      // As janus.js does: the client opens its own channel on the offer's m=application.
      const v = await watchWrtc(c, wrtc, 44, { data: "JanusDataChannel" });
      viewers.push(v);
      same(await v.h.next(8000), { streaming: "event", result: { status: "started" } });
      await waitUntil("the data channel open", () => v.peer.channel?.readyState === "open", 5000);
      await waitUntil("the kept message", () => v.peer.messages.length > 0, 5000);
      assert.equal(v.peer.messages[0], "kept before watching");
      for (let i = 0; i < 5; i++) send(`live ${i}`);
      await waitUntil("five live messages", () => v.peer.messages.length >= 6, 5000);
      assert.deepEqual(v.peer.messages.slice(1), [
        "live 0",
        "live 1",
        "live 2",
        "live 3",
        "live 4",
      ]);
      await destroyWatched(gw, admin, 44, [v]);
    } finally {
      sender.close();
      await closeViewers(viewers, admin);
    }
  },
);
