/**
 * StatsTotals: getStats() samples of wrtc peers added to a worker's media totals by kind and
 * direction, each growth once, whatever order samples resolve in.
 */
import assert from "node:assert/strict";
import { emptyCounters } from "../../core/media/media_counters.ts";
import type { Stat } from "../../core/media/stats.ts";
import { StatsTotals } from "../../core/media/stats_totals.ts";

const inbound = (id: string, kind: string, fields: Record<string, number>): Stat => ({
  id,
  type: "inbound-rtp",
  kind,
  ...fields,
});
const outbound = (id: string, kind: string, fields: Record<string, number>): Stat => ({
  id,
  type: "outbound-rtp",
  kind,
  ...fields,
});

Deno.test("stats totals: growth by kind and direction; NACK/PLI by who sent them", () => {
  const totals = emptyCounters();
  const peer = new StatsTotals(totals);
  peer.update([
    inbound("in-a", "audio", { packetsReceived: 10, bytesReceived: 1000 }),
    inbound("in-v", "video", {
      packetsReceived: 5,
      bytesReceived: 5000,
      nackCount: 2,
      pliCount: 1,
    }),
    outbound("out-v", "video", {
      packetsSent: 7,
      bytesSent: 7000,
      nackCount: 3,
      pliCount: 4,
      firCount: 1,
      retransmittedPacketsSent: 2,
    }),
    // Not media: ignored.
    { id: "t", type: "transport", bytesReceived: 99 },
  ]);
  assert.equal(totals.audio.packetsReceived, 10);
  assert.equal(totals.audio.bytesReceived, 1000);
  assert.equal(totals.video.packetsReceived, 5);
  assert.equal(totals.video.nacksSent, 2);
  assert.equal(totals.video.plisSent, 1);
  assert.equal(totals.video.packetsSent, 7);
  assert.equal(totals.video.nacksReceived, 3);
  assert.equal(totals.video.plisReceived, 5, "PLI and FIR");
  assert.equal(totals.video.rtxSent, 2);

  // The next sample adds only what grew; an older one resolving late adds nothing.
  peer.update([inbound("in-a", "audio", { packetsReceived: 15, bytesReceived: 1500 })]);
  peer.update([inbound("in-a", "audio", { packetsReceived: 12, bytesReceived: 1200 })]);
  assert.equal(totals.audio.packetsReceived, 15);
  assert.equal(totals.audio.bytesReceived, 1500);

  // Another peer adds to the same totals; a closed peer's counts stay.
  const other = new StatsTotals(totals);
  other.update([inbound("in-a", "audio", { packetsReceived: 4, bytesReceived: 400 })]);
  assert.equal(totals.audio.packetsReceived, 19);
  // Older wrtc builds name the kind `mediaType`.
  other.update([{ id: "x", type: "outbound-rtp", mediaType: "audio", packetsSent: 3 }]);
  assert.equal(totals.audio.packetsSent, 3);
});
