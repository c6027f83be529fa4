/**
 * Audio RTP of a mix: 16-bit PCM at the mixer's rate packetized as Opus (48 kHz clock) or
 * G.711 (resampled to 8 kHz), with its own sequence numbers and timestamps from random starts;
 * and the payloads a mixer receives decoded. Shared by the mix's forwarders and members.
 *
 * @module
 */
import { Resampler } from "./mixer.ts";
import { OpusDecoder, OpusEncoder } from "./opus_codec.ts";
import type { EncoderSettings } from "./types.ts";

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

/** Packetizes one period of PCM at a time. */
export class AudioRtpPacketizer {
  readonly #options: AudioRtpOptions;
  readonly #rate: number;
  readonly #encoder: OpusEncoder | undefined;
  readonly #resampler = new Resampler();
  /** Its FEC settings so far (they may come one at a time). */
  #fec: Pick<EncoderSettings, "fec" | "expectedLoss"> = {};
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
    if (settings.fec !== undefined || settings.expectedLoss !== undefined) {
      this.#fec = { ...this.#fec, ...settings };
      this.#encoder?.setFec(this.#fec.fec ?? false, this.#fec.expectedLoss ?? 0);
    }
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

/** Decoded audio (16-bit scale) and its rate. */
export interface DecodedAudio {
  samples: Float32Array;
  rate: number;
}

/** Decodes the audio RTP payloads of one codec a mixer receives. */
class AudioPayloadDecoder {
  readonly #codec: "opus" | "pcmu" | "pcma";
  readonly #rate: number;
  readonly #opus: OpusDecoder | undefined;

  /** Opus decodes straight at `rate` (mono: libopus downmixes a stereo sender). */
  constructor(codec: "opus" | "pcmu" | "pcma", rate: number) {
    this.#codec = codec;
    this.#rate = rate;
    this.#opus = codec === "opus" ? new OpusDecoder(rate, 1) : undefined;
  }

  /** Mono samples and their rate; undefined for a payload Opus cannot decode. */
  decode(payload: Uint8Array): DecodedAudio | undefined {
    if (!this.#opus) {
      const decode = this.#codec === "pcma" ? alawToLinear : ulawToLinear;
      return { samples: Float32Array.from(payload, decode), rate: 8000 };
    }
    return this.#opusRun((o) => o.decode(payload));
  }

  /**
   * The Opus frame lost just before `next`, from `next`'s in-band FEC (concealed when it has
   * none); undefined for G.711, which has none.
   */
  recover(next: Uint8Array): DecodedAudio | undefined {
    return this.#opusRun((o) => o.recover(next));
  }

  /** One lost Opus frame, concealed; undefined for G.711. */
  conceal(): DecodedAudio | undefined {
    return this.#opusRun((o) => o.conceal());
  }

  #opusRun(run: (o: OpusDecoder) => Float32Array): DecodedAudio | undefined {
    if (!this.#opus) return undefined;
    let samples: Float32Array;
    try {
      samples = run(this.#opus);
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

/** A packet this far behind the last one (a second of 20 ms frames) is late; further, a restart. */
const MAX_LATE_PACKETS = 50;
/** Longer gaps are not recovered: the reference's default prebuffering (6 packets). */
const MAX_RECOVERED_GAP = 6;

/**
 * One member's received audio RTP, decoded in order: a duplicate or late packet is dropped (it
 * would repeat or reorder audio); a new stream (another SSRC, or numbers far behind: a restart)
 * starts over; with `fec`, the packets lost before one are recovered from its in-band FEC (the
 * last of them) or concealed, as the reference does, so that the mix hears no hole.
 */
export class AudioStreamDecoder {
  /** Decode in-band FEC of lost Opus packets (the member's stream has it). */
  fec = false;
  readonly #decoder: AudioPayloadDecoder;
  #lastSeq = -1;
  #lastSsrc = -1;

  constructor(codec: "opus" | "pcmu" | "pcma", rate: number) {
    this.#decoder = new AudioPayloadDecoder(codec, rate);
  }

  /** Decodes one packet's `payload` (`seq`, `ssrc`: its header's) and what was lost before. */
  receive(
    seq: number,
    ssrc: number,
    payload: Uint8Array,
    emit: (samples: Float32Array, rate: number) => void,
  ): void {
    const same = ssrc === this.#lastSsrc && this.#lastSeq >= 0;
    const ahead = same ? (seq - this.#lastSeq) << 16 >> 16 : 1;
    if (ahead <= 0 && -ahead <= MAX_LATE_PACKETS) return;
    this.#lastSeq = seq;
    this.#lastSsrc = ssrc;
    const lost = ahead - 1;
    if (this.fec && lost > 0 && lost < MAX_RECOVERED_GAP) {
      for (let i = 1; i <= lost; i++) {
        const frame = i === lost ? this.#decoder.recover(payload) : this.#decoder.conceal();
        if (!frame) break;
        emit(frame.samples, frame.rate);
      }
    }
    const decoded = this.#decoder.decode(payload);
    if (decoded) emit(decoded.samples, decoded.rate);
  }

  close(): void {
    this.#decoder.close();
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
