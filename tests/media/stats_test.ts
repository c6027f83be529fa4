import assert from "node:assert/strict";
import { MediaMonitor, selectedPair, type Stat } from "../../core/media/stats.ts";

function inbound(mid: string, packets: number, lost = 0): Stat {
  return {
    id: `in${mid}`,
    type: "inbound-rtp",
    mid,
    kind: mid === "0" ? "audio" : "video",
    packetsReceived: packets,
    packetsLost: lost,
    bytesReceived: packets * 100,
  };
}

Deno.test("MediaMonitor reports receiving true, false after silence, true again", () => {
  const m = new MediaMonitor({ noMediaMs: 1000, slowLinkThreshold: 0 });
  assert.deepEqual(m.update([inbound("0", 0)], 0).media, []);
  assert.deepEqual(m.update([inbound("0", 10)], 500).media, [
    { mid: "0", kind: "audio", receiving: true },
  ]);
  assert.deepEqual(m.update([inbound("0", 10)], 1000).media, []);
  assert.deepEqual(m.update([inbound("0", 10)], 1600).media, [
    { mid: "0", kind: "audio", receiving: false },
  ]);
  assert.deepEqual(m.update([inbound("0", 11)], 2100).media, [
    { mid: "0", kind: "audio", receiving: true },
  ]);
  assert.equal(m.summary["0"]?.inboundPackets, 11);
});

Deno.test("MediaMonitor reports slow links per second over the threshold", () => {
  const m = new MediaMonitor({ noMediaMs: 1000, slowLinkThreshold: 5 });
  m.update([inbound("1", 10, 0)], 0);
  assert.deepEqual(m.update([inbound("1", 20, 3)], 1000).slowLinks, []);
  assert.deepEqual(m.update([inbound("1", 30, 10)], 2000).slowLinks, [
    { mid: "1", kind: "video", uplink: false, lost: 7 },
  ]);
});

Deno.test("selectedPair names both ends of the selected pair", () => {
  const stats: Stat[] = [
    { id: "t", type: "transport", selectedCandidatePairId: "p" },
    { id: "p", type: "candidate-pair", localCandidateId: "l", remoteCandidateId: "r" },
    {
      id: "l",
      type: "local-candidate",
      address: "127.0.0.1",
      port: 1,
      candidateType: "host",
      protocol: "udp",
    },
    {
      id: "r",
      type: "remote-candidate",
      address: "::1",
      port: 2,
      candidateType: "host",
      protocol: "udp",
    },
  ];
  assert.equal(selectedPair(stats), "127.0.0.1:1 [host,udp] <-> ::1:2 [host,udp]");
});
