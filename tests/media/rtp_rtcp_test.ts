import assert from "node:assert/strict";
import {
  buildFir,
  buildNack,
  buildPli,
  buildRemb,
  buildRr,
  buildSr,
  mediaSsrcs,
  ntpTime,
  parseRtcp,
  type ReportBlock,
} from "../../core/media/rtp/rtcp.ts";

const bytes = (a: Uint8Array) => [...a];

// Byte layouts from RFC 3550 6.4, RFC 4585 6.2.1/6.3.1, RFC 5104 4.3.1 and
// draft-alvestrand-rmcat-remb 2.2, with the sender 0x12345678 and media 0x23456789 that
// libwebrtc's rtcp_packet unit tests use.
const SR = [
  0x80,
  200,
  0x00,
  0x06,
  0x12,
  0x34,
  0x56,
  0x78,
  0x11,
  0x12,
  0x14,
  0x18,
  0x22,
  0x24,
  0x26,
  0x28,
  0x33,
  0x34,
  0x35,
  0x36,
  0x44,
  0x45,
  0x46,
  0x47,
  0x55,
  0x56,
  0x57,
  0x58,
];
const RR = [
  0x81,
  201,
  0x00,
  0x07,
  0x12,
  0x34,
  0x56,
  0x78,
  0x23,
  0x45,
  0x67,
  0x89,
  55,
  0x11,
  0x12,
  0x13,
  0x22,
  0x23,
  0x24,
  0x25,
  0x33,
  0x34,
  0x35,
  0x36,
  0x44,
  0x45,
  0x46,
  0x47,
  0x55,
  0x56,
  0x57,
  0x58,
];
const SDES = [
  0x81,
  202,
  0x00,
  0x04,
  0x12,
  0x34,
  0x56,
  0x78,
  0x01,
  0x06,
  0x61,
  0x62,
  0x63,
  0x64,
  0x65,
  0x66,
  0x00,
  0x00,
  0x00,
  0x00,
];
const BYE = [0x81, 203, 0x00, 0x01, 0x12, 0x34, 0x56, 0x78];
const NACK = [
  0x81,
  205,
  0x00,
  0x03,
  0x12,
  0x34,
  0x56,
  0x78,
  0x23,
  0x45,
  0x67,
  0x89,
  0x00,
  0x00,
  0x80,
  0x85,
];
const PLI = [0x81, 206, 0x00, 0x02, 0x12, 0x34, 0x56, 0x78, 0x23, 0x45, 0x67, 0x89];
const FIR = [
  0x84,
  206,
  0x00,
  0x04,
  0x12,
  0x34,
  0x56,
  0x78,
  0x00,
  0x00,
  0x00,
  0x00,
  0x23,
  0x45,
  0x67,
  0x89,
  0x13,
  0x00,
  0x00,
  0x00,
];
// REMB of 0x3fb93 * 2^1 bps for three SSRCs: exponent 1, mantissa 0x3fb93.
const REMB = [
  0x8f,
  206,
  0x00,
  0x07,
  0x12,
  0x34,
  0x56,
  0x78,
  0x00,
  0x00,
  0x00,
  0x00,
  0x52,
  0x45,
  0x4d,
  0x42,
  0x03,
  0x07,
  0xfb,
  0x93,
  0x23,
  0x45,
  0x67,
  0x89,
  0x23,
  0x45,
  0x67,
  0x8a,
  0x23,
  0x45,
  0x67,
  0x8b,
];

const BLOCK: ReportBlock = {
  ssrc: 0x23456789,
  fractionLost: 55,
  packetsLost: 0x111213,
  highestSeq: 0x22232425,
  jitter: 0x33343536,
  lastSr: 0x44454647,
  delaySinceLastSr: 0x55565758,
};

Deno.test("RTCP: a compound packet of every kind parses", () => {
  const compound = new Uint8Array([
    ...SR,
    ...RR,
    ...SDES,
    ...BYE,
    ...NACK,
    ...PLI,
    ...FIR,
    ...REMB,
  ]);
  const packets = parseRtcp(compound);
  assert.deepEqual(packets, [
    {
      type: "sr",
      ssrc: 0x12345678,
      ntpSeconds: 0x11121418,
      ntpFraction: 0x22242628,
      rtpTimestamp: 0x33343536,
      packetCount: 0x44454647,
      octetCount: 0x55565758,
      reports: [],
    },
    { type: "rr", ssrc: 0x12345678, reports: [BLOCK] },
    { type: "sdes", chunks: [{ ssrc: 0x12345678, items: [{ type: 1, text: "abcdef" }] }] },
    { type: "bye", ssrcs: [0x12345678] },
    { type: "nack", senderSsrc: 0x12345678, mediaSsrc: 0x23456789, lost: [0, 1, 3, 8, 16] },
    { type: "pli", senderSsrc: 0x12345678, mediaSsrc: 0x23456789 },
    { type: "fir", senderSsrc: 0x12345678, entries: [{ ssrc: 0x23456789, seqNr: 0x13 }] },
    {
      type: "remb",
      senderSsrc: 0x12345678,
      bitrate: 0x3fb93 * 2,
      ssrcs: [0x23456789, 0x2345678a, 0x2345678b],
    },
  ]);
});

Deno.test("RTCP: builders write the reference layouts byte for byte", () => {
  assert.deepEqual(bytes(buildPli(0x12345678, 0x23456789)), PLI);
  assert.deepEqual(bytes(buildFir(0x12345678, 0x23456789, 0x13)), FIR);
  assert.deepEqual(
    bytes(buildRemb(0x12345678, 0x3fb93 * 2, [0x23456789, 0x2345678a, 0x2345678b])),
    REMB,
  );
  assert.deepEqual(bytes(buildNack(0x12345678, 0x23456789, [0, 1, 3, 8, 16])), NACK);
  assert.deepEqual(bytes(buildRr(0x12345678, [BLOCK])), RR);
  assert.deepEqual(
    bytes(buildSr({
      ssrc: 0x12345678,
      ntpSeconds: 0x11121418,
      ntpFraction: 0x22242628,
      rtpTimestamp: 0x33343536,
      packetCount: 0x44454647,
      octetCount: 0x55565758,
      reports: [],
    })),
    SR,
  );
});

Deno.test("RTCP: a real sender report (mediasoup's capture) parses", () => {
  const sr = parseRtcp(
    new Uint8Array([
      0x80,
      0xc8,
      0x00,
      0x06,
      0x5d,
      0x93,
      0x15,
      0x34,
      0xdd,
      0x3a,
      0xc1,
      0xb4,
      0x76,
      0x54,
      0x71,
      0x71,
      0x00,
      0x08,
      0xcf,
      0x00,
      0x00,
      0x00,
      0x0e,
      0x18,
      0x00,
      0x08,
      0xcf,
      0x00,
    ]),
  );
  assert.deepEqual(sr?.[0], {
    type: "sr",
    ssrc: 0x5d931534,
    ntpSeconds: 3711615412,
    ntpFraction: 1985245553,
    rtpTimestamp: 577280,
    packetCount: 3608,
    octetCount: 577280,
    reports: [],
  });
});

Deno.test("RTCP: REMB rounds big bitrates into mantissa and exponent", () => {
  for (const bitrate of [0, 1, 300_000, 2_500_000, 50_000_000, 2 ** 40]) {
    const p = parseRtcp(buildRemb(1, bitrate, [2]))?.[0];
    assert.equal(p?.type, "remb");
    if (p?.type !== "remb") continue;
    assert.ok(p.bitrate <= bitrate && p.bitrate >= bitrate * (1 - 2 ** -17), `${bitrate}`);
  }
});

Deno.test("RTCP: NACK round-trips lists across the 16-bit wrap and long runs", () => {
  const lost = [65530, 65531, 65535, 0, 4, 30, 31, 32, 47, 48, 100];
  const p = parseRtcp(buildNack(9, 10, lost))?.[0];
  assert.deepEqual(p, { type: "nack", senderSsrc: 9, mediaSsrc: 10, lost });
});

Deno.test("RTCP: report blocks keep negative cumulative loss", () => {
  const block = { ...BLOCK, packetsLost: -5 };
  const p = parseRtcp(buildRr(1, [block]))?.[0];
  assert.deepEqual(p, { type: "rr", ssrc: 1, reports: [block] });
});

Deno.test("RTCP: broken framing is null, unknown types are 'other'", () => {
  assert.equal(parseRtcp(new Uint8Array(PLI.slice(0, 10))), null);
  assert.equal(parseRtcp(new Uint8Array([0x40, 201, 0, 1, 0, 0, 0, 0])), null);
  assert.equal(parseRtcp(new Uint8Array([...PLI, 0x80])), null);
  const rr = [...RR];
  rr[0] = 0x82; // two blocks announced, one present
  assert.equal(parseRtcp(new Uint8Array(rr)), null);
  assert.deepEqual(
    parseRtcp(new Uint8Array([0x80, 204, 0, 2, 0, 0, 0, 1, 0x41, 0x42, 0x43, 0x44])),
    [
      { type: "other", packetType: 204, format: 0 },
    ],
  );
  // Transport-wide CC feedback (RTPFB 15) is not ours to read.
  assert.deepEqual(parseRtcp(new Uint8Array([0x8f, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2])), [
    { type: "other", packetType: 205, format: 15 },
  ]);
});

Deno.test("RTCP: mediaSsrcs names the streams a packet is about", () => {
  const packets = parseRtcp(new Uint8Array([...RR, ...PLI, ...FIR, ...REMB, ...SDES])) ?? [];
  assert.deepEqual(packets.map(mediaSsrcs), [
    [0x23456789],
    [0x23456789],
    [0x23456789],
    [0x23456789, 0x2345678a, 0x2345678b],
    [],
  ]);
});

Deno.test("RTCP: ntpTime counts from 1900", () => {
  assert.deepEqual(ntpTime(0), { seconds: 2208988800, fraction: 0 });
  assert.deepEqual(ntpTime(1500), { seconds: 2208988801, fraction: 0x80000000 });
});
