/**
 * Test-side wrtc client peers: synthetic sources (I420 320x240 pattern, 440 Hz tone), sinks
 * that count decoded frames and keep received audio, a Goertzel detector, and `wrtcTest`,
 * which runs a test inside the network namespace and ends the process through `Deno.exit`.
 *
 * Why `Deno.exit`: a process that used wrtc crashes (SIGSEGV, exit 139) when the test
 * module's isolate is torn down (RTCRtpReceiver finalizers), before Deno prints its summary.
 * So a module using wrtcTest ends its isolate from an `unload` listener with `Deno.exit`.
 * Deno 2.9's test runner then notes "called Deno.exit(0) from outside any test", goes on
 * with the remaining modules and keeps the real pass/fail count and exit code. Should a Deno
 * ever end the whole process there instead, the code given is 1 when any wrtcTest failed, so
 * a failure is never turned into success.
 *
 * @module
 */
import { assertInsideNetns, isLoopbackAddress } from "../_helpers/netns.ts";
import {
  loadWrtc,
  type WrtcDataChannel,
  type WrtcPeerConnection,
  type WrtcTrack,
  type WrtcTransceiver,
} from "../../core/media/wrtc.ts";
import type { Wrtc } from "../../core/media/wrtc.ts";
import type { IceCandidate } from "../../core/media/types.ts";

export type { Wrtc };

const results = { passed: 0, failed: 0 };
let exitInstalled = false;

function installExit(): void {
  if (exitInstalled) return;
  exitInstalled = true;
  globalThis.addEventListener("unload", () => Deno.exit(results.failed > 0 ? 1 : 0));
}

/** Registers a test that needs the namespace and gets wrtc; see the module doc. */
export function wrtcTest(name: string, fn: (wrtc: Wrtc) => Promise<void>): void {
  Deno.test(name, async () => {
    try {
      assertInsideNetns();
      const wrtc = await loadWrtc();
      installExit();
      await fn(wrtc);
      results.passed++;
    } catch (e) {
      results.failed++;
      throw e;
    }
  });
}

/** Polls `check` every 20 ms until it is true. */
export async function waitUntil(
  what: string,
  check: () => boolean,
  timeoutMs = 8000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Power of `frequency` in `samples` (Goertzel), normalised by length. */
export function goertzel(
  samples: ArrayLike<number>,
  sampleRate: number,
  frequency: number,
): number {
  const k = 2 * Math.cos((2 * Math.PI * frequency) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s0 = (samples[i] ?? 0) + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (samples.length * samples.length);
}

/** Every candidate address of an SDP. */
export function sdpCandidateAddresses(sdp: string): string[] {
  return sdp.split(/\r?\n/).filter((l) => l.startsWith("a=candidate:")).map((l) =>
    l.split(" ")[4] ?? ""
  );
}

/** Whether every address is loopback-range. */
export function allLoopback(addresses: readonly string[]): boolean {
  return addresses.every(isLoopbackAddress);
}

const WIDTH = 320;
const HEIGHT = 240;

/** What one received video m-line decoded. */
export interface MidFrames {
  frames: number;
  /** Mean luma of the left and right halves of the last frame. */
  left: number;
  right: number;
}

/** Options of {@link ClientPeer}. */
export interface ClientPeerOptions {
  audio?: boolean;
  video?: boolean;
  /** Video tracks to send (default 1 with `video`); odd ones have the pattern mirrored. */
  videoStreams?: number;
  /** Mirror the pattern of every video track (bright right half instead of left). */
  invert?: boolean;
  /** Random chroma in every frame (luma pattern kept), so that video needs real bitrate. */
  noise?: boolean;
  data?: string;
  /**
   * Tracks added with `addTrack` instead of sendrecv transceivers, so that a remote offer's
   * m-lines take them (a peer that answers with media, e.g. a VideoCall callee).
   */
  answers?: boolean;
}

/** A client PeerConnection with synthetic media. */
export class ClientPeer {
  readonly pc: WrtcPeerConnection;
  readonly channel: WrtcDataChannel | undefined;
  /** Messages received on the data channel. */
  readonly messages: (string | Uint8Array)[] = [];
  /** Decoded frames received on video. */
  videoFrames = 0;
  /** Mean luma of the left and right halves of the last decoded frame. */
  luma = { left: 0, right: 0, width: 0, height: 0 };
  /** Decoded video per receiving m-line. */
  readonly byMid = new Map<string, MidFrames>();
  /** First channel of received audio (up to 3 s). */
  audio: number[] = [];
  audioRate = 48000;
  /** Peak of the 440 Hz tone sent (0 sends silence). */
  amplitude = 8000;
  #wrtc: Wrtc;
  #tracks: WrtcTrack[] = [];
  #sinks: { stop(): void }[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #noise: boolean;
  #closed = false;
  #resume: () => void;

  constructor(wrtc: Wrtc, options: ClientPeerOptions) {
    this.#wrtc = wrtc;
    this.#noise = options.noise ?? false;
    this.pc = new wrtc.RTCPeerConnection({ iceServers: [] });
    const { RTCAudioSource, RTCVideoSource } = wrtc.nonstandard;
    const audio = options.audio ? new RTCAudioSource() : undefined;
    const count = options.video ? options.videoStreams ?? 1 : 0;
    const videos = Array.from({ length: count }, () => new RTCVideoSource());
    for (const source of [audio, ...videos]) {
      if (!source) continue;
      const track = source.createTrack();
      this.#tracks.push(track);
      if (options.answers) this.pc.addTrack(track);
      else this.pc.addTransceiver(track, { direction: "sendrecv" });
    }
    if (options.data !== undefined) {
      const channel = this.pc.createDataChannel(options.data);
      channel.binaryType = "arraybuffer";
      channel.onmessage = ({ data }) =>
        this.messages.push(typeof data === "string" ? data : new Uint8Array(data));
      this.channel = channel;
    }
    this.pc.addEventListener("track", ({ track, transceiver }) => this.#sink(track, transceiver));
    this.#resume = () => this.#feed(audio, videos, options.invert === true);
    this.#resume();
  }

  /** Frames decoded on the video m-line `mid` so far. */
  framesOf(mid: string): number {
    return this.byMid.get(mid)?.frames ?? 0;
  }

  /** RTP packets received on m-line `mid` so far (audio or video). */
  async packetsOf(mid: string): Promise<number> {
    let packets = 0;
    (await this.pc.getStats()).forEach((value) => {
      const r = value as { type: string; mid?: string; packetsReceived?: number };
      if (r.type === "inbound-rtp" && r.mid === mid) packets += r.packetsReceived ?? 0;
    });
    return packets;
  }

  /** Sends every local candidate (then `null`) to `to`. */
  trickleTo(to: (candidate: IceCandidate | null) => Promise<void>): void {
    this.pc.addEventListener("icecandidate", ({ candidate }) => {
      const c = candidate
        ? {
          candidate: candidate.candidate,
          sdpMid: candidate.sdpMid ?? null,
          sdpMLineIndex: candidate.sdpMLineIndex ?? null,
        }
        : null;
      to(c).catch(() => {});
    });
  }

  /** Creates and applies an offer; returns its SDP. */
  async offer(): Promise<string> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    return offer.sdp;
  }

  /** Applies the answer. */
  async answer(sdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: "answer", sdp });
  }

  /** Stops pushing frames and samples (the tracks stay). */
  stopFeeding(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Pushes frames and samples again after `stopFeeding`. */
  resumeFeeding(): void {
    if (this.#timer === undefined && !this.#closed) this.#resume();
  }

  /** Closes everything once: sources stop, sinks stop, each track is stopped once. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopFeeding();
    for (const s of this.#sinks) s.stop();
    this.channel?.close();
    this.pc.close();
    for (const t of this.#tracks) t.stop();
  }

  #feed(
    audio: { onData(d: { samples: Int16Array; sampleRate: number }): void } | undefined,
    videos: { onFrame(f: { width: number; height: number; data: Uint8Array }): void }[],
    invert: boolean,
  ): void {
    const pattern = (mirrored: boolean) => {
      const frame = new Uint8Array(WIDTH * HEIGHT * 1.5).fill(128);
      const [left, right] = mirrored ? [40, 220] : [220, 40];
      for (let y = 0; y < HEIGHT; y++) {
        frame.fill(left, y * WIDTH, y * WIDTH + WIDTH / 2);
        frame.fill(right, y * WIDTH + WIDTH / 2, (y + 1) * WIDTH);
      }
      return frame;
    };
    const frames = videos.map((_, i) => pattern(invert !== (i % 2 === 1)));
    const started = performance.now();
    let chunks = 0;
    let sent = 0;
    let phase = 0;
    this.#timer = setInterval(() => {
      const elapsed = performance.now() - started;
      while (audio && chunks < Math.floor(elapsed / 10)) {
        const samples = new Int16Array(480);
        for (let i = 0; i < samples.length; i++) {
          samples[i] = Math.round(this.amplitude * Math.sin(phase));
          phase += (2 * Math.PI * 440) / 48000;
        }
        audio.onData({ samples, sampleRate: 48000 });
        chunks++;
      }
      while (videos.length > 0 && sent < Math.floor(elapsed / 33)) {
        for (const [i, video] of videos.entries()) {
          const data = frames[i] ?? new Uint8Array();
          if (this.#noise) crypto.getRandomValues(data.subarray(WIDTH * HEIGHT));
          video.onFrame({ width: WIDTH, height: HEIGHT, data });
        }
        sent++;
      }
    }, 10);
  }

  #sink(track: WrtcTrack, transceiver: WrtcTransceiver): void {
    const { RTCAudioSink, RTCVideoSink } = this.#wrtc.nonstandard;
    if (track.kind === "video") {
      const sink = new RTCVideoSink(track);
      sink.onframe = ({ frame }) => {
        this.videoFrames++;
        const mid = transceiver.mid ?? "";
        const entry = this.byMid.get(mid) ?? { frames: 0, left: 0, right: 0 };
        this.byMid.set(mid, entry);
        entry.frames++;
        let left = 0;
        let right = 0;
        const half = frame.width / 2;
        for (let y = 0; y < frame.height; y += 8) {
          for (let x = 0; x < frame.width; x += 8) {
            const v = frame.data[y * frame.width + x] ?? 0;
            if (x < half) left += v;
            else right += v;
          }
        }
        const n = (frame.height / 8) * (half / 8);
        this.luma = { left: left / n, right: right / n, width: frame.width, height: frame.height };
        entry.left = left / n;
        entry.right = right / n;
      };
      this.#sinks.push(sink);
    } else {
      const sink = new RTCAudioSink(track);
      sink.ondata = (data) => {
        this.audioRate = data.sampleRate;
        const channels = data.channelCount ?? 1;
        if (this.audio.length > data.sampleRate * 3) return;
        for (let i = 0; i < data.samples.length; i += channels) {
          this.audio.push(data.samples[i] ?? 0);
        }
      };
      this.#sinks.push(sink);
    }
  }
}
