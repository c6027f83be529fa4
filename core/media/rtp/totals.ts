/**
 * This rtp worker's media totals since it started (`mediaStats` RPC, `/metrics`): the lines
 * and streams of every peer add to them as packets go, so closed peers stay counted.
 *
 * @module
 */
import { emptyCounters, type MediaCounters } from "../media_counters.ts";

/** The process-wide totals, by kind. */
export const RTP_TOTALS: MediaCounters = emptyCounters();
