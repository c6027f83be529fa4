/**
 * Header extension ids across a forward (`header_ext.ts`): ids rewritten to the receiver's,
 * extensions it did not negotiate blanked into padding, in place and at the same length; and
 * a SendLine puts the source's bytes back after sending, for the next line.
 */
import assert from "node:assert/strict";
import type { Track } from "node-datachannel";
import {
  extensionBlock,
  extensionIdTable,
  extmapIds,
  rewriteExtensions,
} from "../../core/media/rtp/header_ext.ts";
import { readAudioLevel } from "../../core/media/rtp/audio_level_ext.ts";
import { type ForwardSource, SendLine } from "../../core/media/rtp/send_lines.ts";

const LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
const MID = "urn:ietf:params:rtp-hdrext:sdes:mid";
const ABS = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";

/** An RTP packet (PT 111) with a one-byte-form extension block: [id, data...] elements. */
function packet(elements: number[][], payload = [0xaa, 0xbb]): Uint8Array {
  const body: number[] = [];
  for (const [id, ...data] of elements) body.push((id! << 4) | (data.length - 1), ...data);
  while (body.length % 4 !== 0) body.push(0);
  const buf = new Uint8Array(12 + 4 + body.length + payload.length);
  buf.set([0x90, 111, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7]);
  buf.set([0xbe, 0xde, 0, body.length / 4], 12);
  buf.set(body, 16);
  buf.set(payload, 16 + body.length);
  return buf;
}

Deno.test("extmapIds reads id -> URI, direction suffixes included", () => {
  const ids = extmapIds(
    `m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=extmap:1 ${LEVEL}\r\n` +
      `a=extmap:4/sendrecv ${MID}\r\na=mid:0\r\n`,
  );
  assert.deepEqual([...ids], [[1, LEVEL], [4, MID]]);
});

Deno.test("extensionIdTable: identity is nothing to do; other ids are mapped or blanked", () => {
  const sender = new Map([[1, LEVEL], [3, ABS], [4, MID]]);
  assert.equal(extensionIdTable(sender, sender), undefined);
  const table = extensionIdTable(sender, new Map([[5, LEVEL], [4, MID]]));
  assert.ok(table);
  assert.deepEqual([table[1], table[3], table[4], table[2]], [5, 0, 4, 0]);
});

Deno.test("rewriteExtensions maps ids and blanks the rest at the same length", () => {
  const buf = packet([[1, 0x85], [3, 1, 2, 3], [4, 0x30]]);
  const before = buf.length;
  const table = extensionIdTable(
    new Map([[1, LEVEL], [3, ABS], [4, MID]]),
    new Map([[5, LEVEL]]),
  )!;
  assert.equal(rewriteExtensions(buf, buf.length, table), true);
  assert.equal(buf.length, before);
  assert.equal(readAudioLevel(buf, buf.length, 5), 5, "the level under the receiver's id");
  assert.equal(readAudioLevel(buf, buf.length, 1), -1, "not under the sender's any more");
  const block = extensionBlock(buf, buf.length)!;
  // The level (2 bytes) stays; abs-send-time (4) and mid (2) are padding now.
  assert.deepEqual([...buf.subarray(block.start + 2, block.start + 8)], [0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...buf.subarray(buf.length - 2)], [0xaa, 0xbb], "payload untouched");
  // A packet without the extension bit is left alone.
  const bare = new Uint8Array([0x80, 111, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7, 0xaa]);
  assert.equal(rewriteExtensions(bare, bare.length, table), false);
});

Deno.test("rewriteExtensions: two-byte form, and ids the one-byte form cannot carry", () => {
  // Two-byte form (profile 0x1000): id 7 len 1, id 9 len 2.
  const two = new Uint8Array([
    0x90,
    111,
    0,
    1,
    0,
    0,
    0,
    160,
    0,
    0,
    0,
    7,
    0x10,
    0x00,
    0,
    2,
    7,
    1,
    0x85,
    9,
    2,
    1,
    2,
    0,
    0xaa,
  ]);
  const table = new Uint8Array(256);
  table[7] = 200;
  assert.equal(rewriteExtensions(two, two.length, table), true);
  assert.deepEqual([...two.subarray(16, 24)], [200, 1, 0x85, 0, 0, 0, 0, 0]);
  // One-byte form: an id over 14 cannot be written there, so the element is blanked.
  const one = packet([[1, 0x85]]);
  const wide = new Uint8Array(256);
  wide[1] = 20;
  assert.equal(rewriteExtensions(one, one.length, wide), true);
  assert.equal(readAudioLevel(one, one.length, 1), -1);
});

Deno.test("a SendLine sends the receiver's ids (none negotiated: none) and restores the packet", () => {
  const sent: Uint8Array[] = [];
  const track = {
    isOpen: () => true,
    sendMessageBinary: (b: Uint8Array) => {
      sent.push(new Uint8Array(b));
      return true;
    },
  } as unknown as Track;
  const source: ForwardSource = {
    kind: "audio",
    payloadType: 111,
    rtxPayloadType: 0,
    clockRate: 48000,
    extensions: new Map([[1, LEVEL], [4, MID]]),
    requestKeyframe: () => {},
    keyframeReceived: () => {},
    receiverEstimate: () => {},
    addOutput: () => {},
    removeOutput: () => {},
  };
  const stripped = new SendLine("0", source);
  stripped.track = track;
  stripped.attach(source, true, 0);
  const renamed = new SendLine("1", source);
  renamed.extensions = new Map([[3, LEVEL]]);
  renamed.track = track;
  renamed.attach(source, true, 0);

  const buf = packet([[1, 0x85], [4, 0x30]]);
  const original = new Uint8Array(buf);
  const block = extensionBlock(buf, buf.length)!;
  stripped.send(buf, buf.length, 0);
  assert.deepEqual(
    [...buf.subarray(block.start, block.end)],
    [...original.subarray(block.start, block.end)],
    "the source's extension bytes are back for the next line",
  );
  renamed.send(buf, buf.length, 0);
  assert.equal(sent.length, 2);
  const [first, second] = sent as [Uint8Array, Uint8Array];
  assert.equal(readAudioLevel(first, first.length, 1), -1, "no level the receiver never agreed");
  assert.ok(first.subarray(block.start, block.end).every((b) => b === 0), "all padding");
  assert.equal(readAudioLevel(second, second.length, 3), 5, "the level under the receiver's id");
  assert.equal(first.length, original.length);
});
