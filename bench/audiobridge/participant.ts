/**
 * One AudioBridge bench participant: a wrtc PeerConnection with one sendrecv audio m-line that
 * sends a sine tone (10 ms chunks at 48 kHz, encoded to Opus by libwebrtc) and plays out what
 * it receives through wrtc's own audio device, so that NetEq runs in real time and counts the
 * samples it had to conceal (inbound-rtp `concealedSamples`).
 *
 * @module
 */
import type { StatsEntry, Wrtc, WrtcPeerConnection, WrtcTrack } from "../../core/media/wrtc.ts";
import { noAudio, type ReceivedAudio } from "./protocol.ts";

const RATE = 48000;
/** A tone's peak: 31 of them summed in one mix stay mostly clear of clipping. */
const AMPLITUDE = 1000;

/** One second of each tone (a whole number of cycles: it loops without a click), built once. */
const tones = new Map<number, Int16Array>();

function toneSecond(tone: number): Int16Array {
  const cached = tones.get(tone);
  if (cached) return cached;
  const second = new Int16Array(RATE);
  for (let i = 0; i < RATE; i++) {
    second[i] = Math.round(AMPLITUDE * Math.sin((2 * Math.PI * tone * i) / RATE));
  }
  tones.set(tone, second);
  return second;
}

/** A participant's PeerConnection and its tone. */
export class Participant {
  readonly pc: WrtcPeerConnection;
  readonly #track: WrtcTrack;
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #gathered = Promise.withResolvers<void>();
  #closed = false;

  constructor(wrtc: Wrtc, tone: number) {
    this.pc = new wrtc.RTCPeerConnection({ iceServers: [] });
    const source = new wrtc.nonstandard.RTCAudioSource();
    this.#track = source.createTrack();
    this.pc.addTransceiver(this.#track, { direction: "sendrecv" });
    this.pc.addEventListener("icecandidate", ({ candidate }) => {
      if (!candidate || candidate.candidate === "") this.#gathered.resolve();
    });
    const second = toneSecond(Math.round(tone));
    const chunk = RATE / 100;
    const started = performance.now();
    let chunks = 0;
    this.#timer = setInterval(() => {
      // Catch up on the chunks a busy event loop delayed: the server gets a steady stream.
      while (chunks < Math.floor((performance.now() - started) / 10)) {
        const at = (chunks % 100) * chunk;
        source.onData({ samples: second.slice(at, at + chunk), sampleRate: RATE });
        chunks++;
      }
    }, 10);
  }

  /** An offer with every candidate gathered (5 s at most). */
  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#gathered.promise,
      new Promise<void>((resolve) => timer = setTimeout(resolve, 5000)),
    ]);
    clearTimeout(timer);
    return this.pc.localDescription?.sdp ?? "";
  }

  answer(sdp: string): Promise<void> {
    return this.pc.setRemoteDescription({ type: "answer", sdp });
  }

  /** The inbound-rtp audio counters. */
  async received(): Promise<ReceivedAudio> {
    if (this.#closed) return noAudio("closed");
    const out = noAudio(this.pc.connectionState);
    (await this.pc.getStats()).forEach((s: StatsEntry) => {
      const kind = s.kind ?? s.mediaType;
      if (s.type !== "inbound-rtp" || kind !== "audio") return;
      const n = (key: string) => typeof s[key] === "number" ? s[key] as number : 0;
      out.packetsReceived += n("packetsReceived");
      out.packetsLost += n("packetsLost");
      out.totalSamplesReceived += n("totalSamplesReceived");
      out.concealedSamples += n("concealedSamples");
      out.silentConcealedSamples += n("silentConcealedSamples");
      out.concealmentEvents += n("concealmentEvents");
      out.totalAudioEnergy += n("totalAudioEnergy");
      out.totalSamplesDuration += n("totalSamplesDuration");
    });
    return out;
  }

  /** Stops the tone, closes the PeerConnection and the track; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.pc.close();
    this.#track.stop();
  }
}
