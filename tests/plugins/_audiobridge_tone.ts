/**
 * An AudioBridge test client: a wrtc PeerConnection that sends one tone (a settable amplitude,
 * 0 for silence) and keeps the last second it receives (each channel of a stereo stream),
 * measured by frequency (Goertzel).
 *
 * @module
 */
import type { AudioSink, WrtcPeerConnection, WrtcTrack } from "../../core/media/wrtc.ts";
import { goertzel, waitUntil, type Wrtc } from "../media/_client.ts";

const RATE = 48000;

/** A client PeerConnection (wrtc) sending one tone and keeping the last second it receives. */
export class ToneClient {
  readonly pc: WrtcPeerConnection;
  readonly tone: number;
  /** Peak of the tone sent (0: silence). */
  amplitude = 8000;
  readonly #track: WrtcTrack;
  #sink: AudioSink | undefined;
  readonly #received = new Float32Array(RATE);
  /** The right channel, when the stream is stereo (else the same as the left). */
  readonly #right = new Float32Array(RATE);
  #write = 0;
  /** Channels of the received audio, as decoded. */
  channels = 1;
  readonly #stereo: boolean;
  /** Samples received so far. */
  received = 0;
  /** The rate of the received audio, as decoded. */
  rate = RATE;
  #timer: ReturnType<typeof setInterval>;

  /** `stereo`: the offer asks for stereo Opus (`stereo=1`, as the reference's demo munges it). */
  constructor(wrtc: Wrtc, tone: number, options: { stereo?: boolean } = {}) {
    this.tone = tone;
    this.#stereo = options.stereo === true;
    this.pc = new wrtc.RTCPeerConnection({ iceServers: [] });
    const source = new wrtc.nonstandard.RTCAudioSource();
    this.#track = source.createTrack();
    this.pc.addTransceiver(this.#track, { direction: "sendrecv" });
    this.pc.addEventListener("track", ({ track }) => {
      if (track.kind !== "audio" || this.#sink) return;
      this.#sink = new wrtc.nonstandard.RTCAudioSink(track);
      this.#sink.ondata = (d) => {
        const channels = d.channelCount ?? 1;
        this.rate = d.sampleRate;
        this.channels = channels;
        for (let i = 0; i < d.samples.length; i += channels) {
          this.#received[this.#write] = d.samples[i] ?? 0;
          this.#right[this.#write] = d.samples[i + channels - 1] ?? 0;
          this.#write = (this.#write + 1) % RATE;
          this.received++;
        }
      };
    });
    const started = performance.now();
    let chunks = 0;
    let phase = 0;
    this.#timer = setInterval(() => {
      while (chunks < Math.floor((performance.now() - started) / 10)) {
        const samples = new Int16Array(RATE / 100);
        for (let i = 0; i < samples.length; i++) {
          samples[i] = Math.round(this.amplitude * Math.sin(phase));
          phase += (2 * Math.PI * tone) / RATE;
        }
        source.onData({ samples, sampleRate: RATE });
        chunks++;
      }
    }, 10);
  }

  /** An offer with every candidate in it. */
  async offer(): Promise<string> {
    const offer = await this.pc.createOffer();
    const sdp = this.#stereo
      ? offer.sdp.replace(/useinbandfec=1/g, "useinbandfec=1;stereo=1")
      : offer.sdp;
    await this.pc.setLocalDescription({ type: "offer", sdp });
    await waitUntil("ICE gathering", () => this.pc.iceGatheringState === "complete", 3000)
      .catch(() => {});
    return this.pc.localDescription?.sdp ?? "";
  }

  /** Power of each of `freqs` in the last second received (of the right channel with `right`). */
  powers(freqs: readonly number[], right = false): Record<number, number> {
    const ring = right ? this.#right : this.#received;
    const window = [...ring.subarray(this.#write), ...ring.subarray(0, this.#write)];
    // The last second at the decoded rate, as the mean over 100 ms blocks: a gap's phase jump
    // does not cancel a whole second's sum.
    const last = window.slice(window.length - Math.min(window.length, this.rate));
    const block = Math.round(this.rate / 10);
    const blocks = Math.floor(last.length / block);
    const power = (f: number) => {
      let sum = 0;
      for (let b = 0; b < blocks; b++) {
        sum += goertzel(last.slice(b * block, (b + 1) * block), this.rate, f);
      }
      return blocks > 0 ? sum / blocks : 0;
    };
    return Object.fromEntries(freqs.map((f) => [f, power(f)]));
  }

  close(): void {
    clearInterval(this.#timer);
    this.#sink?.stop();
    this.pc.close();
    this.#track.stop();
  }
}
