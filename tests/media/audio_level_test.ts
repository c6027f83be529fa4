/**
 * RFC 6464 levels from decoded audio, as a sender computes them: 20 ms RMS frames, -dBov as
 * an integer; sinks follow the watched tracks and are all stopped.
 */
import assert from "node:assert/strict";
import { AudioLevelMeter, dBov, RmsFrames } from "../../core/media/audio_level.ts";
import type { AudioData, AudioSink, WrtcTrack } from "../../core/media/wrtc.ts";
import type { Stat } from "../../core/media/stats.ts";

const RATE = 48000;

/** `ms` of a 440 Hz tone of peak `amplitude`, in 10 ms chunks as wrtc's sink delivers. */
function tone(amplitude: number, ms: number, channels = 1): AudioData[] {
  const chunks: AudioData[] = [];
  const perChunk = RATE / 100;
  for (let c = 0; c < ms / 10; c++) {
    const samples = new Int16Array(perChunk * channels);
    for (let i = 0; i < perChunk; i++) {
      const v = Math.round(amplitude * Math.sin(2 * Math.PI * 440 * (c * perChunk + i) / RATE));
      for (let ch = 0; ch < channels; ch++) samples[i * channels + ch] = v;
    }
    chunks.push({ samples, sampleRate: RATE, channelCount: channels });
  }
  return chunks;
}

Deno.test("dBov: full scale is 0, silence 127, a halving of amplitude 6 dB", () => {
  assert.equal(dBov(1), 0);
  assert.equal(dBov(0), 127);
  assert.equal(dBov(1e-14), 127);
  assert.equal(dBov(0.25 * 0.25), 12);
});

Deno.test("RmsFrames: a tone of peak 8000 is 15 dBov (RMS, not the 12 of its peak)", () => {
  const frames = new RmsFrames();
  assert.equal(frames.take(), undefined);
  for (const chunk of tone(8000, 200)) frames.push(chunk);
  assert.equal(frames.take(), 15);
  assert.equal(frames.take(), undefined, "read once");
  for (const chunk of tone(8000, 100, 2)) frames.push(chunk);
  assert.equal(frames.take(), 15, "stereo");
  for (const chunk of tone(0, 100)) frames.push(chunk);
  assert.equal(frames.take(), 127);
  // Half the frames at 15, half silent: the mean of the frames' levels, as per packet.
  for (const chunk of [...tone(8000, 40), ...tone(0, 40)]) frames.push(chunk);
  assert.equal(frames.take(), (15 + 127) / 2);
});

class FakeSink implements AudioSink {
  ondata: ((data: AudioData) => void) | null = null;
  stopped = false;
  stop(): void {
    this.stopped = true;
  }
}

function track(id: string): WrtcTrack {
  return { id, kind: "audio", readyState: "live", enabled: true, stop() {} };
}

function inbound(mid: string, packetsReceived: number): Stat {
  return { type: "inbound-rtp", id: `in-${mid}`, kind: "audio", mid, packetsReceived };
}

Deno.test("AudioLevelMeter: a sink per watched track, reports with packet counts, all stopped", () => {
  const sinks: FakeSink[] = [];
  const meter = new AudioLevelMeter(() => {
    const sink = new FakeSink();
    sinks.push(sink);
    return sink;
  });
  const a = track("a");
  meter.watch([{ mid: "0", track: a }]);
  meter.watch([{ mid: "0", track: a }]);
  assert.equal(sinks.length, 1, "the same track keeps its sink");
  assert.deepEqual(meter.update([inbound("0", 10)]), [], "the first sample is a baseline");
  for (const chunk of tone(8000, 100)) sinks[0]?.ondata?.(chunk);
  assert.deepEqual(meter.update([inbound("0", 15)]), [{ mid: "0", level: 15, packets: 5 }]);
  assert.deepEqual(meter.update([inbound("0", 15)]), [], "no packets, no report");

  const b = track("b");
  meter.watch([{ mid: "0", track: track("a2") }, { mid: "1", track: b }]);
  assert.equal(sinks.length, 3);
  assert.equal(sinks[0]?.stopped, true, "a replaced track's sink is stopped");
  meter.watch([{ mid: "1", track: b }]);
  assert.equal(sinks.length, 3);
  assert.equal(sinks[1]?.stopped, true, "a gone mid's sink is stopped");
  assert.equal(sinks[2]?.stopped, false);
  meter.stop();
  assert.ok(sinks.every((s) => s.stopped));
});
