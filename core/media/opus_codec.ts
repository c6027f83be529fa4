/**
 * Opus encoding and decoding outside any PeerConnection: libopus compiled to WebAssembly (the
 * `@evan/opus` npm package's build, its SIMD variant where the runtime has SIMD). AudioBridge's
 * file playback decodes, its RTP forwarders encode, and on the RTP engine its members' audio is
 * decoded and their mixes encoded here.
 *
 * The build exports libopus's own C API, which this module calls directly (the package's
 * classes hard-code `decode_fec` to 0): so a lost packet is recovered from the next one's
 * in-band FEC, or concealed, as libopus allows. One process-wide scratch buffer carries PCM and
 * packets in and out of the module's heap; each codec owns only its libopus state.
 *
 * @module
 */
import { createRequire } from "node:module";
// Imported so that Deno installs the package; its WebAssembly is read by path below.
import "@evan/opus/package.json" with { type: "json" };

const RATES: readonly number[] = [8000, 12000, 16000, 24000, 48000];
/** `OPUS_APPLICATION_AUDIO`: CELT for a mix (SILK, 2.5x the CPU, when FEC asks for it). */
const APPLICATION_AUDIO = 2049;
/** libopus's encoder and decoder requests used here. */
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_COMPLEXITY = 4010;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_PACKET_LOSS_PERC = 4014;
const OPUS_GET_LAST_PACKET_DURATION = 4039;
const OPUS_AUTO = -1000;
/** The longest frame encoded (60 ms at 48 kHz) and decoded (120 ms), per channel. */
const MAX_FRAME_SAMPLES = 2880;
const MAX_DECODED_SAMPLES = 5760;
/** The largest packet (3 frames of 1276 bytes). */
const MAX_PACKET_BYTES = 1276 * 3;

/** The module's exports: libopus's API and the allocator (pointers are heap offsets). */
interface OpusExports {
  memory: WebAssembly.Memory;
  malloc(bytes: number): number;
  free(ptr: number): void;
  opus_encoder_get_size(channels: number): number;
  opus_encoder_init(st: number, rate: number, channels: number, application: number): number;
  opus_encode(st: number, pcm: number, frames: number, data: number, maxBytes: number): number;
  opus_encoder_ctl_set(st: number, request: number, value: number): number;
  opus_decoder_get_size(channels: number): number;
  opus_decoder_init(st: number, rate: number, channels: number): number;
  opus_decode(
    st: number,
    data: number,
    length: number,
    pcm: number,
    frames: number,
    decodeFec: number,
  ): number;
  opus_decoder_ctl_get(st: number, request: number): number;
}

/** The instantiated module and its scratch buffers (PCM of 2 channels; one packet). */
interface Module {
  exports: OpusExports;
  pcm: number;
  packet: number;
}

let module: Module | undefined;

/** A minimal module with one SIMD instruction (the package's own probe). */
const SIMD_PROBE = Uint8Array.of(
  ...[0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253],
  ...[15, 26, 11],
);

/** The module, instantiated on first use (synchronously). */
function lib(): Module {
  if (module) return module;
  const variant = WebAssembly.validate(SIMD_PROBE) ? "simd" : "opus";
  const path = createRequire(import.meta.url).resolve(`@evan/opus/wasm/${variant}.wasm`);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(Deno.readFileSync(path)), {
    wasi_snapshot_preview1: { fd_seek() {}, fd_write() {}, fd_close() {}, proc_exit() {} },
    env: { emscripten_notify_memory_growth() {} },
  });
  const exports = instance.exports as unknown as OpusExports;
  module = {
    exports,
    pcm: exports.malloc(MAX_DECODED_SAMPLES * 2 * 2),
    packet: exports.malloc(MAX_PACKET_BYTES),
  };
  return module;
}

function rateOf(rate: number): number {
  if (!RATES.includes(rate)) throw new Error(`Opus does not run at ${rate} Hz`);
  return rate;
}

/** A libopus state in the heap; freed once on close. */
class State {
  readonly ptr: number;
  #live = true;

  constructor(size: number, init: (ptr: number) => number) {
    const m = lib().exports;
    this.ptr = m.malloc(size);
    const error = init(this.ptr);
    if (error < 0) {
      m.free(this.ptr);
      throw new Error(`Opus init error ${error}`);
    }
  }

  /** Its pointer, unless closed. */
  use(what: string): number {
    if (!this.#live) throw new Error(`Opus ${what} closed`);
    return this.ptr;
  }

  close(): void {
    if (!this.#live) return;
    this.#live = false;
    lib().exports.free(this.ptr);
  }
}

/** A mono Opus decoder at `rate`: a packet -> its samples (-1..1). */
export class OpusDecoder {
  readonly #channels: number;
  readonly #state: State;

  constructor(rate: number, channels: number) {
    const m = lib().exports;
    const ch = Math.max(1, Math.min(2, channels));
    const r = rateOf(rate);
    this.#channels = ch;
    this.#state = new State(m.opus_decoder_get_size(ch), (p) => m.opus_decoder_init(p, r, ch));
  }

  /**
   * Decodes one packet to mono floats (channels averaged).
   *
   * @throws {Error} for a packet libopus rejects, or after `close`
   */
  decode(packet: Uint8Array): Float32Array {
    if (packet.length > MAX_PACKET_BYTES) throw new Error("Opus packet too large");
    return this.#run(packet, false);
  }

  /**
   * The frame lost just before `next`: from `next`'s in-band FEC when it carries some, else
   * concealed (libopus decides). Call it before decoding `next` itself.
   */
  recover(next: Uint8Array): Float32Array {
    if (next.length > MAX_PACKET_BYTES) throw new Error("Opus packet too large");
    return this.#run(next, true);
  }

  /** One lost frame (as long as the last one), concealed from the audio before it. */
  conceal(): Float32Array {
    return this.#run(undefined, false);
  }

  #run(packet: Uint8Array | undefined, fec: boolean): Float32Array {
    const st = this.#state.use("decoder");
    const { exports: m, pcm, packet: at } = lib();
    // A recovered or concealed frame is as long as the last packet (libopus's own advice).
    const lost = packet === undefined || fec;
    const max = lost
      ? m.opus_decoder_ctl_get(st, OPUS_GET_LAST_PACKET_DURATION) || MAX_FRAME_SAMPLES / 3
      : MAX_DECODED_SAMPLES;
    if (packet) new Uint8Array(m.memory.buffer).set(packet, at);
    const frames = m.opus_decode(st, packet ? at : 0, packet?.length ?? 0, pcm, max, fec ? 1 : 0);
    if (frames < 0) throw new Error(`Opus decode error ${frames}`);
    const ch = this.#channels;
    const samples = new Int16Array(m.memory.buffer, pcm, frames * ch);
    const out = new Float32Array(frames);
    if (ch === 1) {
      for (let i = 0; i < frames; i++) out[i] = samples[i]! / 32768;
    } else {
      for (let i = 0; i < frames; i++) out[i] = (samples[2 * i]! + samples[2 * i + 1]!) / 65536;
    }
    return out;
  }

  close(): void {
    this.#state.close();
  }
}

/** An Opus encoder at `rate`, mono or stereo (interleaved), at a complexity (0-10) if given. */
export class OpusEncoder {
  readonly #channels: number;
  readonly #state: State;

  constructor(rate: number, channels = 1, complexity?: number) {
    const m = lib().exports;
    const ch = channels === 2 ? 2 : 1;
    const r = rateOf(rate);
    this.#channels = ch;
    this.#state = new State(
      m.opus_encoder_get_size(ch),
      (p) => m.opus_encoder_init(p, r, ch, APPLICATION_AUDIO),
    );
    if (complexity !== undefined) this.setComplexity(complexity);
  }

  /**
   * Encodes one frame of 16-bit samples (2.5 to 60 ms; `frames` per channel) into a packet.
   *
   * @throws {Error} for a frame libopus rejects, or after `close`
   */
  encode(pcm: Int16Array, frames = pcm.length / this.#channels): Uint8Array {
    const st = this.#state.use("encoder");
    const samples = frames * this.#channels;
    if (frames > MAX_FRAME_SAMPLES || samples > pcm.length || !Number.isInteger(frames)) {
      throw new Error(`Opus cannot encode ${frames} frames of ${pcm.length} samples`);
    }
    const { exports: m, pcm: at, packet } = lib();
    new Int16Array(m.memory.buffer, at, samples).set(pcm.subarray(0, samples));
    const length = m.opus_encode(st, at, frames, packet, MAX_PACKET_BYTES);
    if (length < 0) throw new Error(`Opus encode error ${length}`);
    return new Uint8Array(m.memory.buffer, packet, length).slice();
  }

  /** Encoder complexity, 0-10 (AudioBridge `quality`). */
  setComplexity(complexity: number): void {
    this.#ctl(OPUS_SET_COMPLEXITY, Math.max(0, Math.min(10, Math.round(complexity))));
  }

  /** Target bitrate in bit/s; 0 = libopus's automatic one. */
  setBitrate(bps: number): void {
    this.#ctl(OPUS_SET_BITRATE, bps > 0 ? Math.round(bps) : OPUS_AUTO);
  }

  /**
   * In-band FEC (each packet also carries the previous frame at a lower rate) and the loss
   * it is sized for, 0-100 %: libopus adds the redundancy only when both are set.
   */
  setFec(enabled: boolean, lossPercent: number): void {
    this.#ctl(OPUS_SET_INBAND_FEC, enabled ? 1 : 0);
    this.#ctl(OPUS_SET_PACKET_LOSS_PERC, Math.max(0, Math.min(100, Math.round(lossPercent))));
  }

  #ctl(request: number, value: number): void {
    const error = lib().exports.opus_encoder_ctl_set(this.#state.use("encoder"), request, value);
    if (error < 0) throw new Error(`Opus encoder request ${request} error ${error}`);
  }

  close(): void {
    this.#state.close();
  }
}
