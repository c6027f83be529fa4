/**
 * One VideoCall call between two handles, and how its media is wired: both handles share an
 * affinity key (one media worker); the caller's offer is answered by the caller's peer and
 * that answer is held until the callee accepts; the callee gets an offer of the callee's peer
 * mirroring it (same mids and codecs, so packets pass unchanged); once the callee answers, each
 * caller m-line is forwarded to the callee's m-line of the same mid and back.
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
    return await this.callee.webrtc.createOffer({ mirror: this.answer.sdp });
  }

  /** The callee answered: every m-line both answers kept is forwarded both ways. */
  async connect(calleeAnswer: Jsep): Promise<void> {
    const kept = liveMediaLines(calleeAnswer.sdp);
    const lines = liveMediaLines(this.answer?.sdp ?? "").filter((l) =>
      kept.some((k) => k.mid === l.mid && k.kind === l.kind)
    );
    for (const line of lines) {
      for (const [from, to] of [[this.caller, this.callee], [this.callee, this.caller]]) {
        const relay = { from: from!, to: to!, line };
        this.#relays.push(relay);
        await from!.webrtc.forward({
          to: to!.webrtc,
          fromMid: line.mid,
          toMid: line.mid,
          active: from!.sends(line.kind),
        });
      }
    }
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
