/**
 * Audio RTP of a mix: 16-bit PCM at the mixer's rate packetized as Opus (48 kHz clock) or
 * G.711 (resampled to 8 kHz), with its own sequence numbers and timestamps from random starts;
 * and the payloads a mixer receives decoded. Shared by the mix's forwarders and members.
 *
 * @module
 */
import { Resampler } from "./mixer.ts";
import { OpusDecoder, OpusEncoder } from "./opus_codec.ts";

/** How the packets are made. */
export interface AudioRtpOptions {
  codec: "opus" | "pcma" | "pcmu";
  payloadType: number;
  ssrc: number;
  /** Interleaved channels of the PCM (Opus encodes stereo; G.711 gets `downmixStereo`). */
  channels?: 1 | 2;
  /** Opus encoder settings; libopus's defaults where absent (see `EncoderSettings`). */
  encoder?: EncoderSettings;
}

/** Opus encoder settings of a mix (AudioBridge `quality` and `bitrate`). */
export interface EncoderSettings {
  /** 0-10; the reference's AudioBridge uses 4. */
  complexity?: number;
  /** Bit/s; 0 = automatic. */
  bitrate?: number;
}

/** Packetizes one period of PCM at a time. */
export class AudioRtpPacketizer {
  readonly #options: AudioRtpOptions;
  readonly #rate: number;
  readonly #encoder: OpusEncoder | undefined;
  readonly #resampler = new Resampler();
  #seq = Math.floor(Math.random() * 0x10000);
  #timestamp = Math.floor(Math.random() * 0x100000000);

  constructor(options: AudioRtpOptions, rate: number) {
    this.#options = options;
    this.#rate = rate;
    this.#encoder = options.codec === "opus"
      ? new OpusEncoder(rate, options.channels ?? 1)
      : undefined;
    if (options.encoder) this.tune(options.encoder);
  }

  /** Changes the Opus encoder's settings (G.711 has none). */
  tune(settings: EncoderSettings): void {
    if (settings.complexity !== undefined) this.#encoder?.setComplexity(settings.complexity);
    if (settings.bitrate !== undefined) this.#encoder?.setBitrate(settings.bitrate);
  }

  /** The RTP packet of `pcm` (16-bit at the mixer's rate, `channels` interleaved). */
  packetize(pcm: Int16Array): Uint8Array {
    const o = this.#options;
    const channels = o.channels ?? 1;
    const frames = pcm.length / channels;
    let payload: Uint8Array;
    let step: number;
    if (this.#encoder) {
      payload = this.#encoder.encode(pcm, frames);
      step = (frames * 48000) / this.#rate;
    } else {
      const g711 = o.codec === "pcma" ? linearToAlaw : linearToUlaw;
      const out: number[] = [];
      const floats = Float32Array.from(channels === 2 ? downmixStereo(pcm) : pcm);
      this.#resampler.push(floats, this.#rate, 8000, (s) => out.push(g711(Math.round(s))));
      payload = Uint8Array.from(out);
      step = payload.length;
    }
    const packet = new Uint8Array(12 + payload.length);
    const v = new DataView(packet.buffer);
    packet[0] = 0x80;
    packet[1] = o.payloadType & 0x7f;
    v.setUint16(2, this.#seq, false);
    v.setUint32(4, this.#timestamp >>> 0, false);
    v.setUint32(8, o.ssrc >>> 0, false);
    packet.set(payload, 12);
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#timestamp = (this.#timestamp + step) % 0x100000000;
    return packet;
  }

  close(): void {
    this.#encoder?.close();
  }
}

/**
 * Interleaved stereo as mono: left and right summed (clipped), so that a centred voice, half
 * in each channel, keeps its level.
 */
export function downmixStereo(pcm: Int16Array): Int16Array {
  const mono = new Int16Array(pcm.length / 2);
  for (let i = 0; i < mono.length; i++) {
    const v = pcm[2 * i]! + pcm[2 * i + 1]!;
    mono[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return mono;
}

/** G.711 A-law of one 16-bit sample. */
export function linearToAlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, sample)) >> 3;
  let mask: number;
  if (s >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    s = -s - 1;
  }
  const ends = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
  let seg = ends.findIndex((e) => s <= e);
  if (seg < 0) return 0x7f ^ mask;
  const aval = seg << 4;
  const shifted = seg < 2 ? s >> 1 : s >> seg;
  seg = aval | (shifted & 0x0f);
  return seg ^ mask;
}

/** G.711 mu-law of one 16-bit sample. */
export function linearToUlaw(sample: number): number {
  const BIAS = 0x84;
  let s = Math.max(-32768, Math.min(32767, sample));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s = Math.min(s + BIAS, 0x7fff);
  let exp = 7;
  for (let m = 0x4000; (s & m) === 0 && exp > 0; m >>= 1) exp--;
  const mantissa = (s >> (exp + 3)) & 0x0f;
  return ~(sign | (exp << 4) | mantissa) & 0xff;
}

/** Decodes the audio RTP payloads of one codec a mixer receives. */
export class AudioPayloadDecoder {
  readonly #codec: "opus" | "pcmu" | "pcma";
  readonly #rate: number;
  readonly #opus: OpusDecoder | undefined;

  /** Opus decodes straight at `rate` (mono: libopus downmixes a stereo sender). */
  constructor(codec: "opus" | "pcmu" | "pcma", rate: number) {
    this.#codec = codec;
    this.#rate = rate;
    this.#opus = codec === "opus" ? new OpusDecoder(rate, 1) : undefined;
  }

  /** Mono samples (16-bit scale) and their rate; undefined for a payload Opus cannot decode. */
  decode(payload: Uint8Array): { samples: Float32Array; rate: number } | undefined {
    if (!this.#opus) {
      const decode = this.#codec === "pcma" ? alawToLinear : ulawToLinear;
      return { samples: Float32Array.from(payload, decode), rate: 8000 };
    }
    let samples: Float32Array;
    try {
      samples = this.#opus.decode(payload);
    } catch {
      return undefined;
    }
    for (let i = 0; i < samples.length; i++) samples[i] = samples[i]! * 32768;
    return { samples, rate: this.#rate };
  }

  close(): void {
    this.#opus?.close();
  }
}

/** One G.711 mu-law byte as a 16-bit sample. */
export function ulawToLinear(byte: number): number {
  const u = ~byte & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return u & 0x80 ? 0x84 - t : t - 0x84;
}

/** One G.711 A-law byte as a 16-bit sample. */
export function alawToLinear(byte: number): number {
  const a = byte ^ 0x55;
  const seg = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}
