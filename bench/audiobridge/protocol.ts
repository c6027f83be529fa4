/**
 * RPC vocabulary (over `core/media/rpc.ts`) of the AudioBridge bench's wrtc client processes
 * (`client_host.ts`): each holds some of a room's participants, which send a tone and receive
 * the room's mix; what they received is read from their inbound-rtp audio stats.
 *
 * @module
 */

/**
 * The depth of the jitter buffer a node-datachannel participant models: a mix frame later than
 * this past its slot counts as concealed.
 */
export const PLAYOUT_DELAY_MS = 60;

/** Cumulative receive counters of one participant (inbound-rtp audio). */
export interface ReceivedAudio {
  state: string;
  packetsReceived: number;
  packetsLost: number;
  /** Samples played out (decoded or concealed), at the decoder's rate. */
  totalSamplesReceived: number;
  /** Of those, samples NetEq made up because audio was missing or late. */
  concealedSamples: number;
  silentConcealedSamples: number;
  concealmentEvents: number;
  /** Mean level (0..1) of what was played out, over the stats' life. */
  totalAudioEnergy: number;
  totalSamplesDuration: number;
}

/** Counters of a participant that is gone, with its `state`. */
export function noAudio(state: string): ReceivedAudio {
  return {
    state,
    packetsReceived: 0,
    packetsLost: 0,
    totalSamplesReceived: 0,
    concealedSamples: 0,
    silentConcealedSamples: 0,
    concealmentEvents: 0,
    totalAudioEnergy: 0,
    totalSamplesDuration: 0,
  };
}

/** Methods a client host serves. */
export interface ParticipantMethods {
  /**
   * A new participant sending a `tone` Hz sine (Opus, by libwebrtc); resolves its id and its
   * offer with every candidate in it (gathering complete, 5 s at most).
   */
  create: { params: { tone: number }; result: { id: number; sdp: string } };
  /** Applies the server's answer. */
  answer: { params: { id: number; sdp: string }; result: null };
  /** What each of `ids` received so far. */
  received: { params: { ids: number[] }; result: { peers: ReceivedAudio[] } };
  close: { params: { id: number }; result: null };
}

/** Events a client host pushes. */
export interface ParticipantEvents {
  ready: { pid: number };
}
