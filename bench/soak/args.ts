/**
 * Command-line flags of `deno task soak` (`--name=value` or `--name value`).
 *
 * @module
 */
import { flagNumber, readFlags } from "../flags.ts";

/** Every knob of a soak run. */
export interface SoakOptions {
  /** Minutes of churn per server. */
  minutes: number;
  /** Lifecycles started per second. */
  rate: number;
  /** Minutes left out of the slope at the start (default: 1, or a third of shorter runs). */
  warmupMinutes: number;
  /** Also soak a private reference Janus, after ours, with the same churn. */
  reference: boolean;
  /** Session timeout of both servers, in seconds (abandoned sessions expire after it). */
  sessionTimeout: number;
  /** Seconds between RSS samples. */
  sampleSeconds: number;
  /** Seconds between two real-media calls (0 = none). */
  mediaEvery: number;
  /** Media worker processes of our gateway. */
  workers: number;
  /** Per-request timeout, in seconds. */
  timeout: number;
  /** Long-lived WebSockets shared by the WS lifecycles. */
  wsSockets: number;
  /** Largest |RSS slope| after warm-up that passes, in MiB/min. */
  maxSlope: number;
  /** Where our gateway writes V8 heap snapshots (after warm-up, and idle at the end). */
  heapSnapshots: string | undefined;
  help: boolean;
}

/** Usage text. */
export const USAGE = `deno task soak [flags]
  --minutes=M        minutes of churn per server (default 10)
  --rate=R           lifecycles started per second (default 20)
  --warmup=M         minutes left out of the RSS slope (default 1, or a third of shorter runs)
  --reference        also soak a private reference Janus (start.sh) with the same churn,
                     after ours, and print both side by side
  --session-timeout=S session timeout of both servers (default 8): abandoned sessions expire
  --sample=S         seconds between RSS samples (default 5)
  --media-every=S    seconds between two calls with a real wrtc peer, alternately EchoTest and
                     a VideoRoom publisher (default 10; 0 = none)
  --workers=N        media worker processes of our gateway (default 1)
  --timeout=S        per-request timeout (default 10)
  --ws-sockets=N     long-lived WebSockets the WS lifecycles share (default 4)
  --max-slope=X      the target: |RSS slope| after warm-up at most X MiB/min (default 1)
  --heap-snapshots=DIR our gateway writes V8 heap snapshots there after warm-up and at the
                     end (idle, after the timeouts), to diff in DevTools
The churn mixes HTTP (long polls) and WebSocket lifecycles: EchoTest attach + message,
VideoRoom publisher join + leave, detach, destroy; 10% are abandoned to time out. It runs in
a private network namespace. Exit code 1 when our gateway had errors, leaked sessions, or an
RSS slope beyond the target.
Our gateway runs with the V8 flags of deno.json's start task (--v8-flags=...), its media
workers with their own (WORKER_V8_FLAGS in core/media/engine.ts).
Env: SOAK_GATEWAY_V8_FLAGS adds V8 flags to our gateway (comma-separated, e.g.
     --max-semi-space-size=8), not to its media workers.`;

/** Parses `args`; throws an Error naming a bad flag. */
export function parseSoakArgs(args: readonly string[]): SoakOptions {
  const options: SoakOptions = {
    minutes: 10,
    rate: 20,
    warmupMinutes: NaN,
    reference: false,
    sessionTimeout: 8,
    sampleSeconds: 5,
    mediaEvery: 10,
    workers: 1,
    timeout: 10,
    wsSockets: 4,
    maxSlope: 1,
    heapSnapshots: undefined,
    help: false,
  };
  const numeric: Record<string, (v: number) => void> = {
    minutes: (v) => options.minutes = v,
    rate: (v) => options.rate = v,
    warmup: (v) => options.warmupMinutes = v,
    "session-timeout": (v) => options.sessionTimeout = v,
    sample: (v) => options.sampleSeconds = v,
    "media-every": (v) => options.mediaEvery = v,
    workers: (v) => options.workers = v,
    timeout: (v) => options.timeout = v,
    "ws-sockets": (v) => options.wsSockets = v,
    "max-slope": (v) => options.maxSlope = v,
  };
  const zeroOk = new Set(["warmup", "media-every"]);
  const integers = new Set(["workers", "ws-sockets"]);
  for (const { name, value } of readFlags(args, new Set(["help", "reference"]))) {
    if (name === "help") {
      options.help = true;
      continue;
    }
    if (name === "reference") {
      options.reference = true;
      continue;
    }
    if (name === "heap-snapshots") {
      options.heapSnapshots = value;
      continue;
    }
    const set = numeric[name];
    if (!set) throw new Error(`Unknown flag --${name}`);
    set(flagNumber(name, value, zeroOk.has(name), integers.has(name)));
  }
  if (Number.isNaN(options.warmupMinutes)) {
    options.warmupMinutes = Math.min(1, options.minutes / 3);
  }
  if (options.warmupMinutes >= options.minutes) {
    throw new Error("--warmup must be shorter than --minutes");
  }
  return options;
}
