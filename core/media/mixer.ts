/**
 * Audio mixers of one media worker (AudioBridge): each mixer, known by its key, decodes the
 * audio its member peers receive (an audio sink on the received track), resamples it to the
 * mixer's rate, and every 20 ms, on one clock per mixer, sends each member the sum of every
 * other member's audio (mix-minus) through an audio source on its own m-line's sender, where
 * libwebrtc encodes it. A member's gain scales what it adds; a muted member adds nothing but
 * still hears the others. A stereo mixer (AudioBridge spatial audio) sends each member a stereo
 * mix in which every other member is panned by its position (the reference's gains: left
 * (100 - pan)%, right pan%); files are heard in both channels, and the recording and forwarders
 * (group submixes too) are stereo, as the reference's. Members and files may belong to a group: everyone still hears the full mix, and a
 * forwarder of a group sends only that group's members and files (the reference's group
 * submixes). A mixer made by its first member ends with its last one; one a plugin
 * owns (`own`) lasts until it is disowned, and its files, recording and forwarders go on while
 * it is empty. Its clock runs only while there is something to mix or send.
 *
 * @module
 */
import { downmixStereo } from "./audio_rtp.ts";
import { FilePlayer, type MixSink, RtpMixForwarder, WavWriter } from "./mix_outputs.ts";
import { RtpLeg } from "./mix_rtp_leg.ts";
import type { RtpLevel, RtpMemberRequest } from "./mixer_types.ts";
import type { EncoderSettings, MixRequest, MixRoomRequest } from "./types.ts";

/** What a mixer needs of a worker peer. */
export interface MixPeer {
  readonly id: string;
  readonly closed: boolean;
}

/** A member's media, made by the worker's engine: its audio comes in, its mix goes out. */
export interface MemberMedia {
  /** Sends one period of its mix (16-bit, `channels` interleaved, at the mixer's rate). */
  send(pcm: Int16Array, channels: number): void;
  /** Lets its media go (before its PeerConnection closes). */
  release(): Promise<void>;
  /** Changes its mix's encoder, where the engine encodes (libwebrtc's encoder is its own). */
  tune?(settings: EncoderSettings): void;
}

/** What a member's media is opened with. */
export interface MemberOptions {
  /** The peer's audio m-line: received audio is mixed, the mix is sent on it. */
  mid: string;
  /** The mixer's rate. */
  rate: number;
  /** Decoded audio of the member (mono, 16-bit scale) at `rate` Hz. */
  onAudio(mono: Float32Array, rate: number): void;
  /** Its mix's encoder settings (AudioBridge `quality`, `bitrate`), where the engine encodes. */
  encoder: EncoderSettings;
}

/** How a worker's engine makes one of its peers a mixer member. */
export interface MemberFactory<P extends MixPeer> {
  /**
   * Opens `peer`'s m-line as a member's media.
   *
   * @throws {Error} when the m-line is not audio or cannot send the mix
   */
  open(peer: P, options: MemberOptions): Promise<MemberMedia>;
}

/** One mixing period, in ms (an Opus packet). */
export const MIX_PERIOD_MS = 20;
/** Audio kept per member beyond what the next tick takes; older audio is dropped. */
const MAX_BUFFER_MS = 120;
/** Periods of audio a member buffers before it is mixed (again): absorbs bursty decoding. */
const PRIME_PERIODS = 3;
/** Plain-RTP members' levels are reported this often (as peers' `audioLevel`). */
const LEVELS_MS = 100;
/** A clock this late (a stalled event loop) starts over instead of catching up. */
const MAX_LATE_MS = 200;

/** Linear-interpolation resampling of a mono stream, continuous across chunks. */
export class Resampler {
  #pos = 1;
  #last = 0;

  /** Feeds `input` at `inRate`; calls `out` with each sample at `outRate`. */
  push(input: Float32Array, inRate: number, outRate: number, out: (sample: number) => void): void {
    const n = input.length;
    if (n === 0) return;
    const step = inRate / outRate;
    // Position in [last, ...input]: index 0 is the previous chunk's last sample.
    while (this.#pos < n) {
      const i = Math.floor(this.#pos);
      const frac = this.#pos - i;
      const a = i === 0 ? this.#last : input[i - 1]!;
      const b = input[i]!;
      out(a + (b - a) * frac);
      this.#pos += step;
    }
    this.#pos -= n;
    this.#last = input[n - 1]!;
  }
}

/** A ring of mono samples at the mixer's rate. */
class SampleRing {
  readonly #data: Float32Array;
  #read = 0;
  #size = 0;

  constructor(capacity: number) {
    this.#data = new Float32Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends one sample; a full ring drops its oldest. */
  push(sample: number): void {
    const cap = this.#data.length;
    if (this.#size === cap) {
      this.#read = (this.#read + 1) % cap;
      this.#size--;
    }
    this.#data[(this.#read + this.#size) % cap] = sample;
    this.#size++;
  }

  /** Moves the oldest `out.length` samples into `out`. */
  take(out: Float32Array): void {
    const cap = this.#data.length;
    for (let i = 0; i < out.length; i++) {
      out[i] = this.#data[(this.#read + i) % cap]!;
    }
    this.#read = (this.#read + out.length) % cap;
    this.#size -= out.length;
  }

  clear(): void {
    this.#read = 0;
    this.#size = 0;
  }
}

/** One member of a mixer: a peer, or a plain-RTP leg. */
interface Member {
  /** Sends one period of its mix (interleaved when `channels` is 2). */
  send(pcm: Int16Array, channels: number): void;
  /** Lets its media go (a peer's sink and track; a leg stays with the hub). */
  release(): Promise<void>;
  /** Changes its mix's encoder (see `MemberMedia.tune`). */
  tune?(settings: EncoderSettings): void;
  ring: SampleRing;
  resampler: Resampler;
  gain: number;
  muted: boolean;
  /** Spatial position 0 (left) .. 100 (right), in a stereo mixer. */
  pan: number;
  /** Its forwarding group, if any. */
  group: string | undefined;
  /** Has buffered `PRIME_PERIODS` of audio since it started or ran dry. */
  primed: boolean;
  /** This period's contribution. */
  frame: Float32Array;
}

/** An RTP forwarder of the full mix. */
interface Forwarder {
  sink: MixSink;
  /** Sends silence while nothing else is mixed (Janus `always_on`). */
  alwaysOn: boolean;
  /** Sends only this group's members and files. */
  group: string | undefined;
}

/** One room's mixer. */
class Mixer {
  readonly key: string;
  /** A plugin keeps it: it stays when its last member leaves. */
  owned = false;
  readonly rate: number;
  /** Members hear a stereo mix. */
  stereo = false;
  readonly members = new Map<string, Member>();
  readonly #frameSamples: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #next = 0;
  /** Periods mixed (tests, stats). */
  ticks = 0;
  /** Files every member hears, by id. */
  readonly players = new Map<string, FilePlayer>();
  /** The group of each file that has one, by id. */
  readonly playerGroups = new Map<string, string>();
  /** The WAV recorder of the full mix, and its path. */
  recorder: { path: string; sink: MixSink } | undefined;
  /** RTP forwarders of the full mix, by id. */
  readonly forwarders = new Map<string, Forwarder>();

  constructor(key: string, rate: number) {
    this.key = key;
    this.rate = rate;
    this.#frameSamples = Math.round((rate * MIX_PERIOD_MS) / 1000);
  }

  get frameSamples(): number {
    return this.#frameSamples;
  }

  /** Channels of its mixes, recording and forwarders (2 in a stereo mixer). */
  get channels(): 1 | 2 {
    return this.stereo ? 2 : 1;
  }

  /** Whether the clock has work: members, files or an always-on forwarder (else it idles). */
  get busy(): boolean {
    if (this.members.size > 0 || this.players.size > 0) return true;
    for (const f of this.forwarders.values()) if (f.alwaysOn) return true;
    return false;
  }

  /** Starts the clock when it has work. */
  wake(): void {
    if (this.#timer !== undefined || !this.busy) return;
    this.#next = performance.now() + MIX_PERIOD_MS;
    this.#timer = setTimeout(() => this.#tick(), MIX_PERIOD_MS);
  }

  /** Stops the clock and closes the files, the recording and the forwarders. */
  end(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const p of this.players.values()) p.close();
    this.players.clear();
    this.playerGroups.clear();
    this.recorder?.sink.close();
    this.recorder = undefined;
    for (const f of this.forwarders.values()) f.sink.close();
    this.forwarders.clear();
  }

  /** Feeds mono audio (16-bit scale) of `m` at `rate` into its ring. */
  receiveMono(m: Member, mono: Float32Array, rate: number): void {
    m.resampler.push(mono, rate, this.rate, (s) => m.ring.push(s));
  }

  #tick(): void {
    const now = performance.now();
    // A late clock catches up by mixing the missed periods, unless it stalled for long.
    if (now - this.#next > MAX_LATE_MS) this.#next = now;
    while (this.#next <= now + 1) {
      this.#mixOnce();
      this.#next += MIX_PERIOD_MS;
    }
    // Nothing left to mix or send (an empty owned mixer): idle until woken.
    if (!this.busy) {
      this.#timer = undefined;
      return;
    }
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, this.#next - performance.now()));
  }

  #mixOnce(): void {
    this.ticks++;
    const n = this.#frameSamples;
    const total = new Float32Array(n);
    // Interleaved left/right of a stereo mixer; `total` stays the mono mix.
    const stereo = this.stereo ? new Float32Array(2 * n) : undefined;
    // The submix of each group a forwarder sends (stereo, as the recording and forwarders, in a
    // stereo mixer: the reference's).
    const width = stereo ? 2 * n : n;
    const groups = new Map<string, Float32Array>();
    for (const f of this.forwarders.values()) {
      if (f.group !== undefined) groups.set(f.group, new Float32Array(width));
    }
    for (const m of this.members.values()) {
      if (!m.primed && m.ring.size >= n * PRIME_PERIODS) m.primed = true;
      if (m.primed && m.ring.size >= n) m.ring.take(m.frame);
      else {
        // Under-run: what there is, then silence; the buffer fills up again before the next.
        m.frame.fill(0);
        if (m.primed && m.ring.size > 0) m.ring.take(m.frame.subarray(0, m.ring.size));
        m.primed = false;
      }
      if (m.muted || m.gain === 0) continue;
      for (let i = 0; i < n; i++) total[i]! += m.frame[i]! * m.gain;
      if (stereo) addPanned(stereo, m.frame, m.gain, m.pan);
      const sub = m.group === undefined ? undefined : groups.get(m.group);
      if (sub && stereo) addPanned(sub, m.frame, m.gain, m.pan);
      else if (sub) { for (let i = 0; i < n; i++) sub[i]! += m.frame[i]! * m.gain; }
    }
    const heard = this.members.size > 0 || this.players.size > 0;
    // Files play to everyone: they are in the total and no member's own part.
    for (const [id, player] of this.players) {
      const frame = player.frame(n);
      for (let i = 0; i < n; i++) total[i]! += frame[i]! * 32767;
      const group = this.playerGroups.get(id);
      const sub = group === undefined ? undefined : groups.get(group);
      if (sub) { for (let i = 0; i < width; i++) sub[i]! += frame[stereo ? i >> 1 : i]! * 32767; }
      if (stereo) {
        for (let i = 0; i < n; i++) {
          stereo[2 * i]! += frame[i]! * 32767;
          stereo[2 * i + 1]! += frame[i]! * 32767;
        }
      }
      if (player.ended) {
        player.close();
        this.players.delete(id);
        this.playerGroups.delete(id);
      }
    }
    // As Janus: the recording only while someone is in; forwarders also while files play.
    const record = this.members.size > 0 ? this.recorder : undefined;
    const forwarders = [...this.forwarders.values()].filter((f) => heard || f.alwaysOn);
    if (record || forwarders.length > 0) {
      const silence = new Float32Array(width);
      const full = clip(stereo ?? total, silence);
      record?.sink.write(full);
      const subs = new Map<string, Int16Array>();
      for (const f of forwarders) {
        if (f.group === undefined) {
          f.sink.write(full);
          continue;
        }
        let sub = subs.get(f.group);
        if (!sub) subs.set(f.group, sub = clip(groups.get(f.group) ?? silence, silence));
        f.sink.write(sub);
      }
    }
    for (const m of this.members.values()) {
      const own = m.muted ? 0 : m.gain;
      const channels = stereo ? 2 : 1;
      let out: Int16Array;
      if (stereo) {
        // Its own part comes out of each channel as it went in.
        const mine = new Float32Array(2 * n);
        addPanned(mine, m.frame, own, m.pan);
        out = clip(stereo, mine);
      } else {
        const mine = new Float32Array(n);
        for (let i = 0; i < n; i++) mine[i] = m.frame[i]! * own;
        out = clip(total, mine);
      }
      m.send(out, channels);
    }
  }
}

/** Adds `frame` scaled by `gain` to interleaved stereo `into`, panned as the reference does. */
function addPanned(into: Float32Array, frame: Float32Array, gain: number, pan: number): void {
  const left = gain * (100 - pan) / 100;
  const right = gain * pan / 100;
  for (let i = 0; i < frame.length; i++) {
    into[2 * i]! += frame[i]! * left;
    into[2 * i + 1]! += frame[i]! * right;
  }
}

/** `total - own` as clipped 16-bit samples. */
function clip(total: Float32Array, own: Float32Array): Int16Array {
  const out = new Int16Array(total.length);
  for (let i = 0; i < total.length; i++) {
    const v = total[i]! - own[i]!;
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
  }
  return out;
}

/** A leg's member: its mix, as mono, goes out as RTP. */
function legMember(leg: RtpLeg): Pick<Member, "send" | "release" | "tune"> {
  return {
    send: (pcm, channels) => leg.send(channels === 1 ? pcm : downmixStereo(pcm)),
    release: () => Promise.resolve(),
    tune: (settings) => leg.tune(settings),
  };
}

/** An update's gain, mute, pan and encoder settings applied to member `m`. */
function updateMember(
  m: Member,
  request: { gain?: number; muted?: boolean; pan?: number } & EncoderSettings,
): void {
  if (request.gain !== undefined) m.gain = request.gain;
  if (request.muted !== undefined) m.muted = request.muted;
  if (request.pan !== undefined) m.pan = panOf(request.pan);
  const encoder = encoderOf(request);
  if (Object.keys(encoder).length > 0) m.tune?.(encoder);
}

/** Every mixer of one worker, by key; `P` is the worker's peer. */
export class MixerHub<P extends MixPeer> {
  readonly #factory: MemberFactory<P>;
  readonly #mixers = new Map<string, Mixer>();
  /** The mixer of each member (peer id, or `rtp:` and a leg's id). */
  readonly #of = new Map<string, Mixer>();
  /** Plain-RTP legs by id, with the key of the mixer they are in. */
  readonly #legs = new Map<string, { leg: RtpLeg; key: string }>();
  readonly #onLevels: ((key: string, levels: RtpLevel[]) => void) | undefined;
  /** Reads the legs' levels while a leg reads them. */
  #levelTimer: ReturnType<typeof setInterval> | undefined;

  /** `onLevels`: where the levels of plain-RTP members with `levelExt` go, per mixer. */
  constructor(
    factory: MemberFactory<P>,
    options: { onLevels?: (key: string, levels: RtpLevel[]) => void } = {},
  ) {
    this.#factory = factory;
    this.#onLevels = options.onLevels;
  }

  /** Starts or stops the level reports as legs that read levels come and go. */
  #levelReports(): void {
    const wanted = this.#onLevels !== undefined &&
      [...this.#legs.values()].some((e) => e.leg.levels);
    if (wanted && this.#levelTimer === undefined) {
      this.#levelTimer = setInterval(() => this.#reportLevels(), LEVELS_MS);
    } else if (!wanted && this.#levelTimer !== undefined) {
      clearInterval(this.#levelTimer);
      this.#levelTimer = undefined;
    }
  }

  #reportLevels(): void {
    const byKey = new Map<string, RtpLevel[]>();
    for (const [id, { leg, key }] of this.#legs) {
      const level = leg.takeLevel();
      if (!level) continue;
      const list = byKey.get(key) ?? [];
      list.push({ id, ...level });
      byKey.set(key, list);
    }
    for (const [key, levels] of byKey) this.#onLevels?.(key, levels);
  }

  /**
   * Applies one request of `peer`.
   *
   * @throws {Error} for a bad m-line, a rate other than the mixer's, or update/leave unknown
   */
  async apply(peer: P, request: MixRequest): Promise<void> {
    switch (request.op) {
      case "join":
        return await this.#join(peer, request);
      case "update": {
        const m = this.#of.get(peer.id)?.members.get(peer.id);
        if (!m) throw new Error(`Peer ${peer.id} is in no mixer`);
        updateMember(m, request);
        if (request.group !== undefined) m.group = request.group;
        return;
      }
      case "leave":
        return await this.dropPeer(peer);
      default:
        return await this.#roomWork(peer, request);
    }
  }

  /**
   * A plugin keeps mixer `key` (made now at `rate`, or the one its members made) until
   * `disown`: it stays when empty.
   *
   * @throws {Error} when the key mixes at another rate
   */
  own(key: string, rate: number, stereo = false): void {
    const existing = this.#mixers.get(key);
    if (existing && existing.rate !== rate) {
      throw new Error(`Mixer ${key} mixes at ${existing.rate} Hz`);
    }
    const mixer = existing ?? new Mixer(key, rate);
    mixer.owned = true;
    mixer.stereo = stereo;
    this.#mixers.set(key, mixer);
  }

  /**
   * Room-wide work of the owned mixer `key`.
   *
   * @throws {Error} when there is no such mixer
   */
  async work(key: string, request: MixRoomRequest): Promise<void> {
    const mixer = this.#mixers.get(key);
    if (!mixer?.owned) throw new Error(`No mixer ${key}`);
    await this.#work(mixer, request);
  }

  /**
   * A plain-RTP member's request in the owned mixer `key` (see `RtpMemberRequest`); resolves
   * the bound port of a join, else 0.
   *
   * @throws {Error} when there is no such mixer or leg, or no port is free
   */
  async rtp(key: string, request: RtpMemberRequest): Promise<number> {
    const mixer = this.#mixers.get(key);
    if (!mixer?.owned) throw new Error(`No mixer ${key}`);
    const memberId = `rtp:${request.id}`;
    if (request.op === "leave") {
      this.#dropLeg(request.id);
      return 0;
    }
    if (request.op === "record" || request.op === "stopRecord") {
      const entry = this.#legs.get(request.id);
      if (!entry || entry.key !== key) throw new Error(`No RTP member ${request.id} in ${key}`);
      if (request.op === "stopRecord") entry.leg.stopRecord();
      else entry.leg.record(request);
      return 0;
    }
    if (request.op === "update") {
      const m = mixer.members.get(memberId);
      if (!m) throw new Error(`No RTP member ${request.id} in ${key}`);
      updateMember(m, request);
      return 0;
    }
    let entry = this.#legs.get(request.id);
    if (!entry) {
      const leg = await RtpLeg.open({
        ip: request.ip,
        portRange: request.portRange,
        remote: request.remote,
        codec: request.codec,
        payloadType: request.payloadType,
        ...(request.levelExt !== undefined ? { levelExt: request.levelExt } : {}),
        rate: mixer.rate,
      });
      // The mixer may have ended while the port was bound.
      if (this.#mixers.get(key) !== mixer) {
        leg.close();
        throw new Error(`No mixer ${key}`);
      }
      entry = { leg, key };
      this.#legs.set(request.id, entry);
      this.#levelReports();
    }
    // Into this mixer, out of any other (changeroom keeps the port).
    this.#of.get(memberId)?.members.delete(memberId);
    entry.key = key;
    const m: Member = {
      ...legMember(entry.leg),
      ...this.#memberState(mixer, request.gain, request.muted, request.pan),
    };
    entry.leg.onAudio = (samples, rate) => mixer.receiveMono(m, samples, rate);
    mixer.members.set(memberId, m);
    this.#of.set(memberId, mixer);
    mixer.wake();
    return entry.leg.port;
  }

  /** Closes leg `id` and takes it out of its mixer (an empty one ends unless owned). */
  #dropLeg(id: string): void {
    const entry = this.#legs.get(id);
    if (!entry) return;
    this.#legs.delete(id);
    entry.leg.close();
    this.#levelReports();
    const memberId = `rtp:${id}`;
    const mixer = this.#of.get(memberId);
    this.#of.delete(memberId);
    if (!mixer) return;
    mixer.members.delete(memberId);
    if (mixer.members.size === 0 && !mixer.owned) {
      mixer.end();
      this.#mixers.delete(mixer.key);
    }
  }

  /** A new member's mixing state. */
  #memberState(mixer: Mixer, gain: number, muted: boolean, pan: number | undefined) {
    return {
      ring: new SampleRing(Math.round((mixer.rate * (MAX_BUFFER_MS + MIX_PERIOD_MS)) / 1000)),
      resampler: new Resampler(),
      gain,
      muted,
      pan: panOf(pan ?? 50),
      group: undefined,
      primed: false,
      frame: new Float32Array(mixer.frameSamples),
    };
  }

  /** The plugin lets mixer `key` go: its room work ends, and it ends with its last member. */
  disown(key: string): void {
    const mixer = this.#mixers.get(key);
    if (!mixer?.owned) return;
    // Its plain-RTP members are the plugin's: they go with it.
    for (const [id, entry] of this.#legs) if (entry.key === key) this.#dropLeg(id);
    mixer.owned = false;
    mixer.end();
    if (mixer.members.size === 0) this.#mixers.delete(key);
    else mixer.wake();
  }

  /** Room-wide work of `peer`'s mixer (see `MixRoomRequest`). */
  async #roomWork(peer: MixPeer, request: MixRoomRequest): Promise<void> {
    const mixer = this.#of.get(peer.id);
    if (!mixer) throw new Error(`Peer ${peer.id} is in no mixer`);
    await this.#work(mixer, request);
  }

  async #work(mixer: Mixer, request: MixRoomRequest): Promise<void> {
    switch (request.op) {
      case "play": {
        if (mixer.players.has(request.id)) return;
        const player = await FilePlayer.open(request.path, mixer.rate, request.loop);
        // The mixer may have ended while the file was read.
        if (this.#mixers.get(mixer.key) !== mixer || mixer.players.has(request.id)) {
          player.close();
          return;
        }
        mixer.players.set(request.id, player);
        if (request.group !== undefined) mixer.playerGroups.set(request.id, request.group);
        mixer.wake();
        return;
      }
      case "stopPlay":
        mixer.players.get(request.id)?.close();
        mixer.players.delete(request.id);
        mixer.playerGroups.delete(request.id);
        return;
      case "record":
        if (mixer.recorder?.path === request.path) return;
        mixer.recorder?.sink.close();
        mixer.recorder = request.path === null
          ? undefined
          : { path: request.path, sink: new WavWriter(request.path, mixer.rate, mixer.channels) };
        return;
      case "forward": {
        if (mixer.forwarders.has(request.id)) return;
        const { id: _, op: __, alwaysOn, group, ...options } = request;
        const sink = new RtpMixForwarder(options, mixer.rate, mixer.channels);
        mixer.forwarders.set(request.id, { sink, alwaysOn: alwaysOn === true, group });
        mixer.wake();
        return;
      }
      case "stopForward":
        mixer.forwarders.get(request.id)?.sink.close();
        mixer.forwarders.delete(request.id);
        return;
    }
  }

  /**
   * Takes `peer` out of its mixer (before its PeerConnection closes); an empty mixer ends
   * unless a plugin owns it.
   */
  async dropPeer(peer: Pick<MixPeer, "id">): Promise<void> {
    const mixer = this.#of.get(peer.id);
    const m = mixer?.members.get(peer.id);
    if (!mixer || !m) return;
    this.#of.delete(peer.id);
    mixer.members.delete(peer.id);
    if (mixer.members.size === 0 && !mixer.owned) {
      mixer.end();
      this.#mixers.delete(mixer.key);
    }
    await m.release();
  }

  /** Ends every mixer's room work (the worker exits): files are closed complete. */
  endAll(): void {
    for (const m of this.#mixers.values()) m.end();
    for (const id of [...this.#legs.keys()]) this.#dropLeg(id);
  }

  /** Mixers and members (tests, leak checks). */
  counts(): { mixers: number; members: number } {
    return { mixers: this.#mixers.size, members: this.#of.size };
  }

  async #join(peer: P, request: Extract<MixRequest, { op: "join" }>): Promise<void> {
    if (peer.closed) throw new Error("Peer is closed");
    const rate = request.sampleRate;
    const rateOf = () => {
      const existing = this.#mixers.get(request.mixer);
      if (existing && existing.rate !== rate) {
        throw new Error(`Mixer ${request.mixer} mixes at ${existing.rate} Hz`);
      }
    };
    rateOf();
    await this.dropPeer(peer);
    // Where its audio goes, once it is in.
    const into: { mixer?: Mixer; member?: Member } = {};
    const media = await this.#factory.open(peer, {
      mid: request.mid,
      rate,
      onAudio: (mono, at) => {
        if (into.mixer && into.member) into.mixer.receiveMono(into.member, mono, at);
      },
      encoder: encoderOf(request),
    });
    // Another join of this mixer at another rate may have come first while it opened.
    try {
      rateOf();
    } catch (e) {
      await media.release();
      throw e;
    }
    const mixer = this.#mixers.get(request.mixer) ?? new Mixer(request.mixer, rate);
    this.#mixers.set(mixer.key, mixer);
    const member: Member = {
      // Bound, not spread: an engine's media may be a class instance.
      send: (pcm, channels) => media.send(pcm, channels),
      release: () => media.release(),
      tune: (settings) => media.tune?.(settings),
      ...this.#memberState(mixer, request.gain, request.muted, request.pan),
      group: request.group,
    };
    into.member = member;
    into.mixer = mixer;
    mixer.members.set(peer.id, member);
    this.#of.set(peer.id, mixer);
    mixer.wake();
  }
}

/** The encoder settings a join or update names. */
function encoderOf(request: EncoderSettings): EncoderSettings {
  return {
    ...(request.complexity !== undefined ? { complexity: request.complexity } : {}),
    ...(request.bitrate !== undefined ? { bitrate: request.bitrate } : {}),
    ...(request.fec !== undefined ? { fec: request.fec } : {}),
    ...(request.expectedLoss !== undefined ? { expectedLoss: request.expectedLoss } : {}),
  };
}

/** A spatial position within 0..100. */
function panOf(pan: number): number {
  return Math.max(0, Math.min(100, pan));
}
