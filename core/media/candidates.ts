/**
 * The candidates a worker peer announced and accepted, as admin `handle_info` lists them
 * (measured on the reference): ours once each in its short form, the client's without the
 * `candidate:` prefix. Remote candidates of bundled m-lines other than the first, and TCP
 * ones while `ice_tcp` is off, are ignored as the reference ignores them.
 *
 * @module
 */
import { parseCandidate, shortCandidate } from "./ice_filter.ts";
import { bundledAway } from "./sdp.ts";

/** Where a remote candidate says it belongs. */
export interface CandidatePlace {
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

/** Local and remote candidates of one peer. */
export class CandidateBook {
  #local = new Set<string>();
  #remote = new Set<string>();
  #tcp: boolean;

  constructor(options: { tcp: boolean }) {
    this.#tcp = options.tcp;
  }

  /** Ours, in the reference's short form (one entry per candidate). */
  get local(): string[] {
    return [...this.#local];
  }

  /** The client's, as given (without `candidate:`). */
  get remote(): string[] {
    return [...this.#remote];
  }

  /** Notes one of our candidates (trickled or in an SDP; both forms count once). */
  noteLocal(candidate: string): void {
    this.#local.add(shortCandidate(candidate));
  }

  /**
   * Whether a client candidate goes to the PeerConnection: not when it is for a bundled
   * m-line other than the first (given the remote description), nor TCP with `ice_tcp` off.
   * Kept ones are remembered.
   */
  acceptRemote(candidate: string, place: CandidatePlace, remoteSdp: string): boolean {
    if (bundledAway(remoteSdp, place)) return false;
    const parsed = parseCandidate(candidate);
    if (parsed?.protocol === "tcp" && !this.#tcp) return false;
    this.#remote.add(candidate.replace(/^a=/, "").replace(/^candidate:/, ""));
    return true;
  }
}
