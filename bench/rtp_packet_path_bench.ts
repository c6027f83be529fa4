/**
 * Per-packet cost of the RTP engine's forwarding path (issue 10): rewrite a received packet in
 * place (SSRC, sequence number, timestamp), keep it in the NACK cache, and the VP8 keyframe
 * check a subscriber waiting for a keyframe does.
 * Run with `deno bench bench/rtp_packet_path_bench.ts`.
 *
 * @module
 */
import { headerLength, writeRtpHeader } from "../core/media/rtp/header.ts";
import { NackCache } from "../core/media/rtp/nack_cache.ts";
import { StreamRewriter } from "../core/media/rtp/rewriter.ts";
import { unwrapRtx } from "../core/media/rtp/rtx.ts";
import { isVp8Keyframe } from "../core/media/rtp/vp8.ts";

const packet = new Uint8Array(1200);
writeRtpHeader(packet, { payloadType: 96, sequenceNumber: 0, timestamp: 0, ssrc: 0x1234 });
packet.set([0x90, 0x80, 0x12, 0x31, 0x10, 0x00], 12);

const rewriter = new StreamRewriter({ ssrc: 0x5678, clockRate: 90000 });
const cache = new NackCache(1024);
let seq = 0;
let now = 0;

Deno.bench("rewrite + NACK cache put, 1200-byte packet", () => {
  seq = (seq + 1) & 0xffff;
  packet[2] = seq >> 8;
  packet[3] = seq & 0xff;
  packet[8] = 0x00;
  packet[9] = 0x00;
  packet[10] = 0x12;
  packet[11] = 0x34;
  now += 0.1;
  if (rewriter.rewrite(packet, now)) cache.put(seq, packet, packet.length, now);
});

Deno.bench("VP8 keyframe check", () => {
  isVp8Keyframe(packet, headerLength(packet), packet.length);
});

const rtx = new Uint8Array(1202);
Deno.bench("RTX unwrap, 1200-byte packet", () => {
  writeRtpHeader(rtx, { payloadType: 97, sequenceNumber: 1, timestamp: 0, ssrc: 9 });
  unwrapRtx(rtx, rtx.length, 96, 0x1234);
});
