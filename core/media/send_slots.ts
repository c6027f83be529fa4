/**
 * The m-lines a worker peer sends on, with mids known before negotiation. libwebrtc gives a
 * new transceiver its mid only when an offer is applied (and every `createOffer` draws new
 * numbers), so a forward could not say where it lands. Here a new m-line gets the next free
 * number at once; when the peer offers, the new sections of wrtc's offer are renamed to those
 * mids before `setLocalDescription`, which libwebrtc adopts for m-lines without a mid yet.
 *
 * @module
 */
import { createLogger } from "../log.ts";
import { attribute, mediaKind, renameMids, sectionMids, splitSdp } from "./sdp.ts";
import type { WrtcPeerConnection, WrtcTransceiver } from "./wrtc.ts";

const log = createLogger("media-worker");

/** A sendable m-line and its mid (assigned, or reserved until the next offer). */
export interface SendSlot {
  transceiver: WrtcTransceiver;
  mid: string;
}

function live(t: WrtcTransceiver): boolean {
  return t.direction !== "stopped" && t.stopped !== true;
}

/** Mid bookkeeping of one PeerConnection's transceivers. */
export class SendSlots {
  #pc: WrtcPeerConnection;
  #reserved = new Map<WrtcTransceiver, string>();

  constructor(pc: WrtcPeerConnection) {
    this.#pc = pc;
  }

  /** The mid of `t`: negotiated, or reserved for the next offer. */
  midOf(t: WrtcTransceiver): string | undefined {
    return t.mid ?? this.#reserved.get(t);
  }

  /** Live audio/video transceivers with a mid (negotiated or reserved), in creation order. */
  transceivers(): WrtcTransceiver[] {
    return this.#pc.getTransceivers().filter((t) => live(t) && this.midOf(t) !== undefined);
  }

  /** The live transceiver whose mid is `mid`. */
  byMid(mid: string): WrtcTransceiver | undefined {
    return this.transceivers().find((t) => this.midOf(t) === mid);
  }

  /** Adds a `sendonly` transceiver of `kind` and reserves the next mid for it. */
  add(kind: "audio" | "video"): SendSlot {
    const mid = this.#fresh(this.#known());
    const transceiver = this.#pc.addTransceiver(kind, { direction: "sendonly" });
    this.#reserved.set(transceiver, mid);
    return { transceiver, mid };
  }

  /**
   * Renames the new sections of an offer wrtc just made to the reserved mids (a new data
   * section keeps its mid unless that is taken). Call right before `setLocalDescription`.
   */
  prepareOffer(sdp: string): string {
    const associated = new Set<string>();
    for (const t of this.#pc.getTransceivers()) if (t.mid !== null) associated.add(t.mid);
    for (const mid of sectionMids(this.#pc.localDescription?.sdp ?? "")) {
      if (mid !== undefined) associated.add(mid);
    }
    const pending = this.#pc.getTransceivers().filter((t) => t.mid === null && live(t));
    const sections = splitSdp(sdp).media;
    const used = new Set([...associated, ...this.#reserved.values()]);
    const renames = new Map<number, string>();
    const others: number[] = [];
    let next = 0;
    for (const [index, section] of sections.entries()) {
      const mid = attribute(section, "mid");
      if (mid === undefined || associated.has(mid)) continue;
      const kind = mediaKind(section);
      if (kind !== "audio" && kind !== "video") {
        others.push(index);
        continue;
      }
      const t = pending[next++];
      if (!t || t.receiver.track.kind !== kind) {
        log.warn(`offer section ${index} (${kind}) matches no new transceiver: mid kept`);
        continue;
      }
      const want = this.#reserved.get(t) ?? this.#fresh(used);
      this.#reserved.set(t, want);
      used.add(want);
      if (want !== mid) renames.set(index, want);
    }
    for (const index of others) {
      const mid = attribute(sections[index] ?? [], "mid") ?? "";
      const taken = [...renames.values()].includes(mid) || this.#isReservedElsewhere(mid);
      if (taken) {
        const fresh = this.#fresh(used);
        used.add(fresh);
        renames.set(index, fresh);
      }
    }
    return renameMids(sdp, renames);
  }

  /** After `setLocalDescription`: reserved mids are negotiated ones now. */
  settle(): void {
    for (const [t, mid] of this.#reserved) {
      if (t.mid === null) continue;
      if (t.mid !== mid) log.warn(`transceiver took mid ${t.mid}, not the reserved ${mid}`);
      this.#reserved.delete(t);
    }
  }

  #isReservedElsewhere(mid: string): boolean {
    for (const value of this.#reserved.values()) if (value === mid) return true;
    return false;
  }

  /** Every mid in use: transceivers, reservations and both descriptions (data included). */
  #known(): Set<string> {
    const out = new Set<string>(this.#reserved.values());
    for (const t of this.#pc.getTransceivers()) if (t.mid !== null) out.add(t.mid);
    for (const d of [this.#pc.localDescription, this.#pc.remoteDescription]) {
      for (const mid of sectionMids(d?.sdp ?? "")) if (mid !== undefined) out.add(mid);
    }
    return out;
  }

  /** The number after the highest numeric mid in `used`. */
  #fresh(used: ReadonlySet<string>): string {
    let max = -1;
    for (const mid of used) if (/^\d+$/.test(mid)) max = Math.max(max, Number(mid));
    return String(max + 1);
  }
}
