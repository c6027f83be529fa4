/**
 * The TextRoom fan-out bench's shapes: its options, the client process's methods
 * (`client_host.ts`) and the results `inside.ts` prints for `run_textroom.ts`.
 *
 * @module
 */

/** What `deno task bench --only=textroom` measures. */
export interface TextRoomBenchOptions {
  /** Receiving participants (each a data-channel peer in the room). */
  participants: number;
  /** Seconds of each measured window. */
  seconds: number;
  /** Public messages the sender keeps unacknowledged at most. */
  window: number;
  /** Characters of each message's text. */
  size: number;
  /** Measured windows per server, alternating; the best counts. */
  rounds: number;
  noRef: boolean;
  timeoutMs: number;
}

/** One measured window on one server. */
export interface TextRoomWindow {
  /** Messages sent, and acknowledged (`success` with the transaction). */
  sent: number;
  acked: number;
  /** `message` events received by the participants inside the window. */
  delivered: number;
  /** Wall-clock seconds of the window. */
  seconds: number;
  /** Delivered messages per second, summed over participants. */
  deliveredPerSecond: number;
  /** Acknowledged messages per second (each went to every participant). */
  ackedPerSecond: number;
  /** Delivered after the window until every acknowledged message arrived (or 5 s passed). */
  missing: number;
  /** Acknowledgement round trip, ms (median, 99th percentile). */
  ackP50Ms: number;
  ackP99Ms: number;
  /** CPU in % of one core over the window: the server's processes, the client process. */
  serverCpuPercent: number;
  clientCpuPercent: number;
  /** The server's CPU by process ("gateway 40.1, rtp worker 70.2"). */
  serverCpuText: string;
  /** Server CPU microseconds per message delivered (window and drain). */
  serverUsPerDelivered: number;
  errors: number;
}

/** One server's figures. */
export interface TextRoomServerResult {
  /** Seconds from the first `create` to the last participant joined. */
  connectSeconds: number;
  windows: TextRoomWindow[];
  /** The window with the most delivered messages per second. */
  best: TextRoomWindow | undefined;
}

/** Everything the phase found. */
export interface TextRoomBenchResult {
  options: TextRoomBenchOptions;
  ours: TextRoomServerResult | undefined;
  reference: TextRoomServerResult | undefined;
  referenceStatus: string;
  notes: string[];
}

/** The client process's methods. */
export interface TextRoomClientMethods {
  /** Creates a room on `wsUrl` and brings `participants` receivers and one sender into it. */
  setup: {
    params: { wsUrl: string; participants: number; timeoutMs: number };
    result: { connectSeconds: number };
  };
  /** Sends for `seconds`, counting deliveries; then waits for the stragglers. */
  blast: {
    params: { seconds: number; window: number; size: number };
    result: Omit<
      TextRoomWindow,
      "serverCpuPercent" | "clientCpuPercent" | "serverCpuText" | "serverUsPerDelivered"
    >;
  };
  /** Destroys the room, closes the peers and the session. */
  teardown: { params: null; result: null };
}

/** The client process's events. */
export interface TextRoomClientEvents {
  ready: { pid: number };
}

/** The line prefix of the result `inside.ts` prints. */
export const TEXTROOM_RESULT_PREFIX = "BENCH_TEXTROOM_RESULT ";
/** The line prefix announcing a private reference `inside.ts` started (pid, run dir). */
export const TEXTROOM_REFERENCE_PREFIX = "BENCH_TEXTROOM_REFERENCE ";
