/**
 * SRTP sending of the forwarders (core/media/rtp/srtp.ts) against published vectors: RFC 3711
 * B.2 (AES-CM keystream) and B.3 (key derivation), libsrtp's srtp_validate packet for both
 * tag lengths, and the packet index across a sequence number wrap (rollover counter in the
 * IV and the tag, a late packet from before the wrap, a resent index refused); and receiving
 * (Streaming sources): libsrtp's packet and ffmpeg's SRTP back to RTP, forged, replayed and
 * wrongly keyed packets refused.
 *
 * Run: `deno test -A tests/media/srtp_test.ts`
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import {
  aesCmKeystream,
  deriveSessionKeys,
  srtpMasterKey,
  SrtpReceiver,
  SrtpSender,
} from "../../core/media/rtp/srtp.ts";
import { ffmpegRtp, requireTool } from "./_mjr_tools.ts";

const hex = (s: string): Uint8Array =>
  Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));
const toHex = (b: Uint8Array): string =>
  [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("srtp: RFC 3711 B.2 AES-CM keystream", () => {
  const key = hex("2B7E151628AED2A6ABF7158809CF4F3C");
  const iv = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000");
  const stream = aesCmKeystream(key, iv, 0xff02 * 16);
  assert.equal(
    toHex(stream.subarray(0, 48)),
    "e03ead0935c95e80e166b16dd92b4eb4d23513162b02d0f72a43a2fe4a5f97ab" +
      "41e95b3bb0a2e8dd477901e4fca894c0",
  );
  // The last blocks of the RFC's listing: counters FEFF, FF00 and FF01.
  assert.equal(
    toHex(stream.subarray(0xfeff * 16, 0xfeff * 16 + 16)),
    "ec8cdf7398607cb0f2d21675ea9ea1e4",
  );
  assert.equal(
    toHex(stream.subarray(0xff00 * 16, 0xff00 * 16 + 16)),
    "362b7c3c6773516318a077d7fc5073ae",
  );
  assert.equal(
    toHex(stream.subarray(0xff01 * 16, 0xff01 * 16 + 16)),
    "6a2cc3787889374fbeb4c81b17ba6c44",
  );
});

Deno.test("srtp: RFC 3711 B.3 key derivation", () => {
  const keys = deriveSessionKeys(
    hex("E1F97A0D3E018BE0D64FA32C06DE4139"),
    hex("0EC675AD498AFEEBB6960B3AABE6"),
  );
  assert.equal(toHex(keys.cipherKey), "c61e7a93744f39ee10734afe3ff7a087");
  assert.equal(toHex(keys.cipherSalt), "30cbbc08863d8c85d49db34a9ae1");
  assert.equal(toHex(keys.authKey), "cebe321f6ff7716b6fd4ab49af256a156d38baa4");
});

const MASTER = hex("E1F97A0D3E018BE0D64FA32C06DE4139 0EC675AD498AFEEBB6960B3AABE6");
const PLAIN = hex("800f1234decafbadcafebabe abababababababababababababababab");

Deno.test("srtp: libsrtp's reference packet, 80- and 32-bit tags", () => {
  const cipher = "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402";
  assert.equal(toHex(new SrtpSender(80, MASTER).protect(PLAIN)!), cipher + "b78d6acc99ea179b8dbb");
  assert.equal(toHex(new SrtpSender(32, MASTER).protect(PLAIN)!), cipher + "b78d6acc");
  assert.equal(toHex(PLAIN), "800f1234decafbadcafebabe" + "ab".repeat(16), "input untouched");
});

Deno.test("srtp: srtp_crypto decoding as the reference (30 bytes or more)", () => {
  const b64 = btoa(String.fromCharCode(...MASTER));
  assert.deepEqual(srtpMasterKey(b64), MASTER);
  assert.deepEqual(srtpMasterKey(btoa(String.fromCharCode(...MASTER, 1, 2, 3))), MASTER);
  assert.equal(srtpMasterKey("abc"), undefined);
  assert.equal(srtpMasterKey(btoa(String.fromCharCode(...MASTER.subarray(0, 29)))), undefined);
  assert.throws(() => new SrtpSender(40 as 80, MASTER), /Invalid SRTP suite/);
});

/** `PLAIN` with sequence number `seq`. */
function packet(seq: number): Uint8Array {
  const p = PLAIN.slice();
  new DataView(p.buffer).setUint16(2, seq);
  return p;
}

/** What RFC 3711 says the SRTP packet of `plain` at rollover counter `roc` is (tag 80). */
function expected(plain: Uint8Array, roc: number): string {
  const keys = deriveSessionKeys(MASTER.subarray(0, 16), MASTER.subarray(16));
  const iv = new Uint8Array(16);
  iv.set(keys.cipherSalt);
  const v = new DataView(iv.buffer);
  v.setUint32(4, v.getUint32(4) ^ 0xcafebabe);
  v.setUint32(8, v.getUint32(8) ^ roc);
  v.setUint16(12, v.getUint16(12) ^ new DataView(plain.buffer).getUint16(2));
  const ks = aesCmKeystream(keys.cipherKey, iv, plain.length - 12);
  const out = plain.slice();
  for (let i = 12; i < out.length; i++) out[i]! ^= ks[i - 12]!;
  const rocBytes = new Uint8Array(4);
  new DataView(rocBytes.buffer).setUint32(0, roc);
  const tag = createHmac("sha1", keys.authKey).update(out).update(rocBytes).digest();
  return toHex(out) + toHex(new Uint8Array(tag).subarray(0, 10));
}

Deno.test("srtp: rollover counter across the sequence number wrap, replays refused", () => {
  const s = new SrtpSender(80, MASTER);
  // From the start the index follows the sequence numbers up to the wrap.
  for (let seq = 40000; seq < 65536; seq += 1000) {
    assert.equal(toHex(s.protect(packet(seq))!), expected(packet(seq), 0), `seq ${seq}`);
  }
  assert.equal(toHex(s.protect(packet(65535))!), expected(packet(65535), 0));
  assert.equal(toHex(s.protect(packet(1))!), expected(packet(1), 1), "after the wrap: ROC 1");
  assert.equal(toHex(s.protect(packet(65534))!), expected(packet(65534), 0), "late, before it");
  assert.equal(toHex(s.protect(packet(0))!), expected(packet(0), 1), "late, after it");
  assert.equal(s.protect(packet(1)), undefined, "an index already sent");
  assert.equal(s.protect(packet(65535)), undefined, "an index already sent, before the wrap");
  assert.equal(s.protect(packet(65536 - 200)), undefined, "out of the 128-packet window");
  assert.equal(s.refused, 3);
  for (let seq = 2; seq < 40000; seq += 500) s.protect(packet(seq));
  assert.equal(toHex(s.protect(packet(40000))!), expected(packet(40000), 1));
  for (let seq = 40500; seq < 65536; seq += 500) s.protect(packet(seq));
  assert.equal(toHex(s.protect(packet(7))!), expected(packet(7), 2), "second wrap: ROC 2");
  // A cut-short header is not sent.
  assert.equal(s.protect(PLAIN.subarray(0, 8)), undefined);
});

Deno.test("srtp receive: libsrtp's reference packet back to RTP; forged, replayed and cut packets refused", () => {
  for (const suite of [80, 32] as const) {
    const srtp = new SrtpSender(suite, MASTER).protect(PLAIN)!;
    const receiver = new SrtpReceiver(suite, MASTER);
    assert.equal(toHex(receiver.unprotect(srtp)!), toHex(PLAIN));
    assert.equal(receiver.unprotect(srtp), undefined, "a replay");
    const forged = new SrtpSender(suite, MASTER).protect(PLAIN)!;
    forged[14]! ^= 1;
    assert.equal(new SrtpReceiver(suite, MASTER).unprotect(forged), undefined, "a forged byte");
    assert.equal(new SrtpReceiver(suite, MASTER).unprotect(srtp.subarray(0, 14)), undefined);
    assert.equal(receiver.dropped, 1);
  }
  // Across a wrap, each SSRC on its own: every packet comes back, in any order within the window.
  const sender = new SrtpSender(80, MASTER);
  const receiver = new SrtpReceiver(80, MASTER);
  const packets: Uint8Array[] = [];
  for (let i = 0; i < 300; i++) {
    const p = PLAIN.slice();
    new DataView(p.buffer).setUint16(2, (0xff00 + i) & 0xffff);
    p[12] = i & 0xff;
    packets.push(sender.protect(p)!);
  }
  const order = packets.map((_, i) => i);
  for (let i = 0; i < order.length - 1; i += 2) {
    [order[i], order[i + 1]] = [order[i + 1]!, order[i]!];
  }
  for (const i of order) {
    assert.equal(receiver.unprotect(packets[i]!)?.[12], i & 0xff, `packet ${i}`);
  }
  assert.equal(receiver.dropped, 0);
});

Deno.test("srtp receive: ffmpeg's SRTP (AES_CM_128_HMAC_SHA1_80 and _32) back to its RTP", async () => {
  await requireTool("ffmpeg", "ffmpeg");
  const key = "WbTBosdVUZqEb6Htqhn+m3z7wUh4RJVR8nE15GbN";
  const master = srtpMasterKey(key)!;
  const suites = [[80, "AES_CM_128_HMAC_SHA1_80"], [32, "AES_CM_128_HMAC_SHA1_32"]] as const;
  for (const [suite, name] of suites) {
    const captured = await ffmpegRtp("audio", 1, 111, { suite: name, key });
    const rtp = captured.filter((c) => (c.packet[1]! & 0x7f) === 111);
    assert.ok(rtp.length >= 40, `${rtp.length} packets`);
    const receiver = new SrtpReceiver(suite, master);
    const plain = rtp.map((c) => receiver.unprotect(c.packet));
    assert.equal(receiver.dropped, 0, `suite ${suite}`);
    // Each is an Opus frame of libopus's one configuration: the same TOC byte after the
    // 12-byte header (encrypted, those bytes look random).
    const tocs = new Set(plain.map((p) => p![12]));
    assert.equal(tocs.size, 1, `TOC bytes ${[...tocs]}`);
    assert.equal(new Set(rtp.map((c) => c.packet[12])).size > 1, true, "encrypted on the wire");
    const wrong = new SrtpReceiver(suite, new Uint8Array(30));
    assert.equal(rtp.filter((c) => wrong.unprotect(c.packet)).length, 0, "a wrong key opens none");
  }
});
