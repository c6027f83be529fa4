/**
 * An RTP-engine mixer member's receive side (core/media/rtp/mix_member.ts): in-order packets are
 * decoded into the mix, a duplicate or late one is dropped, and a new stream (another SSRC after
 * a renegotiation, or sequence numbers far behind: a restart) is taken from its first packet.
 *
 * Run: `deno test -A tests/media/mix_member_test.ts`
 */
import assert from "node:assert/strict";
import type { PacketTap } from "../../core/media/rtp/echo_media.ts";
import { rtpMemberFactory, type RtpMixPeer } from "../../core/media/rtp/mix_member.ts";
import type { OfferMedia } from "../../core/media/rtp/offer_media.ts";
import { SendLine, sourceWithoutFeedback } from "../../core/media/rtp/send_lines.ts";

const MEDIA: OfferMedia = {
  kind: "audio",
  mid: "0",
  codec: "pcmu",
  payloadType: 0,
  clockRate: 8000,
  channels: 0,
  fmtp: "",
  rtxPayloadType: 0,
  ssrc: 1,
  rtxSsrc: 0,
  extensions: new Map(),
};

/** A PCMU packet (20 ms of silence) with this SSRC and sequence number. */
function packet(ssrc: number, seq: number): Uint8Array {
  const p = new Uint8Array(12 + 160).fill(0xff, 12);
  const v = new DataView(p.buffer);
  p[0] = 0x80;
  v.setUint16(2, seq & 0xffff);
  v.setUint32(4, seq * 160);
  v.setUint32(8, ssrc);
  return p;
}

Deno.test("mix member: duplicates and late packets dropped, a new SSRC or a restart taken", async () => {
  const source = sourceWithoutFeedback({
    kind: "audio",
    codec: "pcmu",
    payloadType: 0,
    clockRate: 8000,
    extensions: new Map(),
  });
  let tap: PacketTap | undefined;
  const peer: RtpMixPeer = {
    id: "p",
    closed: false,
    mixLine: () => ({ media: MEDIA, line: new SendLine("0", source) }),
    tap: (_, t) => {
      tap = t;
      return true;
    },
    untap: () => void (tap = undefined),
  };
  let decoded = 0;
  const member = await rtpMemberFactory.open(peer, {
    mid: "0",
    rate: 16000,
    onAudio: (samples, rate) => {
      assert.deepEqual([samples.length, rate], [160, 8000]);
      decoded++;
    },
    encoder: {},
  });
  const feed = (ssrc: number, seq: number) => {
    const p = packet(ssrc, seq);
    tap!.packet(p, p.length, 0);
  };
  feed(1, 100);
  feed(1, 101);
  feed(1, 101); // duplicate
  feed(1, 95); // late
  assert.equal(decoded, 2);
  feed(2, 7); // the new SSRC of a renegotiation
  feed(2, 8);
  assert.equal(decoded, 4);
  feed(2, 8 - 2000); // far behind: the sender restarted
  feed(2, 8 - 1999);
  assert.equal(decoded, 6);
  await member.release();
  assert.equal(tap, undefined, "released: untapped");
});
