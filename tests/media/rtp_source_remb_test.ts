/**
 * Viewers' REMB relayed to an RTCP-capable Streaming source as janus_streaming.c 1.1.2 does: a
 * subscriber's REMB about one of our lines reaches that line's source (active lines only), and
 * the source's RTCP side sends the lowest value since its last relay to the address the
 * source's RTCP came from, the first one a second after it started the clock, then at most one
 * a second, naming the source's SSRC.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { buildRemb, buildSr, parseRtcp } from "../../core/media/rtp/rtcp.ts";
import { type ForwardSource, SendLines } from "../../core/media/rtp/send_lines.ts";
import { SourceRtcp } from "../../core/media/rtp/source_feedback.ts";
import { waitUntil } from "./_client.ts";

const SOURCE_SSRC = 0x1234abcd;

function fakeSource(estimates: number[]): ForwardSource {
  return {
    kind: "video",
    payloadType: 96,
    rtxPayloadType: 0,
    clockRate: 90000,
    extensions: new Map(),
    requestKeyframe: () => {},
    keyframeReceived: () => {},
    receiverEstimate: (bps) => void estimates.push(bps),
    addOutput: () => {},
    removeOutput: () => {},
  };
}

Deno.test("REMB: a subscriber's REMB about an active line reaches its source", () => {
  const estimates: number[] = [];
  const lines = new SendLines();
  const source = fakeSource(estimates);
  const on = lines.add("0", source);
  on.attach(source, true, 0);
  const off = lines.add("1", source);
  off.attach(source, false, 0);
  lines.onPacket(buildRemb(1, 250_000, [on.ssrc]), 10);
  lines.onPacket(buildRemb(1, 90_000, [off.ssrc]), 20);
  lines.onPacket(buildRemb(1, 70_000, [0x999]), 30);
  assert.deepEqual(estimates, [250_000]);
  lines.close();
});

Deno.test({
  name:
    "REMB: the source gets the lowest viewer estimate, a second after the first, then once a second",
  sanitizeResources: false,
  async fn() {
    const rtcp = await SourceRtcp.open(
      "127.0.0.1",
      0,
      { min: 41000, max: 41999 },
      () => SOURCE_SSRC,
    );
    const source = dgram.createSocket("udp4");
    const got: { at: number; bitrate: number; ssrcs: number[] }[] = [];
    source.on("message", (m: Uint8Array) => {
      for (const p of parseRtcp(new Uint8Array(m)) ?? []) {
        if (p.type === "remb") {
          got.push({ at: performance.now(), bitrate: p.bitrate, ssrcs: p.ssrcs });
        }
      }
    });
    await new Promise<void>((resolve) => source.bind(0, "127.0.0.1", () => resolve()));
    try {
      // No REMB goes anywhere before the source has sent RTCP.
      rtcp.receiverEstimate(400_000, performance.now());
      await new Promise((r) => setTimeout(r, 1200));
      assert.equal(got.length, 0, "nowhere to send before the source's RTCP");
      const sr = buildSr({
        ssrc: SOURCE_SSRC,
        ntpSeconds: 1,
        ntpFraction: 0,
        rtpTimestamp: 0,
        packetCount: 1,
        octetCount: 100,
        reports: [],
      });
      source.send(sr, rtcp.port, "127.0.0.1");
      await waitUntil("the source's SR", () => rtcp.received > 0, 3000);
      const start = performance.now();
      rtcp.receiverEstimate(500_000, start);
      rtcp.receiverEstimate(300_000, start + 1);
      await waitUntil("a relayed REMB", () => got.length > 0, 3000);
      // The mantissa keeps 18 bits: 300000 is exact.
      assert.equal(got[0]!.bitrate, 300_000, "the lowest since the clock started");
      assert.deepEqual(got[0]!.ssrcs, [SOURCE_SSRC]);
      rtcp.receiverEstimate(800_000, performance.now());
      await waitUntil("a second REMB", () => got.length > 1, 3000);
      assert.equal(got[1]!.bitrate, 800_000, "the lowest since the last relay");
      assert.ok(got[1]!.at - got[0]!.at >= 900, `${got[1]!.at - got[0]!.at} ms apart`);
      await new Promise((r) => setTimeout(r, 1300));
      assert.equal(got.length, 2, "nothing without a new estimate");
      assert.equal(rtcp.rembsSent, 2);
    } finally {
      rtcp.close();
      source.close();
    }
  },
});
