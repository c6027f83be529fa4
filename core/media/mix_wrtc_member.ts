/**
 * Mixer members on the wrtc engine: libwebrtc decodes what the peer sends (an audio sink on its
 * received track) and encodes the mix (an audio source whose track replaces the sender's on the
 * same m-line).
 *
 * @module
 */
import type { ForwardPeer } from "./forwarding.ts";
import type { MemberFactory, MemberMedia } from "./mixer.ts";
import type { AudioData, AudioSink, WrtcTrack } from "./wrtc.ts";

/** A wrtc peer as a mixer sees it. */
export type WrtcMixPeer = Pick<ForwardPeer, "id" | "closed" | "receivedTrack" | "sendSlot">;

/** An audio source whose track a sender can carry (wrtc's `RTCAudioSource`). */
export interface MixSource {
  createTrack(): WrtcTrack;
  onData(data: AudioData): void;
}

/** The wrtc objects a member is made of. */
export interface WrtcMixObjects {
  openSink(track: WrtcTrack): AudioSink;
  newSource(): MixSource;
}

/** Members whose media are wrtc sinks and sources. */
export function wrtcMemberFactory(objects: WrtcMixObjects): MemberFactory<WrtcMixPeer> {
  return {
    async open(peer, { mid, rate, onAudio }): Promise<MemberMedia> {
      const received = peer.receivedTrack(mid);
      if (received.kind !== "audio") throw new Error(`m-line ${mid} is not audio`);
      const slot = peer.sendSlot(mid);
      if (!slot) throw new Error(`No m-line ${mid} to send the mix on`);
      const source = objects.newSource();
      const track = source.createTrack();
      const sender = slot.transceiver.sender;
      const sink = objects.openSink(received);
      sink.ondata = (data) => onAudio(monoOf(data), data.sampleRate);
      await sender.replaceTrack(track);
      return {
        send(pcm, channels) {
          // libwebrtc's audio sources take 10 ms at a time.
          const half = pcm.length / channels / 2;
          for (const part of [pcm.subarray(0, half * channels), pcm.subarray(half * channels)]) {
            source.onData({
              samples: part.slice(),
              sampleRate: rate,
              bitsPerSample: 16,
              channelCount: channels,
              numberOfFrames: half,
            });
          }
        },
        async release() {
          // Detach from the sender before the track stops (the other order crashed wrtc).
          sink.stop();
          await sender.replaceTrack(null).catch(() => {});
          track.stop();
        },
      };
    },
  };
}

/** 10 ms of decoded audio (any channel count) as mono. */
function monoOf(data: AudioData): Float32Array {
  const channels = data.channelCount ?? 1;
  const frames = Math.floor(data.samples.length / channels);
  const mono = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += data.samples[f * channels + c]!;
    mono[f] = sum / channels;
  }
  return mono;
}
