/**
 * One VideoCall call between two handles, and how its media is wired: both handles share an
 * affinity key (one media worker); the caller's offer is answered by the caller's peer and
 * that answer is held until the callee accepts; the callee gets an offer of the callee's peer
 * mirroring it (same mids and codecs, so packets pass unchanged); once the callee answers, each
 * caller m-line is forwarded to the callee's m-line of the same mid and back. A renegotiation
 * (either side's new offer) goes the same way: the offerer's peer answers it, that answer is
 * held, the other side gets a new offer of its peer and its answer releases the held one.
 *
 * @module
 */
import type { Jsep, PluginWebRTC } from "../../core/plugin.ts";
import { liveMediaLines, type MediaLine } from "../_shared/media_lines.ts";

/** What a call needs of each side. */
export interface CallParty {
  readonly webrtc: PluginWebRTC;
  /** Whether this side's media of `kind` is relayed to the other (`set` audio/video). */
  sends(kind: "audio" | "video"): boolean;
}

/** A renegotiation under way: `from` offered, `answer` is ours, held for the other's answer. */
interface Pending<P> {
  from: P;
  answer: Jsep;
}

/** One relayed m-line: what `from` receives on `mid` goes out on the other side's `mid`. */
interface Relay {
  from: CallParty;
  to: CallParty;
  line: MediaLine;
}

let calls = 0;

/** A call from `caller` to `callee`, from `call` until a hangup. */
export class Call<P extends CallParty> {
  readonly caller: P;
  readonly callee: P;
  /** The media worker placement shared by both peers. */
  readonly affinity = `videocall-${++calls}`;
  /** Our answer to the caller, sent in `accepted`. */
  answer: Jsep | undefined;
  accepted = false;
  ended = false;
  #relays: Relay[] = [];
  /** Each side's SDP of the last completed negotiation (the lines it sends us). */
  #sdps = new Map<P, string>();
  #pending: Pending<P> | undefined;

  constructor(caller: P, callee: P) {
    this.caller = caller;
    this.callee = callee;
  }

  /** The other side of `party`. */
  other(party: P): P {
    return party === this.caller ? this.callee : this.caller;
  }

  /** Answers the caller's offer (held) and resolves the offer for the callee. */
  async setUp(offer: Jsep, bitrateCap: number): Promise<Jsep> {
    this.caller.webrtc.useAffinity(this.affinity);
    this.callee.webrtc.useAffinity(this.affinity);
    const cap = bitrateCap > 0 ? { bitrateCap } : {};
    this.answer = await this.caller.webrtc.acceptOffer(offer, cap);
    this.#sdps.set(this.caller, this.answer.sdp);
    return await this.callee.webrtc.createOffer({ mirror: this.answer.sdp });
  }

  /** The callee answered: every m-line both answers kept is forwarded both ways. */
  async connect(calleeAnswer: Jsep): Promise<void> {
    this.#sdps.set(this.callee, calleeAnswer.sdp);
    await this.#relayLines();
  }

  /** The SDP `party` negotiated last (undefined before it did). */
  sdpOf(party: P): string | undefined {
    return this.#sdps.get(party);
  }

  /** Whether `party` has a renegotiation out that waits for the other side's answer. */
  awaitsAnswer(party: P): boolean {
    return this.#pending?.from === party;
  }

  /**
   * `from` sent a new offer: its peer answers it (held) and resolves the other side's new offer
   * (a mirror of that answer: the relay's mids, codecs and payload types stay).
   */
  async renegotiate(from: P, offer: Jsep, bitrateCap: number): Promise<Jsep> {
    const answer = await from.webrtc.acceptOffer(offer, bitrateCap > 0 ? { bitrateCap } : {});
    const theirs = await this.other(from).webrtc.createOffer({ mirror: answer.sdp });
    this.#pending = { from, answer };
    return theirs;
  }

  /**
   * The other side answered the renegotiation of `awaitsAnswer`: the relays follow the lines
   * both now keep; resolves the held answer for the offerer and the mids left unrelayed.
   */
  async completeRenegotiation(
    answerer: P,
    answer: Jsep,
  ): Promise<{ answer: Jsep; unrelayed: string[] }> {
    const pending = this.#pending;
    if (!pending || pending.from === answerer) throw new Error("No renegotiation to answer");
    this.#pending = undefined;
    this.#sdps.set(pending.from, pending.answer.sdp);
    this.#sdps.set(answerer, answer.sdp);
    return { answer: pending.answer, unrelayed: await this.#relayLines(true) };
  }

  /**
   * Forwards, both ways, every m-line both sides keep (by mid and kind) that is not relayed yet,
   * and stops the relays of lines one side dropped. With `skipFailed`, a line that cannot be
   * forwarded is left out instead of failing; resolves the mids left out.
   */
  async #relayLines(skipFailed = false): Promise<string[]> {
    const unrelayed: string[] = [];
    const kept = liveMediaLines(this.#sdps.get(this.callee) ?? "");
    const lines = liveMediaLines(this.#sdps.get(this.caller) ?? "").filter((l) =>
      kept.some((k) => k.mid === l.mid && k.kind === l.kind)
    );
    const live = (r: Relay) => lines.some((l) => l.mid === r.line.mid && l.kind === r.line.kind);
    for (const r of this.#relays.filter((r) => !live(r))) {
      await r.from.webrtc.stopForward({ to: r.to.webrtc, toMid: r.line.mid }).catch(() => {});
    }
    this.#relays = this.#relays.filter(live);
    for (const line of lines) {
      if (this.#relays.some((r) => r.line.mid === line.mid)) continue;
      for (const [from, to] of [[this.caller, this.callee], [this.callee, this.caller]]) {
        const relay = { from: from!, to: to!, line };
        this.#relays.push(relay);
        try {
          await from!.webrtc.forward({
            to: to!.webrtc,
            fromMid: line.mid,
            toMid: line.mid,
            active: from!.sends(line.kind),
          });
        } catch (e) {
          if (!skipFailed) throw e;
          // A line a renegotiation added that a peer cannot carry: the others go on.
          this.#relays = this.#relays.filter((r) => r !== relay);
          unrelayed.push(line.mid);
          break;
        }
      }
    }
    return unrelayed;
  }

  /** Pauses or resumes what `from` sends of `kind` (a resumed video starts on a keyframe). */
  async setSending(from: P, kind: "audio" | "video", active: boolean): Promise<void> {
    for (const r of this.#relays) {
      if (r.from !== from || r.line.kind !== kind) continue;
      await from.webrtc.setForwarding({ to: r.to.webrtc, toMid: r.line.mid, active })
        .catch(() => {});
    }
  }

  /** Stops every forward (a no-op for a side whose peer is gone). */
  stop(): void {
    const relays = this.#relays;
    this.#relays = [];
    for (const r of relays) {
      void r.from.webrtc.stopForward({ to: r.to.webrtc, toMid: r.line.mid }).catch(() => {});
    }
  }
}
