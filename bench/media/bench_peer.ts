/**
 * The media bench's wrtc client peer: a 440 Hz tone and W×H video at 30 fps whose luma carries
 * a left/right pattern, with `noise` plus ±10 levels of noise (from a pool of 16 precomputed
 * frames), so that the encoder needs a camera-like bitrate (~1.6 Mbit/s at 640x480) rather
 * than the few kbit/s of a still picture; a gateway's per-packet cost then counts as it would
 * with a camera.
 * No sinks: what it receives is read from `getStats` (wrtc decodes received video anyway).
 *
 * @module
 */
import type { StatsEntry, Wrtc, WrtcPeerConnection, WrtcTrack } from "../../core/media/wrtc.ts";
import { noCounts, type PeerCounts, type SentVideo } from "./protocol.ts";

/** Distinct noisy frames cycled through (the encoder cannot predict one from the last). */
const POOL = 16;
/** Noise amplitude on luma: about 1.5 Mbit/s at 640x480 once the bitrate has ramped up. */
const NOISE = 10;

/** Sources of one size are shared by every peer of the process: built once. */
const pools = new Map<string, Uint8Array[]>();

function framePool(width: number, height: number, noise: boolean): Uint8Array[] {
  const key = `${width}x${height}${noise ? "n" : ""}`;
  const cached = pools.get(key);
  if (cached) return cached;
  const luma = width * height;
  const base = new Uint8Array(luma * 1.5).fill(128);
  for (let y = 0; y < height; y++) {
    base.fill(200, y * width, y * width + width / 2);
    base.fill(50, y * width + width / 2, (y + 1) * width);
  }
  if (!noise) {
    pools.set(key, [base]);
    return [base];
  }
  const random = new Uint8Array(luma);
  const list = Array.from({ length: POOL }, () => {
    // getRandomValues takes at most 64 KiB at a time.
    for (let i = 0; i < luma; i += 65536) {
      crypto.getRandomValues(random.subarray(i, Math.min(luma, i + 65536)));
    }
    const frame = base.slice();
    for (let i = 0; i < luma; i++) {
      frame[i] = frame[i]! + (random[i]! % (2 * NOISE + 1)) - NOISE;
    }
    return frame;
  });
  pools.set(key, list);
  return list;
}

/** Options of a {@link BenchPeer}. */
export interface BenchPeerOptions {
  /** Only send (publisher); else send and receive (EchoTest caller). */
  sendOnly: boolean;
  width: number;
  height: number;
  /** Noisy frames (camera-like bitrate); else the still pattern (a few kbit/s). */
  noise: boolean;
}

/** A wrtc PeerConnection with the bench's sources. */
export class BenchPeer {
  readonly pc: WrtcPeerConnection;
  #tracks: WrtcTrack[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(wrtc: Wrtc, options: BenchPeerOptions) {
    this.pc = new wrtc.RTCPeerConnection({ iceServers: [] });
    const audio = new wrtc.nonstandard.RTCAudioSource();
    const video = new wrtc.nonstandard.RTCVideoSource();
    const direction = options.sendOnly ? "sendonly" : "sendrecv";
    for (const source of [audio, video]) {
      const track = source.createTrack();
      this.#tracks.push(track);
      this.pc.addTransceiver(track, { direction });
    }
    const { width, height } = options;
    const frames = framePool(width, height, options.noise);
    const started = performance.now();
    let chunks = 0;
    let sent = 0;
    let phase = 0;
    this.#timer = setInterval(() => {
      const elapsed = performance.now() - started;
      while (chunks < Math.floor(elapsed / 10)) {
        const samples = new Int16Array(480);
        for (let i = 0; i < samples.length; i++) {
          samples[i] = Math.round(8000 * Math.sin(phase));
          phase += (2 * Math.PI * 440) / 48000;
        }
        audio.onData({ samples, sampleRate: 48000 });
        chunks++;
      }
      while (sent < Math.floor(elapsed / (1000 / 30))) {
        video.onFrame({ width, height, data: frames[sent % frames.length]! });
        sent++;
      }
    }, 10);
  }

  /** What this peer received (inbound-rtp) and sent (video outbound-rtp). */
  async counts(): Promise<PeerCounts> {
    if (this.#closed) return noCounts("closed");
    const out = noCounts(this.pc.connectionState);
    let sentVideo: SentVideo | undefined;
    (await this.pc.getStats()).forEach((s: StatsEntry) => {
      const kind = s.kind ?? s.mediaType;
      const n = (key: string) => typeof s[key] === "number" ? s[key] as number : 0;
      if (s.type === "inbound-rtp" && kind === "audio") out.audioPackets += n("packetsReceived");
      if (s.type === "inbound-rtp" && kind === "video") {
        out.videoPackets += n("packetsReceived");
        out.videoBytes += n("bytesReceived");
        out.frames += n("framesDecoded");
        out.keyframes += n("keyFramesDecoded");
        out.width = n("frameWidth");
        out.height = n("frameHeight");
      }
      if (s.type === "outbound-rtp" && kind === "video") {
        sentVideo = {
          width: n("frameWidth"),
          height: n("frameHeight"),
          frames: n("framesSent"),
          bytes: n("bytesSent"),
          limitation: typeof s.qualityLimitationReason === "string"
            ? s.qualityLimitationReason
            : "",
        };
      }
    });
    return sentVideo ? { ...out, sent: sentVideo } : out;
  }

  /** Stops the sources, closes the PeerConnection, stops the tracks; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.pc.close();
    for (const t of this.#tracks) t.stop();
  }
}
