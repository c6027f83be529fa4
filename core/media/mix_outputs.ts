/**
 * What a room's mixer does besides mix-minus (AudioBridge): file players whose audio every
 * member hears (Ogg/Opus announcements), a WAV recorder of the full mix and RTP forwarders of
 * the full mix (Opus, PCMA or PCMU to a UDP address). The mixer calls `frame()` on players and
 * `write()` on sinks once per period with the period's samples at its rate.
 *
 * @module
 */
import dgram from "node:dgram";
import { parseOggOpus } from "./ogg_opus.ts";
import { OpusDecoder } from "./opus_codec.ts";
import { srtpMasterKey, SrtpSender } from "./rtp/srtp.ts";
import { AudioRtpPacketizer } from "./audio_rtp.ts";

/** An Ogg/Opus file played into a mix, decoded a packet at a time. */
export class FilePlayer {
  readonly #packets: Uint8Array[];
  readonly #decoder: OpusDecoder;
  readonly #loop: boolean;
  readonly #skip: number;
  #next = 0;
  #skipLeft: number;
  #pending: Float32Array = new Float32Array(0);
  ended = false;

  private constructor(packets: Uint8Array[], decoder: OpusDecoder, skip: number, loop: boolean) {
    this.#packets = packets;
    this.#decoder = decoder;
    this.#skip = skip;
    this.#skipLeft = skip;
    this.#loop = loop;
  }

  /** Reads and checks `path`; decodes at `rate` (an Opus rate: the rooms' rates are). */
  static async open(path: string, rate: number, loop: boolean): Promise<FilePlayer> {
    const ogg = parseOggOpus(await Deno.readFile(path));
    if (ogg.packets.length === 0) throw new Error("No audio in the file");
    const decoder = new OpusDecoder(rate, ogg.channels);
    return new FilePlayer(ogg.packets, decoder, Math.round((ogg.preSkip * rate) / 48000), loop);
  }

  /** The next `n` samples (silence past the end); `ended` once the file is out. */
  frame(n: number): Float32Array {
    const out = new Float32Array(n);
    let filled = 0;
    while (filled < n && !this.ended) {
      if (this.#pending.length === 0) {
        if (this.#next >= this.#packets.length) {
          if (!this.#loop) {
            this.ended = true;
            break;
          }
          this.#next = 0;
          this.#skipLeft = this.#skip;
        }
        let pcm = this.#decoder.decode(this.#packets[this.#next++]!);
        const drop = Math.min(this.#skipLeft, pcm.length);
        this.#skipLeft -= drop;
        pcm = pcm.subarray(drop);
        this.#pending = pcm;
        continue;
      }
      const take = Math.min(n - filled, this.#pending.length);
      out.set(this.#pending.subarray(0, take), filled);
      this.#pending = this.#pending.subarray(take);
      filled += take;
    }
    return out;
  }

  close(): void {
    this.#decoder.close();
  }
}

/** A sink of the full mix, in 16-bit samples at the mixer's rate (interleaved when stereo). */
export interface MixSink {
  write(pcm: Int16Array): void;
  close(): void;
}

/** Header sizes are brought up to date this often, so a crash leaves a readable file. */
const WAV_FIXUP_PERIODS = 50;

/**
 * 16-bit PCM WAV, mono or stereo, written as the mix goes; sizes fixed up every second and on
 * close.
 */
export class WavWriter implements MixSink {
  readonly #file: Deno.FsFile;
  readonly #rate: number;
  readonly #channels: number;
  #dataBytes = 0;
  #writes = 0;
  #closed = false;

  constructor(path: string, rate: number, channels: 1 | 2 = 1) {
    this.#file = Deno.openSync(path, { write: true, create: true, truncate: true });
    this.#rate = rate;
    this.#channels = channels;
    writeAll(this.#file, this.#header());
  }

  write(pcm: Int16Array): void {
    if (this.#closed) return;
    const bytes = new Uint8Array(pcm.length * 2);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < pcm.length; i++) view.setInt16(i * 2, pcm[i]!, true);
    writeAll(this.#file, bytes);
    this.#dataBytes += bytes.length;
    if (++this.#writes % WAV_FIXUP_PERIODS === 0) this.#fixup();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#fixup();
    this.#file.close();
  }

  #fixup(): void {
    this.#file.seekSync(0, Deno.SeekMode.Start);
    writeAll(this.#file, this.#header());
    this.#file.seekSync(0, Deno.SeekMode.End);
  }

  #header(): Uint8Array {
    const h = new Uint8Array(44);
    const v = new DataView(h.buffer);
    const text = (at: number, s: string) => {
      for (let i = 0; i < s.length; i++) h[at + i] = s.charCodeAt(i);
    };
    text(0, "RIFF");
    v.setUint32(4, 36 + this.#dataBytes, true);
    text(8, "WAVE");
    text(12, "fmt ");
    v.setUint32(16, 16, true);
    v.setUint16(20, 1, true); // PCM
    v.setUint16(22, this.#channels, true);
    v.setUint32(24, this.#rate, true);
    v.setUint32(28, this.#rate * 2 * this.#channels, true);
    v.setUint16(32, 2 * this.#channels, true);
    v.setUint16(34, 16, true);
    text(36, "data");
    v.setUint32(40, this.#dataBytes, true);
    return h;
  }
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += file.writeSync(bytes.subarray(done));
}

/** What an RTP forwarder of the mix sends. */
export interface MixForwardOptions {
  host: string;
  port: number;
  codec: "opus" | "pcma" | "pcmu";
  payloadType: number;
  ssrc: number;
  /** SRTP: AES_CM_128_HMAC_SHA1_80 or _32, master key and salt (30 bytes) in base64. */
  srtp?: { suite: 32 | 80; key: string };
}

/**
 * RTP of the full mix to one UDP address: Opus at 48 kHz clock (stereo for a stereo mix, as the
 * reference's spatial rooms), or G.711 at 8 kHz (left and right summed); SRTP-protected with
 * `srtp`.
 */
export class RtpMixForwarder implements MixSink {
  readonly #options: MixForwardOptions;
  readonly #socket: dgram.Socket;
  readonly #packetizer: AudioRtpPacketizer;
  readonly #srtp: SrtpSender | undefined;
  /** Packets sent (listforwarders, tests). */
  packets = 0;

  constructor(options: MixForwardOptions, rate: number, channels: 1 | 2 = 1) {
    if (options.srtp) {
      const master = srtpMasterKey(options.srtp.key);
      if (!master) throw new Error("Invalid SRTP crypto");
      this.#srtp = new SrtpSender(options.srtp.suite, master);
    }
    this.#options = options;
    this.#packetizer = new AudioRtpPacketizer({ ...options, channels }, rate);
    this.#socket = dgram.createSocket(options.host.includes(":") ? "udp6" : "udp4");
    // Nothing is received: a send error (no listener) must not end the worker.
    this.#socket.on("error", () => {});
  }

  write(pcm: Int16Array): void {
    const o = this.#options;
    const packet = this.#packetizer.packetize(pcm);
    const out = this.#srtp ? this.#srtp.protect(packet) : packet;
    if (!out) return;
    this.#socket.send(out, o.port, o.host);
    this.packets++;
  }

  close(): void {
    this.#packetizer.close();
    try {
      this.#socket.close();
    } catch {
      // Closed already.
    }
  }
}
