/**
 * Opus encoding and decoding outside any PeerConnection: libopus compiled to WebAssembly (the
 * `opusscript` npm package's build). AudioBridge's file playback decodes, its RTP forwarders
 * encode, and on the RTP engine its members' audio is decoded and their mixes encoded here.
 *
 * The package's own `OpusScript` class is not used: it views the heap at twice each buffer's
 * address (a 16-bit array indexed by a byte address), so every encode and decode wrote outside
 * its buffers, over other codecs' state, once several codecs lived in one process (libopus then
 * aborted); and its views go stale when the heap grows. Here each call goes through the current
 * heap at the buffers' own addresses, in the build's format: PCM crosses as one byte per 16-bit
 * slot, little-endian (its C++ packs the bytes into samples and unpacks them again).
 *
 * @module
 */
import createNative from "opusscript/build/opusscript_native_wasm.js";

type Rate = 8000 | 12000 | 16000 | 24000 | 48000;
const RATES: readonly number[] = [8000, 12000, 16000, 24000, 48000];
/** `OPUS_APPLICATION_AUDIO`. */
const APPLICATION_AUDIO = 2049;
/** libopus's `OPUS_SET_COMPLEXITY` request. */
const OPUS_SET_COMPLEXITY = 4010;
/** The longest frame encoded (60 ms at 48 kHz) and decoded (120 ms), per channel. */
const MAX_FRAME_SAMPLES = 2880;
const MAX_DECODED_SAMPLES = 5760;
/** The largest packet (3 frames of 1276 bytes). */
const MAX_PACKET_BYTES = 1276 * 3;
/** Heap bytes per sample crossing: its 2 bytes, each in a 16-bit slot. */
const SLOT_BYTES = 4;

/** One libopus encoder and decoder pair (only one of them is used per codec). */
interface Handler {
  _encode(pcm: number, maxBytes: number, out: number, frameSize: number): number;
  _decode(data: number, length: number, pcm: number): number;
  _encoder_ctl(ctl: number, arg: number): number;
  _decoder_ctl(ctl: number, arg: number): number;
}

/** The WebAssembly module: its heap (replaced when it grows), allocator and handlers. */
interface Native {
  OpusScriptHandler: {
    new (rate: number, channels: number, application: number): Handler;
    destroy_handler(handler: Handler): void;
  };
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  HEAPU8: Uint8Array;
}

let native: Native | undefined;

/** The module, instantiated on first use (synchronously). */
function lib(): Native {
  return native ??= (createNative as () => Native)();
}

function rateOf(rate: number): Rate {
  if (!RATES.includes(rate)) throw new Error(`Opus does not run at ${rate} Hz`);
  return rate as Rate;
}

/** libopus's `OPUS_SET_BITRATE` request, and its automatic bitrate. */
const OPUS_SET_BITRATE = 4002;
const OPUS_AUTO = -1000;
/** libopus's `OPUS_RESET_STATE` request (encoders and decoders). */
const OPUS_RESET_STATE = 4028;
/** libopus's default encoder complexity. */
const DEFAULT_COMPLEXITY = 9;
/** Idle handlers kept per rate and channel count (see `Codec.release`). */
const MAX_IDLE = 64;

/** Idle codecs by `rate/channels`: the build's handler never frees a buffer it allocates. */
const idle = new Map<string, Codec[]>();

/**
 * A handler with its PCM and packet buffers in the module's heap. Released codecs are reset and
 * reused: destroying a handler leaks its internal PCM buffer (tens of KiB), so churn would grow
 * the heap, which never shrinks.
 */
class Codec {
  readonly key: string;
  readonly channels: number;
  readonly handler: Handler;
  /** PCM in (encoder) or out (decoder), as byte slots; 4-aligned (malloc's alignment). */
  readonly pcm: number;
  readonly packet: number;
  #live = true;

  private constructor(key: string, rate: number, channels: number) {
    const n = lib();
    this.key = key;
    this.channels = channels;
    this.handler = new n.OpusScriptHandler(rateOf(rate), channels, APPLICATION_AUDIO);
    this.pcm = n._malloc(MAX_DECODED_SAMPLES * channels * SLOT_BYTES);
    this.packet = n._malloc(MAX_PACKET_BYTES);
  }

  /** A fresh codec: a reset idle one when there is one (libopus's default settings). */
  static acquire(rate: number, channels: number): Codec {
    const key = `${rateOf(rate)}/${channels}`;
    const reused = idle.get(key)?.pop();
    const codec = reused ?? new Codec(key, rate, channels);
    if (reused) {
      reused.#live = true;
      reused.handler._encoder_ctl(OPUS_RESET_STATE, 0);
      reused.handler._decoder_ctl(OPUS_RESET_STATE, 0);
      reused.handler._encoder_ctl(OPUS_SET_BITRATE, OPUS_AUTO);
      reused.handler._encoder_ctl(OPUS_SET_COMPLEXITY, DEFAULT_COMPLEXITY);
    }
    return codec;
  }

  /** The heap now (a view made before the heap grew is detached). */
  get heap(): Uint8Array {
    return lib().HEAPU8;
  }

  get live(): boolean {
    return this.#live;
  }

  /** Back to the idle codecs (or destroyed when enough are idle); idempotent. */
  release(): void {
    if (!this.#live) return;
    this.#live = false;
    const list = idle.get(this.key) ?? [];
    idle.set(this.key, list);
    if (list.length < MAX_IDLE) {
      list.push(this);
      return;
    }
    const n = lib();
    n.OpusScriptHandler.destroy_handler(this.handler);
    n._free(this.pcm);
    n._free(this.packet);
  }
}

/** A mono Opus decoder at `rate`: a packet -> its samples (-1..1). */
export class OpusDecoder {
  readonly #codec: Codec;

  constructor(rate: number, channels: number) {
    this.#codec = Codec.acquire(rate, Math.max(1, Math.min(2, channels)));
  }

  /**
   * Decodes one packet to mono floats (channels averaged).
   *
   * @throws {Error} for a packet libopus rejects, or after `close`
   */
  decode(packet: Uint8Array): Float32Array {
    const c = this.#codec;
    if (!c.live) throw new Error("Opus decoder closed");
    if (packet.length > MAX_PACKET_BYTES) throw new Error("Opus packet too large");
    c.heap.set(packet, c.packet);
    const frames = c.handler._decode(c.packet, packet.length, c.pcm);
    if (frames < 0) throw new Error(`Opus decode error ${frames}`);
    const ch = c.channels;
    const slots = new Uint16Array(c.heap.buffer, c.pcm, 2 * frames * ch);
    const out = new Float32Array(frames);
    for (let i = 0; i < frames; i++) {
      let sum = 0;
      for (let k = 0; k < ch; k++) {
        const at = 2 * (i * ch + k);
        // Little-endian bytes of a signed 16-bit sample.
        sum += ((slots[at + 1]! << 24) | (slots[at]! << 16)) >> 16;
      }
      out[i] = sum / ch / 32768;
    }
    return out;
  }

  close(): void {
    this.#codec.release();
  }
}

/** An Opus encoder at `rate`, mono or stereo (interleaved), at a complexity (0-10) if given. */
export class OpusEncoder {
  readonly #codec: Codec;

  constructor(rate: number, channels = 1, complexity?: number) {
    this.#codec = Codec.acquire(rate, channels === 2 ? 2 : 1);
    if (complexity !== undefined) this.setComplexity(complexity);
  }

  /**
   * Encodes one frame of 16-bit samples (2.5 to 60 ms; `frames` per channel) into a packet.
   *
   * @throws {Error} for a frame libopus rejects, or after `close`
   */
  encode(pcm: Int16Array, frames = pcm.length / this.#codec.channels): Uint8Array {
    const c = this.#codec;
    if (!c.live) throw new Error("Opus encoder closed");
    const samples = frames * c.channels;
    if (samples > MAX_FRAME_SAMPLES * c.channels || samples > pcm.length) {
      throw new Error(`Opus cannot encode ${frames} frames of ${pcm.length} samples`);
    }
    new Uint16Array(c.heap.buffer, c.pcm, samples * 2)
      .set(new Uint8Array(pcm.buffer, pcm.byteOffset, samples * 2));
    // Its C++ packs the byte slots back into `samples` samples, in place.
    const length = c.handler._encode(c.pcm, samples, c.packet, frames);
    if (length < 0) throw new Error(`Opus encode error ${length}`);
    return c.heap.slice(c.packet, c.packet + length);
  }

  /** Encoder complexity, 0-10 (AudioBridge `quality`). */
  setComplexity(complexity: number): void {
    const clamped = Math.max(0, Math.min(10, Math.round(complexity)));
    this.#codec.handler._encoder_ctl(OPUS_SET_COMPLEXITY, clamped);
  }

  /** Target bitrate in bit/s; 0 = libopus's automatic one. */
  setBitrate(bps: number): void {
    this.#codec.handler._encoder_ctl(OPUS_SET_BITRATE, bps > 0 ? Math.round(bps) : OPUS_AUTO);
  }

  close(): void {
    this.#codec.release();
  }
}
