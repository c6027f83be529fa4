/**
 * The WebAssembly Opus codec (core/media/opus_codec.ts) with many encoders and decoders alive in
 * one process, mono and stereo, at several rates, closed and made again: each one still carries
 * its own tone. (Through the npm package's own class, its buffers overlapped other codecs' state:
 * a room's worth of codecs garbled the audio and then aborted in libopus.)
 *
 * Run: `deno test -A tests/media/opus_codec_test.ts`
 */
import assert from "node:assert/strict";
import { OpusDecoder, OpusEncoder } from "../../core/media/opus_codec.ts";
import { goertzel } from "./_client.ts";

/** An 8000-peak tone's power (Goertzel, -1..1 scale) is about 0.015. */
const HEARD = 0.005;
const ABSENT = 1e-4;

interface Pair {
  rate: number;
  channels: number;
  tone: number;
  encoder: OpusEncoder;
  decoder: OpusDecoder;
  out: number[];
}

Deno.test("opus codec: 100 encoders and decoders at once, three rounds, each carries its own tone", () => {
  for (let round = 0; round < 3; round++) {
    const pairs: Pair[] = [];
    for (let k = 0; k < 100; k++) {
      const rate = [16000, 48000, 8000][k % 3]!;
      const channels = k % 2 === 0 ? 1 : 2;
      pairs.push({
        rate,
        channels,
        tone: 300 + 20 * k + 7 * round,
        encoder: new OpusEncoder(rate, channels, 4),
        decoder: new OpusDecoder(rate, k % 4 < 2 ? 1 : 2),
        out: [],
      });
    }
    for (let frame = 0; frame < 30; frame++) {
      for (const p of pairs) {
        const n = p.rate / 50;
        const pcm = new Int16Array(n * p.channels);
        for (let i = 0; i < n; i++) {
          const v = Math.round(8000 * Math.sin((2 * Math.PI * p.tone * (frame * n + i)) / p.rate));
          for (let c = 0; c < p.channels; c++) pcm[i * p.channels + c] = v;
        }
        p.out.push(...p.decoder.decode(p.encoder.encode(pcm)));
      }
    }
    for (const p of pairs) {
      assert.equal(p.out.length, 30 * p.rate / 50);
      const last = p.out.slice(-p.rate / 4);
      const what = `round ${round}: ${p.tone} Hz at ${p.rate} Hz, ${p.channels} channel(s)`;
      assert.ok(goertzel(last, p.rate, p.tone) > HEARD, `${what} heard`);
      assert.ok(goertzel(last, p.rate, p.tone + 500) < ABSENT, `${what}: nothing else`);
      p.encoder.close();
      p.decoder.close();
    }
  }
});

Deno.test("opus codec: a closed codec refuses work; bad input is an error", () => {
  const encoder = new OpusEncoder(48000);
  const decoder = new OpusDecoder(48000, 1);
  assert.throws(() => encoder.encode(new Int16Array(7)), /Opus encode error|cannot encode/);
  assert.throws(() => decoder.decode(new Uint8Array(5000)), /too large/);
  encoder.close();
  decoder.close();
  assert.throws(() => encoder.encode(new Int16Array(960)), /closed/);
  assert.throws(() => decoder.decode(new Uint8Array([0xf8, 0xff, 0xfe])), /closed/);
});

/**
 * Packets of 20 ms at 16 kHz: 440 Hz for 30 frames, then 1000 Hz; with FEC at `loss` % when
 * `fec`.
 */
function switchingTone(fec: boolean, loss: number): Uint8Array[] {
  const encoder = new OpusEncoder(16000, 1, 4);
  encoder.setFec(fec, loss);
  const packets: Uint8Array[] = [];
  for (let frame = 0; frame < 40; frame++) {
    const f = frame < 30 ? 440 : 1000;
    const pcm = new Int16Array(320);
    for (let i = 0; i < 320; i++) {
      pcm[i] = Math.round(8000 * Math.sin((2 * Math.PI * f * (frame * 320 + i)) / 16000));
    }
    packets.push(encoder.encode(pcm));
  }
  encoder.close();
  return packets;
}

/** Frame 30 (1000 Hz) lost: what the decoder makes of it from frame 31, by `how`. */
function lostFrame(packets: Uint8Array[], how: "recover" | "conceal"): Float32Array {
  const decoder = new OpusDecoder(16000, 1);
  for (let k = 0; k < 30; k++) decoder.decode(packets[k]!);
  const frame = how === "recover" ? decoder.recover(packets[31]!) : decoder.conceal();
  decoder.close();
  return frame;
}

Deno.test("opus codec: a lost frame comes back from the next packet's in-band FEC; without FEC it is only concealed", () => {
  const withFec = switchingTone(true, 20);
  const recovered = lostFrame(withFec, "recover");
  assert.equal(recovered.length, 320);
  assert.ok(goertzel(recovered, 16000, 1000) > HEARD, "FEC brings back the lost 1000 Hz");

  // No FEC in the stream: the same call can only extend what came before it.
  const plain = switchingTone(false, 0);
  const concealed = lostFrame(plain, "recover");
  assert.equal(concealed.length, 320);
  assert.ok(goertzel(concealed, 16000, 1000) < HEARD / 10, "no FEC: the 1000 Hz is not there");
  // ...and is then exactly what concealment makes (so the two tell whether FEC was there).
  assert.deepEqual(lostFrame(plain, "conceal"), concealed);
});
