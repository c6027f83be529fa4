/**
 * Audio levels of received streams in RFC 6464 terms (-dBov as an integer, 0 loudest, 127
 * silence), measured the way a sender fills its `ssrc-audio-level` header extension (which
 * the reference Janus reads and averages per packet): the RMS of each 20 ms of audio
 * (libwebrtc's `RmsLevel`). The decoded audio comes from an audio sink on each received
 * track; libwebrtc's own inbound-rtp `audioLevel` is a peak level, 3 dB louder for a tone.
 *
 * @module
 */
import type { AudioData, AudioSink, WrtcTrack } from "./wrtc.ts";
import type { Stat } from "./stats.ts";
import type { AudioLevelReport } from "./types.ts";

/** Opens a sink on a received audio track (wrtc's `RTCAudioSink`). */
export type OpenAudioSink = (track: WrtcTrack) => AudioSink;

/** Length of one measured frame, as an Opus packet of 20 ms. */
const FRAME_SECONDS = 0.02;
/** A mean square (of samples scaled to -1..1) under this is silence: 127 (`RmsLevel`). */
const MIN_MEAN_SQUARE = 10 ** -12.7;

/** A mean square of samples scaled to -1..1 as -dBov, 0..127. */
export function dBov(meanSquare: number): number {
  if (!(meanSquare > MIN_MEAN_SQUARE)) return 127;
  return Math.min(127, Math.max(0, Math.round(-10 * Math.log10(meanSquare))));
}

/** The RMS levels of one stream's 20 ms frames, summed until read. */
export class RmsFrames {
  #sumSquares = 0;
  #samples = 0;
  #levelSum = 0;
  #frames = 0;

  /** Feeds 16-bit samples (interleaved channels count as samples of one frame). */
  push(data: AudioData): void {
    const perFrame = Math.max(1, Math.round(data.sampleRate * FRAME_SECONDS)) *
      (data.channelCount ?? 1);
    for (const s of data.samples) {
      this.#sumSquares += s * s;
      if (++this.#samples < perFrame) continue;
      this.#levelSum += dBov(this.#sumSquares / this.#samples / (32768 * 32768));
      this.#frames++;
      this.#sumSquares = 0;
      this.#samples = 0;
    }
  }

  /** The mean level of the frames since the last call, or undefined when none completed. */
  take(): number | undefined {
    if (this.#frames === 0) return undefined;
    const level = this.#levelSum / this.#frames;
    this.#levelSum = 0;
    this.#frames = 0;
    return level;
  }
}

interface Watched {
  track: WrtcTrack;
  sink: AudioSink;
  frames: RmsFrames;
  packets: number | undefined;
}

/**
 * Levels of one peer's received audio m-lines: sinks follow the tracks `watch` is given, and
 * `update` reports each mid's mean level with the packets its stats counted meanwhile.
 */
export class AudioLevelMeter {
  readonly #open: OpenAudioSink;
  readonly #mids = new Map<string, Watched>();

  constructor(open: OpenAudioSink) {
    this.#open = open;
  }

  /** Sinks on exactly these received audio tracks, by mid. */
  watch(tracks: Iterable<{ mid: string; track: WrtcTrack }>): void {
    const seen = new Set<string>();
    for (const { mid, track } of tracks) {
      seen.add(mid);
      const w = this.#mids.get(mid);
      if (w?.track === track) continue;
      w?.sink.stop();
      const frames = new RmsFrames();
      const sink = this.#open(track);
      sink.ondata = (data) => frames.push(data);
      this.#mids.set(mid, { track, sink, frames, packets: undefined });
    }
    for (const [mid, w] of this.#mids) {
      if (seen.has(mid)) continue;
      w.sink.stop();
      this.#mids.delete(mid);
    }
  }

  /** A report per watched mid that received packets and audio since the last sample. */
  update(stats: Iterable<Stat>): AudioLevelReport[] {
    const packets = new Map<string, number>();
    for (const s of stats) {
      if (s.type !== "inbound-rtp" || typeof s.mid !== "string") continue;
      if (typeof s.packetsReceived !== "number") continue;
      packets.set(s.mid, (packets.get(s.mid) ?? 0) + s.packetsReceived);
    }
    const out: AudioLevelReport[] = [];
    for (const [mid, w] of this.#mids) {
      const now = packets.get(mid);
      if (now === undefined) continue;
      const before = w.packets;
      w.packets = now;
      const level = w.frames.take();
      if (before === undefined || now <= before || level === undefined) continue;
      out.push({ mid, level, packets: now - before });
    }
    return out;
  }

  /** Stops every sink. */
  stop(): void {
    for (const w of this.#mids.values()) w.sink.stop();
    this.#mids.clear();
  }
}
