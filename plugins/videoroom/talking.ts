/**
 * Who is talking, as the reference decides it for `audiolevel_event` rooms: the levels of a
 * publisher's audio stream (-dBov, 0 loudest, 127 silence) are averaged over
 * `audio_active_packets` packets; an average under `audio_level_average` means talking. Only
 * changes are announced. The reference averages in C `float`, which its events show (e.g.
 * `19.079999923706055`): so does this.
 *
 * @module
 */
import type { AudioLevelReport } from "../../core/plugin.ts";

/** The window and threshold in force (room settings, or the publisher's own). */
export interface TalkSettings {
  packets: number;
  average: number;
}

/** A change of talking state on one mid. */
export interface TalkChange {
  mid: string;
  talking: boolean;
  /** The average level (-dBov) that decided it. */
  average: number;
}

interface MidState {
  sum: number;
  packets: number;
  talking: boolean;
}

/** The talking state of one publisher's audio streams. */
export class TalkDetector {
  #mids = new Map<string, MidState>();
  #settings: () => TalkSettings;

  constructor(settings: () => TalkSettings) {
    this.#settings = settings;
  }

  /** Whether any audio stream of the publisher is talking. */
  get talking(): boolean {
    for (const s of this.#mids.values()) if (s.talking) return true;
    return false;
  }

  /** Feeds one report; returns the change it completes, if any. */
  feed(report: AudioLevelReport): TalkChange | undefined {
    const { packets: window, average: threshold } = this.#settings();
    const st = this.#mids.get(report.mid) ?? { sum: 0, packets: 0, talking: false };
    this.#mids.set(report.mid, st);
    st.sum += report.level * report.packets;
    st.packets += report.packets;
    if (st.packets < Math.max(1, window)) return undefined;
    const average = Math.fround(st.sum / st.packets);
    st.sum = 0;
    st.packets = 0;
    const talking = average < threshold;
    if (talking === st.talking) return undefined;
    st.talking = talking;
    return { mid: report.mid, talking, average };
  }

  /** Forgets every stream (the publisher stopped publishing). */
  reset(): void {
    this.#mids.clear();
  }
}
