/**
 * A room mixer that belongs to no handle (AudioBridge): made in a media worker that decodes and
 * kept until it is closed, with or without member peers, so that its room's own work (files
 * played, the recording, forwarders of the mix) goes on in an empty room. Peers join it with
 * `Peer.mix({op: "join", mixer: key})`; they must be placed with the same affinity key.
 *
 * @module
 */
import type { EncoderSettings, MixRoomRequest } from "./types.ts";

/** What {@link MixerEngine.createMixer} takes. */
export interface MixerOptions {
  /** The mixer's key (`MixRequest` `join` names it); unique in the engine. */
  key: string;
  /** The rate it mixes at (an Opus rate). */
  sampleRate: number;
  /** Sends its members a stereo mix, each member placed by its `pan` (AudioBridge spatial audio). */
  stereo?: boolean;
  /** Placement: peers that join this mixer use the same key (one media worker). */
  affinity?: string;
  /** The plugin package (the engine may be configured per plugin). */
  plugin?: string;
  /** The mixer went away without `close()` (its media worker died). */
  onClosed?: () => void;
}

/**
 * A plain-RTP member of a mixer, known by `id` in the worker: `join` binds its UDP socket on
 * `ip` in `portRange` (or moves it, socket kept, from another mixer of the worker) and resolves
 * the port; it decodes the Opus/G.711 RTP it receives there and sends its mix-minus to `remote`.
 */
export type RtpMemberRequest =
  | {
    op: "join";
    id: string;
    ip: string;
    portRange: { min: number; max: number };
    remote?: { host: string; port: number };
    codec: "opus" | "pcmu" | "pcma";
    payloadType: number;
    /** The RFC 6464 audio level extension id of its packets: levels are reported (talking). */
    levelExt?: number;
    gain: number;
    muted: boolean;
    pan?: number;
  }
  /** Its mix's Opus settings and FEC come with updates (AudioBridge: right after the join). */
  | ({ op: "update"; id: string; gain?: number; muted?: boolean; pan?: number } & EncoderSettings)
  | { op: "leave"; id: string }
  /**
   * Records what it receives to an MJR file at `path` (another path replaces the file; the same
   * one only changes `muted`: packets dropped, their time kept as a gap), or stops.
   */
  | { op: "record"; id: string; path: string; codec: string; muted: boolean }
  | { op: "stopRecord"; id: string };

/** The mean RFC 6464 level (dBov, 0 loudest .. 127) of a plain-RTP member's recent packets. */
export interface RtpLevel {
  /** The member's id (`RtpMemberRequest`). */
  id: string;
  level: number;
  packets: number;
}

/** A live mixer in a media worker. */
export interface RoomMixer {
  readonly key: string;
  /**
   * Where the levels of its plain-RTP members that joined with `levelExt` go, about every
   * 100 ms while they send (undefined: nowhere).
   */
  onRtpLevel(listener: ((level: RtpLevel) => void) | undefined): void;
  /** Room-wide work (files, recording, forwarders of the mix); see `MixRoomRequest`. */
  work(request: MixRoomRequest): Promise<void>;
  /** A plain-RTP member joins (resolves its bound port), changes or leaves; 0 but for join. */
  rtp(request: RtpMemberRequest): Promise<number>;
  /** Ends its room work; members still in it go on mixing until they leave. Idempotent. */
  close(): Promise<void>;
}

/** An engine that can host mixers of its own. */
export interface MixerEngine {
  /**
   * Makes the mixer in the worker of its affinity key (or adopts the one its members made).
   *
   * @throws {Error} when the engine does not decode, or the key mixes at another rate
   */
  createMixer(options: MixerOptions): Promise<RoomMixer>;
  /** Live mixers, for leak checks. */
  mixerCount(): number;
  /** Members (peers and plain-RTP legs) in every mixer of the workers, for leak checks. */
  mixerMembers?(): Promise<number>;
}
