/**
 * Forwards between the peers of one media worker: the track a source peer receives on one
 * m-line is sent by the sender of one m-line of a target peer. Each target m-line carries at
 * most one forward; pausing detaches the track from the sender (nothing is sent, no
 * renegotiation) and resuming puts it back (libwebrtc then starts with a keyframe). A peer's
 * m-line forwarded to itself is echo.
 *
 * @module
 */
import type { SendSlot } from "./send_slots.ts";
import type { WrtcSender, WrtcTrack, WrtcTransceiver } from "./wrtc.ts";

/** What the hub needs of a worker peer. */
export interface ForwardPeer {
  readonly id: string;
  readonly closed: boolean;
  /**
   * The track received on `mid`.
   *
   * @throws {Error} when there is no live audio/video m-line `mid`
   */
  receivedTrack(mid: string): WrtcTrack;
  /** The live m-line `mid` (negotiated or reserved), if any. */
  sendSlot(mid: string): SendSlot | undefined;
  /** A free sendable m-line of `kind` (none carrying a forward or echo), or a new one. */
  freeSendSlot(kind: "audio" | "video", busy: (t: WrtcTransceiver) => boolean): SendSlot;
}

/** One forwarded stream. */
interface Forward {
  source: ForwardPeer;
  fromMid: string;
  track: WrtcTrack;
  target: ForwardPeer;
  toMid: string;
  transceiver: WrtcTransceiver;
  active: boolean;
}

function sender(f: Forward): WrtcSender {
  return f.transceiver.sender;
}

/** Every forward of one worker. */
export class ForwardHub {
  #forwards = new Set<Forward>();

  /**
   * Forwards what `source` receives on `fromMid` to `target` (on `toMid`, replacing what that
   * m-line carried, or on a free or new m-line of the same kind).
   *
   * @returns the target m-line's mid
   * `target` may be `source` itself (echo): only back onto `fromMid`, whose sender then sends
   * the track its receiver gets (libwebrtc re-encodes it).
   *
   * @throws {Error} for an unknown or mismatched m-line, a closed target, or echo onto another
   * m-line
   */
  async forward(
    source: ForwardPeer,
    target: ForwardPeer,
    options: { fromMid: string; toMid?: string; active?: boolean },
  ): Promise<string> {
    if (target.closed) throw new Error("Target peer is closed");
    const echo = target === source;
    if (echo && options.toMid !== undefined && options.toMid !== options.fromMid) {
      throw new Error("A peer forwards to itself only back onto the same m-line (echo)");
    }
    const toMid = echo ? options.fromMid : options.toMid;
    const track = source.receivedTrack(options.fromMid);
    let slot: SendSlot | undefined;
    if (toMid !== undefined) {
      slot = target.sendSlot(toMid);
      if (!slot) throw new Error(`No m-line ${toMid} on the target`);
      if (slot.transceiver.receiver.track.kind !== track.kind) {
        throw new Error(`m-line ${toMid} of the target is not ${track.kind}`);
      }
    } else {
      slot = target.freeSendSlot(track.kind, (t) => this.#onTransceiver(t) !== undefined);
    }
    const old = this.#onTransceiver(slot.transceiver);
    if (old) this.#forwards.delete(old);
    const forward: Forward = {
      source,
      fromMid: options.fromMid,
      track,
      target,
      toMid: slot.mid,
      transceiver: slot.transceiver,
      active: options.active ?? true,
    };
    this.#forwards.add(forward);
    await this.#apply(forward);
    return slot.mid;
  }

  /**
   * Pauses or resumes the forward from `source` to `toMid` of `target`.
   *
   * @throws {Error} when there is no such forward
   */
  async setActive(
    source: ForwardPeer,
    target: ForwardPeer,
    toMid: string,
    active: boolean,
  ): Promise<void> {
    const f = this.#find(source, target, toMid);
    if (!f) throw new Error(`No forward from ${source.id} to m-line ${toMid} of ${target.id}`);
    f.active = active;
    await this.#apply(f);
  }

  /** Stops the forward from `source` to `toMid` of `target`, if there is one. */
  async stop(source: ForwardPeer, target: ForwardPeer, toMid: string): Promise<void> {
    const f = this.#find(source, target, toMid);
    if (!f) return;
    this.#forwards.delete(f);
    if (!target.closed) await sender(f).replaceTrack(null).catch(() => {});
  }

  /**
   * Forgets every forward of `peer`, which is closing: the targets it fed stop sending its
   * tracks (before those tracks are stopped), and what it was fed is dropped.
   */
  async dropPeer(peer: ForwardPeer): Promise<void> {
    for (const f of [...this.#forwards]) {
      if (f.source !== peer && f.target !== peer) continue;
      this.#forwards.delete(f);
      if (f.source === peer && !f.target.closed) {
        await sender(f).replaceTrack(null).catch(() => {});
      }
    }
  }

  /** Forwards in place (tests, leak checks). */
  get size(): number {
    return this.#forwards.size;
  }

  #onTransceiver(t: WrtcTransceiver): Forward | undefined {
    for (const f of this.#forwards) if (f.transceiver === t) return f;
    return undefined;
  }

  #find(source: ForwardPeer, target: ForwardPeer, toMid: string): Forward | undefined {
    for (const f of this.#forwards) {
      if (f.source === source && f.target === target && f.toMid === toMid) return f;
    }
    return undefined;
  }

  async #apply(f: Forward): Promise<void> {
    const wanted = f.active ? f.track : null;
    if (sender(f).track !== wanted) await sender(f).replaceTrack(wanted);
  }
}
