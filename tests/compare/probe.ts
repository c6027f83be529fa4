/**
 * What a side-by-side scenario is, and its simplest step: requests sent one after the other,
 * each followed by a settle that records the events they caused.
 *
 * @module
 */
import type { JsonObject } from "../../core/protocol.ts";
import type { Recorder } from "./recorder.ts";

/** One scenario. */
export interface Scenario {
  name: string;
  run(r: Recorder): Promise<void>;
}

/** A difference explained: the reference's answer is not what this gateway does, on purpose. */
export interface KnownDifference {
  scenario: string;
  /** A text of the differing lines. */
  match: string;
  why: string;
}

/**
 * Requests sent one after the other, each followed by a settle (longer for `leave`, `kick`,
 * `unpublish`, `destroy`, `stop`, `hangup` and `call`, whose events follow later).
 */
export async function probe(
  r: Recorder,
  who: string,
  bodies: readonly JsonObject[],
): Promise<void> {
  for (const body of bodies) {
    await r.ask(who, body);
    // VideoCall's `hangup`, and a `call` it refuses mid-call (it hangs the call up, as the
    // reference), close PeerConnections: their events come later too.
    const slow = ["leave", "kick", "unpublish", "destroy", "stop", "hangup", "call"].includes(
      String(body.request),
    );
    await r.settle(`${who} ${JSON.stringify(body)}`, slow ? 1500 : 400);
  }
}
