/**
 * Command-line flags of the bench (`--name=value` or `--name value`).
 *
 * @module
 */
import { flagNumber, readFlags } from "./flags.ts";

/** Every knob of a bench run. Durations are in seconds. */
export interface BenchOptions {
  /** Seconds each timed load phase runs. */
  duration: number;
  /** Seconds of unmeasured load before each timed phase. */
  warmup: number;
  /** Times each load phase runs (alternating ours / reference); the best counts. */
  rounds: number;
  httpClients: number;
  wsSockets: number;
  kaSockets: number;
  /** Keepalives in flight per socket. */
  kaWindow: number;
  sessions: number;
  memConcurrency: number;
  /** Seconds to let the process settle before sampling RSS. */
  settle: number;
  /** Per-request timeout. */
  timeout: number;
  /** `limits.ws_requests_per_second` of the gateway under test (0 = off). */
  wsRateLimit: number;
  /** Phases to run: http, ws, ka, mem, echo, videoroom, browser. */
  only: Set<Phase>;
  /** EchoTest ramp: concurrent calls per step. */
  echoCalls: number[];
  /** Seconds of each measured EchoTest window. */
  echoSeconds: number;
  /** VideoRoom join storm: participants, participants joining at once, rounds (best kept). */
  vrParticipants: number;
  vrConcurrency: number;
  vrRounds: number;
  /** Unmeasured storms per server before the rounds. */
  vrWarmup: number;
  /** A second, larger storm: participants (0 = none) and rounds. */
  vrLargeParticipants: number;
  vrLargeRounds: number;
  /** Whether the join storm's room notifies every join to the others (`notify_joining`). */
  vrNotifyJoining: boolean;
  /** Video the EchoTest callers and the VideoRoom publisher send, at 30 fps. */
  videoWidth: number;
  videoHeight: number;
  /** VideoRoom fan-out ramp: subscribers per step, seconds per window. */
  vrSubscribers: number[];
  vrSeconds: number;
  /** Fan-out runs per server, alternating ours / reference; each step keeps its median. */
  vrFanoutRounds: number;
  /** Streaming ramp: viewers of one mountpoint per step, seconds per window. */
  streamingViewers: number[];
  streamingSeconds: number;
  /** Streaming ramps per server (alternating); each step keeps its median run. */
  streamingRounds: number;
  /** Seconds between a media step's setup and its measured window. */
  mediaSettle: number;
  /** Media worker processes of our gateway in the media phases. */
  mediaWorkers: number;
  /** TextRoom fan-out: receiving participants, seconds per window, unacked messages, rounds. */
  trParticipants: number;
  trSeconds: number;
  trWindow: number;
  trRounds: number;
  /** AudioBridge ramp: participants in one room per step, seconds per window. */
  abParticipants: number[];
  abSeconds: number;
  /** The AudioBridge room's sampling rate, and the client processes of its participants. */
  abRate: number;
  abHosts: number;
  /** What the AudioBridge participants are: node-datachannel (light) or wrtc peers. */
  abClients: "ndc" | "wrtc";
  /** Skip the reference. */
  noRef: boolean;
  /**
   * Measure the reference's memory on a fresh private instance (start.sh on free
   * ports) rather than on the long-running one, whose freed memory gets reused.
   */
  freshRefMem: boolean;
  help: boolean;
}

/** A bench phase. */
export type Phase =
  | "http"
  | "ws"
  | "ka"
  | "mem"
  | "echo"
  | "videoroom"
  | "browser"
  | "textroom"
  | "streaming"
  | "audiobridge";

const PHASES: readonly Phase[] = [
  "http",
  "ws",
  "ka",
  "mem",
  "echo",
  "videoroom",
  "browser",
  "textroom",
  "streaming",
  "audiobridge",
];

/** Usage text. */
export const USAGE = `deno task bench [flags]
  --duration=S        seconds per timed load phase (default 5)
  --warmup=S          unmeasured seconds before each phase (default 1)
  --rounds=N          runs of each load phase, alternating ours/reference; best kept (default 3)
  --http-clients=N    concurrent HTTP lifecycle clients (default 8)
  --ws-sockets=N      parallel WebSocket lifecycle sockets (default 8)
  --ka-sockets=N      WebSockets pipelining keepalives (default 4)
  --ka-window=N       keepalives in flight per socket (default 16)
  --sessions=N        idle sessions for the memory phase (default 10000)
  --mem-concurrency=N concurrent creates in the memory phase (default 32)
  --settle=S          settle time before sampling RSS (default 2)
  --timeout=S         per-request timeout (default 10)
  --ws-rate-limit=N   limits.ws_requests_per_second of our gateway (default 0 = off)
  --only=LIST         phases among http,ws,ka,mem,echo,videoroom,browser,textroom,streaming,
                      audiobridge
                      (default all)
  --video=WxH         video of the EchoTest callers and the VideoRoom publisher, 30 fps
                      (default 640x480)
  --echo-calls=LIST   EchoTest ramp, concurrent calls per step (default 1,2,4)
  --echo-seconds=S    measured window per EchoTest step (default 8)
  --vr-participants=N publishers joining in the VideoRoom join storm (default 200)
  --vr-concurrency=N  participants joining at once in the storm (default 0 = all of them)
  --vr-rounds=N       storms per server, alternating; the fastest kept (default 5)
  --vr-warmup=N       unmeasured storms per server first (default 1)
  --vr-large=N        participants of a second storm, where the room's size counts (default
                      2000, 0 = none)
  --vr-large-rounds=N rounds of that storm (default 3)
  --vr-notify-joining create the storm's room with notify_joining: every join is also sent
                      to everyone already in (P(P-1)/2 'joining' events); off by default, as
                      in the stock room 1234
  --vr-subscribers=LIST VideoRoom fan-out ramp, subscribers of one publisher (default
                      1,2,4,8,16)
  --vr-seconds=S      measured window per fan-out step (default 8)
  --vr-fanout-rounds=N fan-out runs per server, alternating ours/reference; each step keeps
                      the run with its median CPU per subscriber (default 3)
  --streaming-viewers=LIST Streaming ramp, viewers of one 640x480 mountpoint (default
                      1,2,4,8,16,32,64)
  --streaming-seconds=S measured window per Streaming step (default 5)
  --streaming-rounds=N Streaming ramps per server, alternating ours/reference; each step keeps
                      the run with its median CPU per viewer (default 3)
  --ab-participants=LIST AudioBridge ramp, participants in one room (default 4,8,16,32)
  --ab-seconds=S      measured window per AudioBridge step (default 10)
  --ab-rate=HZ        the AudioBridge room's sampling_rate (default 16000)
  --ab-hosts=N        client processes holding the participants (default 8)
  --ab-clients=KIND   AudioBridge participants: ndc (node-datachannel, pre-encoded tone, a
                      60 ms playout model counts late or missing mix frames; default) or wrtc
                      (libwebrtc peers, NetEq's concealed samples; 1.3 cores of clients at 32)
  --media-settle=S    pause between a media step's setup and its window (default 1.5)
  --media-workers=N   media worker processes of our gateway (default 1)
  --tr-participants=N TextRoom fan-out: data-channel participants receiving (default 100)
  --tr-seconds=S      TextRoom fan-out: measured window (default 5)
  --tr-window=N       TextRoom fan-out: messages the sender keeps unacknowledged (default 16)
  --tr-rounds=N       TextRoom fan-out: windows per server, best kept (default 2)
  --no-ref            do not measure the reference Janus
  --shared-ref-mem    measure the reference's memory on the running instance; by default a
                      fresh private one is started with start.sh on free ports (when janus is
                      installed and the script exists) and stopped afterwards
The echo and videoroom phases run inside a private network namespace with their own gateway
(with media workers) and their own private reference (start.sh on free ports).
The textroom phase (same namespace arrangement, 1 media worker) has one sender send public
messages as fast as acknowledgements allow to a room of N participants and counts the
messages delivered per second over all of them, with each server's CPU.
The streaming phase (same namespace arrangement) creates one rtp mountpoint on each server,
feeds both from one ffmpeg (a 640x480 30 fps VP8 + Opus clip in a loop) and measures server
CPU per viewer and what each viewer receives, ours against the reference.
The audiobridge phase (same namespace arrangement) fills one room on each server with
participants that send a tone and receive the mix, spread over --ab-hosts client processes,
and measures server CPU per participant and the audio each one had to conceal (gaps).
The browser phase (Chromium on the official videoroomtest.html, ours only) times how soon
video shows again after pause/start, switch and join, against a 500 ms target.
Env: REF_HTTP (port or http://127.0.0.1:PORT/janus), REF_WS (port or ws://127.0.0.1:PORT),
     REF_PID, BENCH_START_REF=1 (start ../shared/ref-janus/start.sh if the reference is down).`;

/** Parses `args`; throws an Error naming a bad flag. */
export function parseArgs(args: readonly string[]): BenchOptions {
  const options: BenchOptions = {
    duration: 5,
    warmup: 1,
    rounds: 3,
    httpClients: 8,
    wsSockets: 8,
    kaSockets: 4,
    kaWindow: 16,
    sessions: 10_000,
    memConcurrency: 32,
    settle: 2,
    timeout: 10,
    wsRateLimit: 0,
    only: new Set(PHASES),
    echoCalls: [1, 2, 4],
    echoSeconds: 8,
    vrParticipants: 200,
    vrConcurrency: 0,
    vrRounds: 5,
    vrWarmup: 1,
    vrLargeParticipants: 2000,
    vrLargeRounds: 3,
    vrNotifyJoining: false,
    videoWidth: 640,
    videoHeight: 480,
    vrSubscribers: [1, 2, 4, 8, 16],
    vrSeconds: 8,
    vrFanoutRounds: 3,
    streamingViewers: [1, 2, 4, 8, 16, 32, 64],
    streamingSeconds: 5,
    streamingRounds: 3,
    mediaSettle: 1.5,
    mediaWorkers: 1,
    trParticipants: 100,
    trSeconds: 5,
    trWindow: 16,
    trRounds: 2,
    abParticipants: [4, 8, 16, 32],
    abSeconds: 10,
    abRate: 16000,
    abHosts: 8,
    abClients: "ndc",
    noRef: false,
    freshRefMem: true,
    help: false,
  };
  const numeric: Record<string, (v: number) => void> = {
    duration: (v) => options.duration = v,
    warmup: (v) => options.warmup = v,
    rounds: (v) => options.rounds = v,
    "http-clients": (v) => options.httpClients = v,
    "ws-sockets": (v) => options.wsSockets = v,
    "ka-sockets": (v) => options.kaSockets = v,
    "ka-window": (v) => options.kaWindow = v,
    sessions: (v) => options.sessions = v,
    "mem-concurrency": (v) => options.memConcurrency = v,
    settle: (v) => options.settle = v,
    timeout: (v) => options.timeout = v,
    "ws-rate-limit": (v) => options.wsRateLimit = v,
    "echo-seconds": (v) => options.echoSeconds = v,
    "vr-participants": (v) => options.vrParticipants = v,
    "vr-concurrency": (v) => options.vrConcurrency = v,
    "vr-rounds": (v) => options.vrRounds = v,
    "vr-warmup": (v) => options.vrWarmup = v,
    "vr-large": (v) => options.vrLargeParticipants = v,
    "vr-large-rounds": (v) => options.vrLargeRounds = v,
    "vr-seconds": (v) => options.vrSeconds = v,
    "vr-fanout-rounds": (v) => options.vrFanoutRounds = v,
    "streaming-seconds": (v) => options.streamingSeconds = v,
    "streaming-rounds": (v) => options.streamingRounds = v,
    "media-settle": (v) => options.mediaSettle = v,
    "media-workers": (v) => options.mediaWorkers = v,
    "tr-participants": (v) => options.trParticipants = v,
    "tr-seconds": (v) => options.trSeconds = v,
    "tr-window": (v) => options.trWindow = v,
    "tr-rounds": (v) => options.trRounds = v,
    "ab-seconds": (v) => options.abSeconds = v,
    "ab-rate": (v) => options.abRate = v,
    "ab-hosts": (v) => options.abHosts = v,
  };
  const lists: Record<string, (v: number[]) => void> = {
    "echo-calls": (v) => options.echoCalls = v,
    "vr-subscribers": (v) => options.vrSubscribers = v,
    "streaming-viewers": (v) => options.streamingViewers = v,
    "ab-participants": (v) => options.abParticipants = v,
  };
  const integers = new Set([
    "rounds",
    "http-clients",
    "ws-sockets",
    "ka-sockets",
    "ka-window",
    "sessions",
    "mem-concurrency",
    "ws-rate-limit",
    "vr-participants",
    "vr-concurrency",
    "vr-rounds",
    "vr-warmup",
    "vr-large",
    "vr-large-rounds",
    "vr-fanout-rounds",
    "streaming-rounds",
    "media-workers",
    "tr-participants",
    "tr-window",
    "tr-rounds",
    "ab-rate",
    "ab-hosts",
  ]);
  const switches = new Set(["help", "no-ref", "shared-ref-mem", "vr-notify-joining"]);
  for (const { name, value } of readFlags(args, switches)) {
    if (name === "help") {
      options.help = true;
      continue;
    }
    if (name === "no-ref") {
      options.noRef = true;
      continue;
    }
    if (name === "shared-ref-mem") {
      options.freshRefMem = false;
      continue;
    }
    if (name === "vr-notify-joining") {
      options.vrNotifyJoining = true;
      continue;
    }
    if (name === "video") {
      const m = /^(\d+)x(\d+)$/.exec(value.trim());
      const [w, h] = [Number(m?.[1]), Number(m?.[2])];
      // I420 halves both sides: even sizes only.
      if (!m || w < 16 || h < 16 || w > 1920 || h > 1080 || w % 2 !== 0 || h % 2 !== 0) {
        throw new Error(`--video: expected WxH, even, 16x16 to 1920x1080, got '${value}'`);
      }
      options.videoWidth = w;
      options.videoHeight = h;
      continue;
    }
    if (name === "ab-clients") {
      if (value !== "ndc" && value !== "wrtc") {
        throw new Error(`--ab-clients: ndc or wrtc, got '${value}'`);
      }
      options.abClients = value;
      continue;
    }
    if (name === "only") {
      const list = value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
      const bad = list.filter((p) => !(PHASES as readonly string[]).includes(p));
      if (bad.length > 0 || list.length === 0) {
        throw new Error(`--only takes a list among ${PHASES.join(",")}, got '${value}'`);
      }
      options.only = new Set(list as Phase[]);
      continue;
    }
    const setList = lists[name];
    if (setList) {
      const list = value.split(",").map((v) => Number(v.trim()));
      if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) {
        throw new Error(`--${name}: expected a list of whole numbers 1..64, got '${value}'`);
      }
      setList(list);
      continue;
    }
    const set = numeric[name];
    if (!set) throw new Error(`Unknown flag --${name}`);
    const zeroOk = [
      "ws-rate-limit",
      "warmup",
      "media-settle",
      "vr-concurrency",
      "vr-warmup",
      "vr-large",
    ]
      .includes(name);
    set(flagNumber(name, value, zeroOk, integers.has(name)));
  }
  if (options.trParticipants > 500) {
    throw new Error(`--tr-participants: at most 500, got ${options.trParticipants}`);
  }
  if (![8000, 12000, 16000, 24000, 48000].includes(options.abRate)) {
    throw new Error(`--ab-rate: one of 8000, 12000, 16000, 24000, 48000, got ${options.abRate}`);
  }
  if (options.abHosts > 16) throw new Error(`--ab-hosts: at most 16, got ${options.abHosts}`);
  if (options.vrParticipants > 1000) {
    throw new Error(`--vr-participants: at most 1000, got ${options.vrParticipants}`);
  }
  return options;
}
