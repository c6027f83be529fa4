/**
 * A viewer's simulcast layer choice (`SimulcastContext`, Janus's
 * `janus_rtp_simulcasting_context_process_rtp`): start on a keyframe of any substream, climb
 * towards the target only on keyframes, fall back when the substream relayed goes silent,
 * drop VP8 temporal layers above the target; and the PictureID/TL0PICIDX rewriting that keeps
 * the stream continuous across switches.
 */
import assert from "node:assert/strict";
import { writeRtpHeader } from "../../core/media/rtp/header.ts";
import { StreamRewriter } from "../../core/media/rtp/rewriter.ts";
import { sequenceNumber } from "../../core/media/rtp/header.ts";
import { SimulcastContext } from "../../core/media/rtp/simulcast_context.ts";
import { vp8Descriptor, Vp8PictureContext } from "../../core/media/rtp/vp8.ts";

/**
 * A VP8 packet: descriptor with a 15-bit PictureID, TL0PICIDX and TID, then a payload header
 * (P=0: keyframe).
 */
function vp8Packet(o: { key: boolean; picId: number; tl0: number; tid: number }): Uint8Array {
  const buf = new Uint8Array(12 + 5 + 4);
  writeRtpHeader(buf, { payloadType: 100, sequenceNumber: 1, timestamp: 0, ssrc: 1 });
  buf[12] = 0x90; // X, S, partition 0
  buf[13] = 0xe0; // I, L, T
  buf[14] = 0x80 | (o.picId >> 8);
  buf[15] = o.picId & 0xff;
  buf[16] = o.tl0;
  buf[17] = o.tid << 6;
  buf[18] = o.key ? 0x00 : 0x01;
  return buf;
}

const key = (tid = 0) => vp8Packet({ key: true, picId: 10, tl0: 3, tid });
const delta = (tid = 0) => vp8Packet({ key: false, picId: 11, tl0: 3, tid });

function run(ctx: SimulcastContext, layer: number, buf: Uint8Array, nowMs: number) {
  return ctx.process(layer, buf, 12, buf.length, nowMs);
}

Deno.test("simulcast: starts on the first keyframe, then climbs to the target on keyframes", () => {
  const ctx = new SimulcastContext();
  assert.equal(run(ctx, 1, delta(), 1).relay, false, "no keyframe yet");
  const first = run(ctx, 0, key(), 2);
  assert.equal(first.relay, true);
  assert.equal(first.changedSubstream, true);
  assert.equal(ctx.substream, 0);
  assert.equal(run(ctx, 2, delta(), 3).relay, false, "a delta of the target: not yet");
  assert.equal(run(ctx, 0, delta(), 4).relay, true, "still on 0");
  const up = run(ctx, 2, key(), 5);
  assert.equal(up.relay, true);
  assert.equal(up.changedSubstream, true);
  assert.equal(ctx.substream, 2);
  assert.equal(run(ctx, 0, key(), 6).relay, false, "0 is no longer relayed");
  assert.equal(run(ctx, 2, delta(), 7).changedSubstream, false);
});

Deno.test("simulcast: a lower target switches down on a keyframe of a lower substream", () => {
  const ctx = new SimulcastContext();
  run(ctx, 2, key(), 1);
  ctx.substreamTarget = 0;
  assert.equal(run(ctx, 1, delta(), 2).relay, false);
  assert.equal(run(ctx, 2, delta(), 3).relay, true, "2 goes on until the switch");
  const down = run(ctx, 1, key(), 4);
  assert.equal(down.changedSubstream, true, "towards the target: 1 is on the way");
  assert.equal(run(ctx, 0, key(), 5).changedSubstream, true);
  assert.equal(ctx.substream, 0);
});

Deno.test("simulcast: a silent substream falls back to the one below, and back up", () => {
  const ctx = new SimulcastContext();
  ctx.fallbackMs = 100;
  run(ctx, 2, key(), 1000);
  // Substream 2 stops; 1 keeps sending. After 100 ms silence the target drops to 1.
  const late = run(ctx, 1, delta(), 1200);
  assert.equal(late.needKeyframe, true, "a keyframe is asked for the fallback");
  assert.equal(run(ctx, 1, key(), 1210).changedSubstream, true);
  assert.equal(ctx.substream, 1);
  // 2 flows again: the temporary target is dropped and a keyframe of 2 switches back.
  assert.equal(run(ctx, 2, key(), 1300).changedSubstream, true);
  assert.equal(ctx.substream, 2);
});

Deno.test("simulcast: VP8 temporal layers above the target are dropped", () => {
  const ctx = new SimulcastContext();
  ctx.templayerTarget = 0;
  const first = run(ctx, 0, key(0), 1);
  assert.equal(first.relay, true);
  assert.equal(first.changedTemporal, true);
  assert.equal(ctx.templayer, 0);
  const above = run(ctx, 0, delta(1), 2);
  assert.equal(above.relay, false);
  assert.equal(above.aboveTemporal, true);
  ctx.templayerTarget = 2;
  assert.equal(run(ctx, 0, delta(1), 3).relay, false, "up only on a packet of the target");
  const up = run(ctx, 0, delta(2), 4);
  assert.equal(up.changedTemporal, true);
  assert.equal(run(ctx, 0, delta(1), 5).relay, true);
  // Without a T bit every packet is layer 0 and passes.
  const plain = new SimulcastContext();
  const buf = key();
  buf[13] = 0x80; // I only
  buf[16] = 0x00; // payload header at 16 now: keyframe
  assert.equal(run(plain, 0, buf, 1).relay, true);
  assert.equal(plain.templayer, -1);
});

Deno.test("simulcast: PictureID and TL0PICIDX go on from the last ones after a switch", () => {
  const pics = new Vp8PictureContext();
  const sent: number[] = [];
  const send = (picId: number, tl0: number, switched: boolean) => {
    const buf = vp8Packet({ key: false, picId, tl0, tid: 0 });
    const d = vp8Descriptor(buf, 12, buf.length)!;
    pics.update(buf, d, switched);
    const out = vp8Descriptor(buf, 12, buf.length)!;
    sent.push(out.pictureId, out.tl0PicIdx);
  };
  send(100, 7, true);
  send(101, 8, false);
  send(5000, 200, true); // another substream's numbering
  send(5001, 201, false);
  assert.deepEqual(sent, [1, 1, 2, 2, 3, 3, 4, 4]);
  // 15-bit wrap.
  const wrap = new Vp8PictureContext();
  const buf = vp8Packet({ key: false, picId: 0x7fff, tl0: 255, tid: 0 });
  wrap.update(buf, vp8Descriptor(buf, 12, buf.length)!, true);
  const again = vp8Packet({ key: false, picId: 0, tl0: 0, tid: 0 });
  wrap.update(again, vp8Descriptor(again, 12, again.length)!, false);
  assert.equal(vp8Descriptor(again, 12, again.length)!.pictureId, 2);
});

Deno.test("simulcast: a skipped sequence number leaves no gap in what the viewer gets", () => {
  const rw = new StreamRewriter({
    ssrc: 9,
    clockRate: 90000,
    initialSeq: 100,
    initialTimestamp: 0,
  });
  const packet = (seq: number) => {
    const buf = new Uint8Array(12);
    writeRtpHeader(buf, { payloadType: 100, sequenceNumber: seq, timestamp: seq * 10, ssrc: 1 });
    return buf;
  };
  const out: number[] = [];
  for (const seq of [500, 501, 502, 503, 504]) {
    if (seq === 502) {
      rw.skip(); // dropped: temporal layer above the target
      continue;
    }
    const buf = packet(seq);
    assert.ok(rw.rewrite(buf, seq));
    out.push(sequenceNumber(buf));
  }
  assert.deepEqual(out, [100, 101, 102, 103]);
});
