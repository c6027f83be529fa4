/**
 * Opus encoding and decoding outside any PeerConnection (libopus compiled to WebAssembly, the
 * `opusscript` npm package): AudioBridge's file playback decodes, its RTP forwarders encode.
 *
 * @module
 */
import OpusScript from "opusscript";

type Rate = 8000 | 12000 | 16000 | 24000 | 48000;
const RATES: readonly number[] = [8000, 12000, 16000, 24000, 48000];

function rateOf(rate: number): Rate {
  if (!RATES.includes(rate)) throw new Error(`Opus does not run at ${rate} Hz`);
  return rate as Rate;
}

/** A mono Opus decoder at `rate`: a packet -> its samples (-1..1). */
export class OpusDecoder {
  readonly #codec: OpusScript;
  readonly #channels: number;

  constructor(rate: number, channels: number) {
    this.#channels = Math.max(1, Math.min(2, channels));
    this.#codec = new OpusScript(rateOf(rate), this.#channels, OpusScript.Application.AUDIO);
  }

  /** Decodes one packet to mono floats (channels averaged). */
  decode(packet: Uint8Array): Float32Array {
    const bytes = this.#codec.decode(packet as unknown as Parameters<OpusScript["decode"]>[0]);
    const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1);
    const ch = this.#channels;
    const out = new Float32Array(pcm.length / ch);
    for (let i = 0; i < out.length; i++) {
      let sum = 0;
      for (let c = 0; c < ch; c++) sum += pcm[i * ch + c]!;
      out[i] = sum / ch / 32768;
    }
    return out;
  }

  close(): void {
    this.#codec.delete();
  }
}

/** A mono Opus encoder at `rate`. */
export class OpusEncoder {
  readonly #codec: OpusScript;

  constructor(rate: number) {
    this.#codec = new OpusScript(rateOf(rate), 1, OpusScript.Application.AUDIO);
  }

  /** Encodes one frame of 16-bit samples (2.5 to 60 ms) into a packet. */
  encode(pcm: Int16Array): Uint8Array {
    const input = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    const out = this.#codec.encode(
      input as unknown as Parameters<OpusScript["encode"]>[0],
      pcm.length,
    );
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength).slice();
  }

  close(): void {
    this.#codec.delete();
  }
}
