/**
 * Mixer members on the RTP engine (AudioBridge): the peer's received audio packets are decoded
 * here (Opus through `opus_codec.ts`, G.711 by table) for the mix, and the member's mix is
 * encoded (Opus at the member's complexity, the reference's 4 by default; G.711) and sent as the
 * source of the line that sends back on the same m-line, which gives it our SSRC, continuous
 * sequence numbers and timestamps, NACK answers and SRs. No libwebrtc: one decode and one encode
 * per member and period, on the worker's thread.
 *
 * @module
 */
import { AudioRtpPacketizer, AudioStreamDecoder } from "../audio_rtp.ts";
import { rtpPayload } from "../mix_rtp_leg.ts";
import type { MemberFactory, MemberMedia, MemberOptions } from "../mixer.ts";
import type { EncoderSettings } from "../types.ts";
import type { PacketTap } from "./echo_media.ts";
import { sequenceNumber, ssrc } from "./header.ts";
import type { OfferMedia } from "./offer_media.ts";
import type { RtpPeer } from "./rtp_peer.ts";
import { type ForwardSource, type SendLine, sourceWithoutFeedback } from "./send_lines.ts";

/** The reference's AudioBridge encoder complexity (`quality`) when a member names none. */
export const DEFAULT_COMPLEXITY = 4;

/** What a mixer needs of an RTP engine peer. */
export type RtpMixPeer = Pick<RtpPeer, "id" | "closed" | "mixLine" | "tap" | "untap">;

/** Members whose media are the peer's own packets, decoded and encoded here. */
export const rtpMemberFactory: MemberFactory<RtpMixPeer> = {
  open(peer, options) {
    try {
      return Promise.resolve(new RtpMixMember(peer, options));
    } catch (e) {
      return Promise.reject(e);
    }
  },
};

type AudioCodec = "opus" | "pcmu" | "pcma";

function audioCodec(media: OfferMedia): AudioCodec | undefined {
  const c = media.codec;
  return c === "opus" || c === "pcmu" || c === "pcma" ? c : undefined;
}

/** One peer's audio m-line in a mixer. */
class RtpMixMember implements MemberMedia, PacketTap {
  readonly #peer: RtpMixPeer;
  readonly #options: MemberOptions;
  readonly #media: OfferMedia;
  readonly #codec: AudioCodec;
  readonly #line: SendLine;
  readonly #source: ForwardSource;
  readonly #decoder: AudioStreamDecoder;
  #packetizer: { channels: number; packetizer: AudioRtpPacketizer } | undefined;
  /** Its encoder's settings, kept for a packetizer made later (the mix turned stereo). */
  #encoder: EncoderSettings;
  #released = false;

  constructor(peer: RtpMixPeer, options: MemberOptions) {
    const found = peer.mixLine(options.mid);
    if (!found || found.media.kind !== "audio") {
      throw new Error(`m-line ${options.mid} is not audio`);
    }
    const codec = audioCodec(found.media);
    if (!codec) throw new Error(`m-line ${options.mid} has no codec the mixer decodes`);
    this.#peer = peer;
    this.#options = options;
    this.#media = found.media;
    this.#codec = codec;
    this.#line = found.line;
    this.#encoder = { complexity: DEFAULT_COMPLEXITY, ...options.encoder };
    this.#decoder = new AudioStreamDecoder(codec, options.rate);
    this.#decoder.fec = this.#encoder.fec === true;
    // The mix is the line's source: nothing upstream to ask for keyframes or estimates.
    this.#source = sourceWithoutFeedback({
      kind: "audio",
      codec,
      payloadType: found.media.payloadType,
      clockRate: found.media.clockRate,
      extensions: new Map(),
    });
    if (!peer.tap(options.mid, this)) throw new Error(`No received m-line ${options.mid}`);
    this.#line.attach(this.#source, true, performance.now());
  }

  packet(buf: Uint8Array, length: number): void {
    if (this.#released) return;
    const payload = rtpPayload(buf.subarray(0, length), this.#media.payloadType);
    if (!payload) return;
    this.#decoder.receive(sequenceNumber(buf), ssrc(buf), payload, this.#options.onAudio);
  }

  send(pcm: Int16Array, channels: number): void {
    if (this.#released || this.#peer.closed) return;
    let p = this.#packetizer;
    if (p?.channels !== channels) {
      p?.packetizer.close();
      const packetizer = new AudioRtpPacketizer({
        codec: this.#codec,
        payloadType: this.#media.payloadType,
        ssrc: this.#line.ssrc,
        channels: channels === 2 ? 2 : 1,
        encoder: this.#encoder,
      }, this.#options.rate);
      p = this.#packetizer = { channels, packetizer };
    }
    const packet = p.packetizer.packetize(pcm);
    this.#line.send(packet, packet.length, performance.now());
  }

  tune(settings: EncoderSettings): void {
    this.#encoder = { ...this.#encoder, ...settings };
    this.#decoder.fec = this.#encoder.fec === true;
    this.#packetizer?.packetizer.tune(settings);
  }

  release(): Promise<void> {
    if (this.#released) return Promise.resolve();
    this.#released = true;
    this.#peer.untap(this);
    if (this.#line.source === this.#source) this.#line.detach();
    this.#decoder.close();
    this.#packetizer?.packetizer.close();
    this.#packetizer = undefined;
    return Promise.resolve();
  }
}
