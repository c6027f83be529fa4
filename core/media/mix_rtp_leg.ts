/**
 * A plain-RTP member of a mixer (AudioBridge `rtp` participants): a UDP socket bound on the
 * gateway's address in a port range, which decodes the Opus or G.711 RTP it receives for the
 * mix and sends the member's mix back as RTP to the member's address, from the same socket.
 * With `levelExt` it also keeps the mean RFC 6464 level of what it receives (talking events).
 *
 * @module
 */
import dgram from "node:dgram";
import { AudioRtpPacketizer, AudioStreamDecoder } from "./audio_rtp.ts";
import { AUDIO_LEVEL_URI, readAudioLevel } from "./rtp/audio_level_ext.ts";
import { sequenceNumber, ssrc } from "./rtp/header.ts";
import { MjrRecorder } from "./rtp/mjr_recorder.ts";
import { sourceWithoutFeedback } from "./rtp/send_lines.ts";
import type { EncoderSettings } from "./types.ts";

/** What a leg is made with. */
export interface RtpLegOptions {
  /** The local address to bind. */
  ip: string;
  /** Ports tried, from a slider that moves on (as the reference's `rtp_port_range`). */
  portRange: { min: number; max: number };
  /** Where its mix goes (absent: nothing is sent, as the reference without `ip`/`port`). */
  remote?: { host: string; port: number } | undefined;
  codec: "opus" | "pcmu" | "pcma";
  payloadType: number;
  /** The RFC 6464 audio level extension id of its packets (0 or absent: none read). */
  levelExt?: number;
  /** The mixer's rate. */
  rate: number;
}

/** The next port each range tries. */
const sliders = new Map<string, number>();

/** A bound plain-RTP leg. */
export class RtpLeg {
  readonly port: number;
  /** Decoded audio (16-bit scale) and its rate, for the mix. */
  onAudio: ((samples: Float32Array, rate: number) => void) | undefined;
  /** Packets received for the mix and sent with it (tests, stats). */
  packetsIn = 0;
  packetsOut = 0;
  #levelSum = 0;
  #levelPackets = 0;
  /** What it receives, recorded as it arrives (AudioBridge `record` of an RTP participant). */
  #recorder: MjrRecorder | undefined;
  readonly #socket: dgram.Socket;
  readonly #options: RtpLegOptions;
  readonly #decoder: AudioStreamDecoder;
  readonly #packetizer: AudioRtpPacketizer;
  #closed = false;

  private constructor(socket: dgram.Socket, port: number, options: RtpLegOptions) {
    this.#socket = socket;
    this.port = port;
    this.#options = options;
    this.#decoder = new AudioStreamDecoder(options.codec, options.rate);
    const ssrc = crypto.getRandomValues(new Uint32Array(1))[0]!;
    this.#packetizer = new AudioRtpPacketizer({ ...options, ssrc }, options.rate);
    socket.on("message", (packet: Uint8Array) => this.#receive(packet));
  }

  /**
   * Binds a socket on the first free port of the range (even ports, as RTP's).
   *
   * @throws {Error} when every port of the range is taken
   */
  static async open(options: RtpLegOptions): Promise<RtpLeg> {
    const { min, max } = options.portRange;
    const key = `${options.ip}:${min}-${max}`;
    const first = min + (min % 2);
    let port = sliders.get(key) ?? first;
    for (let tried = 0; tried <= (max - min) / 2; tried++) {
      if (port > max) port = first;
      const socket = await bind(options.ip, port);
      const next = port + 2;
      if (socket) {
        sliders.set(key, next);
        return new RtpLeg(socket, port, options);
      }
      port = next;
    }
    throw new Error(`No ports available in range: ${min} -- ${max}`);
  }

  /** Sends one period of the member's mix (mono 16-bit at the mixer's rate). */
  send(pcm: Int16Array): void {
    const o = this.#options;
    if (this.#closed || !o.remote) return;
    const packet = this.#packetizer.packetize(pcm);
    this.#socket.send(packet, o.remote.port, o.remote.host);
    this.packetsOut++;
  }

  /** Its mix's Opus settings, and FEC both ways (see `EncoderSettings`). */
  tune(settings: EncoderSettings): void {
    if (settings.fec !== undefined) this.#decoder.fec = settings.fec;
    this.#packetizer.tune(settings);
  }

  /**
   * Records what it receives to `path` (an MJR file, made now: throws when it cannot be); the
   * same path again only changes `muted`.
   */
  record(options: { path: string; codec: string; muted: boolean }): void {
    if (this.#recorder?.path === options.path) {
      this.#recorder.update({ mid: "", muted: options.muted }, performance.now());
      return;
    }
    this.stopRecord();
    const o = this.#options;
    const source = sourceWithoutFeedback({
      kind: "audio",
      codec: o.codec,
      payloadType: o.payloadType,
      clockRate: o.codec === "opus" ? 48000 : 8000,
      extensions: new Map(o.levelExt ? [[o.levelExt, AUDIO_LEVEL_URI]] : []),
    });
    this.#recorder = new MjrRecorder(source, { mid: "", ...options }, performance.now());
  }

  stopRecord(): void {
    this.#recorder?.close();
    this.#recorder = undefined;
  }

  /** Whether it reads levels (it joined with `levelExt`). */
  get levels(): boolean {
    return (this.#options.levelExt ?? 0) > 0;
  }

  /** The mean level of the packets since the last call, if any came with one. */
  takeLevel(): { level: number; packets: number } | undefined {
    if (this.#levelPackets === 0) return undefined;
    const out = { level: this.#levelSum / this.#levelPackets, packets: this.#levelPackets };
    this.#levelSum = 0;
    this.#levelPackets = 0;
    return out;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.onAudio = undefined;
    this.stopRecord();
    this.#decoder.close();
    this.#packetizer.close();
    try {
      this.#socket.close();
    } catch {
      // Closed already.
    }
  }

  #receive(packet: Uint8Array): void {
    const payload = rtpPayload(packet, this.#options.payloadType);
    if (!payload || this.#closed) return;
    this.packetsIn++;
    this.#recorder?.packet(packet, packet.length, performance.now());
    const ext = this.#options.levelExt ?? 0;
    if (ext > 0) {
      const level = readAudioLevel(packet, packet.length, ext);
      if (level >= 0) {
        this.#levelSum += level;
        this.#levelPackets++;
      }
    }
    this.#decoder.receive(sequenceNumber(packet), ssrc(packet), payload, this.#emit);
  }

  /** Hands decoded audio to the mix (one function for every packet). */
  readonly #emit = (samples: Float32Array, rate: number): void => {
    this.onAudio?.(samples, rate);
  };
}

/** A UDP socket bound on `ip:port`, or undefined when the port is taken. */
function bind(ip: string, port: number): Promise<dgram.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(ip.includes(":") ? "udp6" : "udp4");
    const failed = () => {
      try {
        socket.close();
      } catch {
        // Never bound.
      }
      resolve(undefined);
    };
    socket.once("error", failed);
    socket.bind(port, ip, () => {
      socket.off("error", failed);
      // A send error (nobody listening) must not end the worker.
      socket.on("error", () => {});
      resolve(socket);
    });
  });
}

/** The payload of an RTP packet of payload type `pt` (header, CSRCs, extension, padding off). */
export function rtpPayload(packet: Uint8Array, pt: number): Uint8Array | undefined {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return undefined;
  if ((packet[1]! & 0x7f) !== pt) return undefined;
  let offset = 12 + 4 * (packet[0]! & 0x0f);
  if (packet[0]! & 0x10) {
    if (packet.length < offset + 4) return undefined;
    offset += 4 + 4 * ((packet[offset + 2]! << 8) | packet[offset + 3]!);
  }
  let end = packet.length;
  if (packet[0]! & 0x20) end -= packet[end - 1]!;
  return end > offset ? packet.subarray(offset, end) : undefined;
}
