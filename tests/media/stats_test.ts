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

Deno.test("MediaMonitor follows option changes; 0 turns no-media off; seconds over 1 s", () => {
  const options = { noMediaMs: 0, slowLinkThreshold: 0 };
  const m = new MediaMonitor(options);
  m.update([inbound("1", 10)], 0);
  assert.deepEqual(m.update([inbound("1", 10)], 60_000).media, [], "0 = never");
  options.noMediaMs = 3000;
  assert.deepEqual(m.update([inbound("1", 11)], 61_000).media, []);
  assert.deepEqual(m.update([inbound("1", 11)], 63_900).media, []);
  assert.deepEqual(m.update([inbound("1", 11)], 64_000).media, [
    { mid: "1", kind: "video", receiving: false, seconds: 3 },
  ]);
  options.slowLinkThreshold = 2;
  m.update([inbound("1", 12, 0)], 65_000);
  assert.deepEqual(m.update([inbound("1", 20, 2)], 66_000).slowLinks, [
    { mid: "1", kind: "video", uplink: false, lost: 2 },
  ]);
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
