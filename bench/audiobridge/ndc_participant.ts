/**
 * A light AudioBridge bench participant on node-datachannel (no libwebrtc): it sends a tone as
 * Opus RTP, one packet every 20 ms from packets encoded once per tone, and counts the mix frames
 * a receiver would have had to conceal (`playout_model.ts`, `PLAYOUT_DELAY_MS` deep). Packets in
 * time are decoded (libopus in WebAssembly) for the level of what was heard. A wrtc participant (`participant.ts`) costs
 * its client process several times more (an encoder, NetEq, an audio device and threads per
 * peer): at 32 participants the wrtc clients took 1.3 of the machine's 2 cores.
 *
 * @module
 */
import { Audio, PeerConnection, type Track } from "node-datachannel";
import { OpusDecoder, OpusEncoder } from "../../core/media/opus_codec.ts";
import { sendTo } from "../../core/media/rtp/rtp_send.ts";
import { PlayoutModel } from "./playout_model.ts";
import { noAudio, PLAYOUT_DELAY_MS, type ReceivedAudio } from "./protocol.ts";

const CLOCK = 48000;
const PERIOD_MS = 20;
const FRAME = (CLOCK * PERIOD_MS) / 1000;
const PAYLOAD_TYPE = 111;
/** A tone's peak: 31 of them summed in one mix stay mostly clear of clipping. */
const AMPLITUDE = 1000;

/** One second of each tone's Opus packets (a whole number of cycles: it loops), made once. */
const tonePackets = new Map<number, Uint8Array[]>();

function packetsOf(tone: number): Uint8Array[] {
  const cached = tonePackets.get(tone);
  if (cached) return cached;
  const encoder = new OpusEncoder(CLOCK, 1);
  const packets: Uint8Array[] = [];
  for (let k = 0; k < 1000 / PERIOD_MS; k++) {
    const pcm = new Int16Array(FRAME);
    for (let i = 0; i < FRAME; i++) {
      pcm[i] = Math.round(AMPLITUDE * Math.sin((2 * Math.PI * tone * (k * FRAME + i)) / CLOCK));
    }
    packets.push(encoder.encode(pcm));
  }
  encoder.close();
  tonePackets.set(tone, packets);
  return packets;
}

/** A participant's PeerConnection, its tone and its receive model. */
export class NdcParticipant {
  readonly #pc: PeerConnection;
  readonly #track: Track;
  readonly #held: Set<object>;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #decoder = new OpusDecoder(CLOCK, 1);
  readonly #gathered = Promise.withResolvers<void>();
  readonly #ssrc = crypto.getRandomValues(new Uint32Array(1))[0]!;
  #closed = false;
  readonly #playout = new PlayoutModel({
    delayMs: PLAYOUT_DELAY_MS,
    periodMs: PERIOD_MS,
    frameTicks: FRAME,
  });
  #packets = 0;
  #energy = 0;
  #duration = 0;

  constructor(id: number, tone: number, held: Set<object>) {
    this.#held = held;
    // No bindAddress: the phase's private network namespace has loopback only, and with
    // 127.0.0.1 bound Janus 1.1.2's ICE checks never succeeded (ours did).
    this.#pc = new PeerConnection(`ab-bench-${id}`, { iceServers: [] });
    held.add(this.#pc);
    this.#pc.onStateChange((state) => {
      if (state === "closed") held.delete(this.#pc);
    });
    this.#pc.onGatheringStateChange((state) => {
      if (state === "complete") this.#gathered.resolve();
    });
    const audio = new Audio("0", "SendRecv");
    audio.addOpusCodec(PAYLOAD_TYPE);
    audio.addSSRC(this.#ssrc, "bench", "bench", "bench-audio");
    this.#track = this.#pc.addTrack(audio);
    held.add(this.#track);
    this.#track.onClosed(() => held.delete(this.#track));
    this.#track.onMessage((buf) => this.#receive(buf));
    const packets = packetsOf(Math.round(tone));
    const started = performance.now();
    let sent = 0;
    let seq = Math.floor(Math.random() * 0x10000);
    const ts0 = Math.floor(Math.random() * 0x100000000);
    this.#timer = setInterval(() => {
      if (!this.#track.isOpen()) return;
      // Catch up on periods a busy event loop delayed: the server gets a steady stream.
      while (sent < Math.floor((performance.now() - started) / PERIOD_MS)) {
        const payload = packets[sent % packets.length]!;
        const packet = new Uint8Array(12 + payload.length);
        const v = new DataView(packet.buffer);
        packet[0] = 0x80;
        packet[1] = PAYLOAD_TYPE;
        v.setUint16(2, seq, false);
        v.setUint32(4, (ts0 + sent * FRAME) >>> 0, false);
        v.setUint32(8, this.#ssrc, false);
        packet.set(payload, 12);
        seq = (seq + 1) & 0xffff;
        sent++;
        sendTo(this.#track, packet);
      }
    }, 10);
  }

  /** An offer with every candidate gathered (5 s at most). */
  async offer(): Promise<string> {
    this.#pc.setLocalDescription();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#gathered.promise,
      new Promise<void>((resolve) => timer = setTimeout(resolve, 5000)),
    ]);
    clearTimeout(timer);
    return this.#pc.localDescription()?.sdp ?? "";
  }

  answer(sdp: string): Promise<void> {
    this.#pc.setRemoteDescription(sdp, "answer");
    return Promise.resolve();
  }

  #receive(buf: Uint8Array): void {
    const now = performance.now();
    // RTP of the mix only (RTCP has payload types 200-206 in its second byte).
    if (this.#closed || buf.length < 13 || (buf[1]! & 0x7f) !== PAYLOAD_TYPE) return;
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const ts = v.getUint32(4, false);
    this.#packets++;
    if (!this.#playout.arrived(ts, now)) return;
    const header = 12 + 4 * (buf[0]! & 0x0f);
    let offset = header;
    if (buf[0]! & 0x10) offset += 4 + 4 * v.getUint16(header + 2, false);
    try {
      const samples = this.#decoder.decode(buf.subarray(offset));
      let sum = 0;
      for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
      this.#energy += sum / CLOCK;
      this.#duration += samples.length / CLOCK;
    } catch {
      // An undecodable packet adds no level.
    }
  }

  /** Counters as wrtc's inbound-rtp has them, from the playout model. */
  received(): Promise<ReceivedAudio> {
    return Promise.resolve(this.#counters());
  }

  #counters(): ReceivedAudio {
    if (this.#closed) return noAudio("closed");
    const out = noAudio(this.#pc.state());
    const { played, concealed, lost } = this.#playout.counts(performance.now());
    out.packetsReceived = this.#packets;
    out.packetsLost = lost;
    out.totalSamplesReceived = played * FRAME;
    out.concealedSamples = concealed * FRAME;
    out.concealmentEvents = concealed;
    out.totalAudioEnergy = this.#energy;
    out.totalSamplesDuration = this.#duration;
    return out;
  }

  /** Stops the tone and closes the track, then the PeerConnection; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#decoder.close();
    try {
      this.#track.close();
      this.#pc.close();
    } catch {
      // Closed already.
    }
  }
}
