/**
 * Configuration: one zod schema, layered as embedded defaults < config file
 * (`--config FILE`, JSON) < environment (`JANUS_*`) < command-line flags.
 *
 * @module
 */
import { z } from "zod";
import { EventsConfigSchema } from "./events/config.ts";

const port = z.number().int().min(0).max(65535);
const seconds = z.number().min(0);
const stringList = z.array(z.string().min(1));

/** The whole configuration. Every limit is here, with its default. */
/**
 * A transport's `json` format and `events` (its requests and connections told to event
 * handlers), as in the reference's transport configs; admin `query_transport` changes them.
 */
const transportTweaks = {
  json: z.enum(["indented", "plain", "compact"]).default("indented"),
  events: z.boolean().default(true),
};

export const ConfigSchema = z.object({
  general: z.object({
    server_name: z.string().default("Janus-compatible gateway"),
    /** Seconds without activity before a session expires; 0 disables. */
    session_timeout: seconds.default(60),
    /** Seconds a session survives its WebSocket closing; 0 destroys at once. */
    reclaim_session_timeout: seconds.default(0),
    candidates_timeout: seconds.default(45),
    /** How often the watchdog looks for expired sessions, in seconds. */
    watchdog_interval: z.number().positive().default(2),
    api_secret: z.string().min(1).optional(),
    token_auth: z.boolean().default(false),
    admin_secret: z.string().min(1).optional(),
    log_level: z.number().int().min(0).max(7).default(4),
    full_trickle: z.boolean().default(false),
    no_media_timer: seconds.default(1),
    slowlink_threshold: z.number().int().min(0).default(0),
  }).prefault({}),
  http: z.object({
    enabled: z.boolean().default(true),
    bind: z.string().default("0.0.0.0"),
    port: port.default(8088),
    base_path: z.string().startsWith("/").default("/janus"),
    /** Seconds an idle long poll waits before answering `keepalive`. */
    long_poll_timeout: z.number().positive().default(30),
    allow_origin: z.string().optional(),
    /** Serve the demo pages (official janus.js) under `/demo/`. */
    demo: z.boolean().default(true),
    /**
     * The official Janus demos (Debian `janus-demos`), served under `/demos/` when this
     * directory exists (needs `demo`); "" turns them off.
     */
    demos_dir: z.string().default("/usr/share/janus/demos"),
    ...transportTweaks,
  }).prefault({}),
  ws: z.object({
    enabled: z.boolean().default(true),
    port: port.default(8188),
    ...transportTweaks,
  }).prefault({}),
  admin: z.object({
    /** Admin listeners stay on loopback unless told otherwise. */
    bind: z.string().default("127.0.0.1"),
    http_port: port.default(7088),
    ws_port: port.default(7188),
    base_path: z.string().startsWith("/").default("/admin"),
    /** Serve the admin page at `<base_path>/ui/` (it asks for the admin secret itself). */
    ui: z.boolean().default(true),
  }).prefault({}),
  media: z.object({
    workers: z.number().int().min(0).default(1),
    max_peers_per_worker: z.number().int().positive().default(500),
    /** A worker whose resident memory passes this is drained and replaced; 0 = never. */
    max_worker_rss_mb: z.number().min(0).default(1536),
    ice_enforce_list: stringList.default([]),
    ice_ignore_list: stringList.default(["vmnet"]),
    nat_1_1_mapping: z.string().optional(),
    rtp_port_range: z.object({ min: port, max: port }).optional(),
    /** Offer and accept ICE-TCP candidates (Janus `ice_tcp`); off as in the reference. */
    ice_tcp: z.boolean().default(false),
    /** Longest wait for a media worker to answer a call, in ms; one that misses it is replaced. */
    call_timeout_ms: z.number().int().positive().default(5000),
    /**
     * Keep each RTP media worker on one CPU (consecutive CPUs of those the gateway may use,
     * from a random one): a packet's handoffs between its threads then stay on one CPU
     * (`rtp/cpu_pin.ts`).
     */
    pin_rtp_workers: z.boolean().default(true),
    /**
     * The media engine of each plugin's peers, by plugin package: "wrtc" (decodes) or "rtp"
     * (forwards RTP without decoding; echo only so far). Entries override
     * `DEFAULT_MEDIA_ENGINES`; other plugins use wrtc.
     */
    engines: z.record(z.string().min(1), z.enum(["wrtc", "rtp"])).default({}),
  }).prefault({}),
  limits: z.object({
    /** Largest HTTP body or WebSocket frame accepted, in bytes. */
    max_message_bytes: z.number().int().positive().default(1024 * 1024),
    /**
     * Chunks a chunked HTTP body may come in (each costs a read of ~9 us: 1 MiB in 1-byte
     * chunks would hold the event loop for seconds); more get 413 + 454; 0 = no limit.
     */
    max_body_chunks: z.number().int().min(0).default(4096),
    /**
     * Bytes (of JSON) of events kept per session while its long-poll owner is away. Nothing
     * is dropped: past it the session ends (its next poll gets `timeout`). Measured
     * (bench/event_queue_memory.ts): an EchoTest event is 187 B of JSON and 232 B of heap, a
     * VideoRoom `publishers` event 438 B and 581 B (heap = 1.25-1.35 x JSON). 16 MiB holds
     * 10,000 events of 1.6 KB, nearly 4 x a `publishers` event, in about 22 MiB of heap.
     */
    event_queue_bytes: z.number().int().positive().default(16 * 1024 * 1024),
    max_sessions: z.number().int().positive().default(100_000),
    max_handles_per_session: z.number().int().positive().default(1000),
    /** Requests one WebSocket may send per second; more get error 490; 0 = no limit. */
    ws_requests_per_second: z.number().int().min(0).default(20_000),
    /**
     * Bytes a WebSocket may hold unsent (its client stopped reading); past it the socket is
     * closed and its sessions end as on any close; 0 = no bound.
     */
    ws_unsent_bytes: z.number().int().min(0).default(16 * 1024 * 1024),
  }).prefault({}),
  /** Event handlers (Janus's `events` and its sampleevh/wsevh handlers); see README. */
  events: EventsConfigSchema,
  metrics: z.object({
    /** Serve `GET /metrics` on the API listener too (the admin listener always has it). */
    public: z.boolean().default(false),
    /** When set, `/metrics` wants `Authorization: Bearer <token>` on every listener. */
    token: z.string().min(1).optional(),
  }).prefault({}),
  plugins: z.record(z.string(), z.unknown()).default({}),
  /**
   * The JSON file the configuration was read from (`--config` / `JANUS_CONFIG`); plugins
   * write their permanent changes back to it (VideoRoom's `permanent` rooms).
   */
  config_file: z.string().optional(),
});

/**
 * Engines of plugins that `media.engines` does not name: EchoTest and VideoRoom forward on the
 * RTP engine (every test of theirs, the official demos in Chromium included, passes on it);
 * TextRoom's data channels run there too; VideoCall relays its calls' packets there unchanged;
 * Streaming's mountpoints bind their RTP ports in it and forward to viewers; Record&Play
 * records and plays MJR files there (RTP packets as received); AudioBridge mixes there,
 * decoding and encoding with libopus in WebAssembly (about half of wrtc's CPU per participant,
 * `deno task bench --only=audiobridge`). wrtc stays available for any of them.
 */
export const DEFAULT_MEDIA_ENGINES: Readonly<Record<string, "wrtc" | "rtp">> = {
  "janus.plugin.echotest": "rtp",
  "janus.plugin.videoroom": "rtp",
  "janus.plugin.textroom": "rtp",
  "janus.plugin.audiobridge": "rtp",
  "janus.plugin.videocall": "rtp",
  "janus.plugin.streaming": "rtp",
  "janus.plugin.recordplay": "rtp",
};

/** The parsed configuration. */
export type Config = z.infer<typeof ConfigSchema>;
/** What a layer may say: any subset. */
export type ConfigInput = z.input<typeof ConfigSchema>;

/** An invalid configuration value: the message names the key and the expected form. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type Kind = "string" | "port" | "seconds" | "int" | "bool" | "list" | "range";

/** Environment variables (a contract: tools depend on these names). */
export const ENV_KEYS: Readonly<Record<string, { path: string[]; kind: Kind }>> = {
  JANUS_BIND: { path: ["http", "bind"], kind: "string" },
  JANUS_HTTP_PORT: { path: ["http", "port"], kind: "port" },
  JANUS_WS_PORT: { path: ["ws", "port"], kind: "port" },
  JANUS_ADMIN_BIND: { path: ["admin", "bind"], kind: "string" },
  JANUS_ADMIN_HTTP_PORT: { path: ["admin", "http_port"], kind: "port" },
  JANUS_ADMIN_WS_PORT: { path: ["admin", "ws_port"], kind: "port" },
  JANUS_ADMIN_SECRET: { path: ["general", "admin_secret"], kind: "string" },
  JANUS_ADMIN_UI: { path: ["admin", "ui"], kind: "bool" },
  JANUS_API_SECRET: { path: ["general", "api_secret"], kind: "string" },
  JANUS_TOKEN_AUTH: { path: ["general", "token_auth"], kind: "bool" },
  JANUS_SESSION_TIMEOUT: { path: ["general", "session_timeout"], kind: "seconds" },
  JANUS_RECLAIM_SESSION_TIMEOUT: { path: ["general", "reclaim_session_timeout"], kind: "seconds" },
  JANUS_ICE_ENFORCE_LIST: { path: ["media", "ice_enforce_list"], kind: "list" },
  JANUS_ICE_IGNORE_LIST: { path: ["media", "ice_ignore_list"], kind: "list" },
  JANUS_NAT_1_1_MAPPING: { path: ["media", "nat_1_1_mapping"], kind: "string" },
  JANUS_RTP_PORT_RANGE: { path: ["media", "rtp_port_range"], kind: "range" },
  JANUS_LOG_LEVEL: { path: ["general", "log_level"], kind: "int" },
  JANUS_MEDIA_WORKERS: { path: ["media", "workers"], kind: "int" },
  JANUS_MEDIA_PIN_RTP_WORKERS: { path: ["media", "pin_rtp_workers"], kind: "bool" },
  JANUS_METRICS_PUBLIC: { path: ["metrics", "public"], kind: "bool" },
  JANUS_METRICS_TOKEN: { path: ["metrics", "token"], kind: "string" },
};

const EXPECTED: Record<Kind, string> = {
  string: "a non-empty string",
  port: "an integer from 0 to 65535",
  seconds: "a number of seconds (0 or more)",
  int: "an integer",
  bool: "true or false",
  list: "a comma-separated list",
  range: "MIN-MAX, e.g. 20000-40000",
};

function convert(name: string, kind: Kind, raw: string): unknown {
  const fail = (): never => {
    throw new ConfigError(`Invalid ${name}: expected ${EXPECTED[kind]}, got '${raw}'`);
  };
  switch (kind) {
    case "string":
      return raw.length > 0 ? raw : fail();
    case "bool":
      if (/^(true|1|yes)$/i.test(raw)) return true;
      if (/^(false|0|no)$/i.test(raw)) return false;
      return fail();
    case "port":
    case "int":
    case "seconds": {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n)) return fail();
      if (kind !== "seconds" && !Number.isInteger(n)) return fail();
      return n;
    }
    case "list":
      return raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
    case "range": {
      const m = /^(\d+)-(\d+)$/.exec(raw.trim());
      if (!m) return fail();
      return { min: Number(m[1]), max: Number(m[2]) };
    }
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] ?? ""] = value;
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(over)) {
    const current = base[key];
    if (
      typeof value === "object" && value !== null && !Array.isArray(value) &&
      typeof current === "object" && current !== null && !Array.isArray(current)
    ) {
      merge(current as Record<string, unknown>, value as Record<string, unknown>);
    } else {
      base[key] = value;
    }
  }
}

/** Flag name for an env key: JANUS_HTTP_PORT -> --http-port. */
function flagName(envKey: string): string {
  return "--" + envKey.replace(/^JANUS_/, "").toLowerCase().replaceAll("_", "-");
}

/** Validates a merged layer stack, naming the first bad key. */
export function parseConfig(input: unknown): Config {
  const result = ConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = issue?.path.join(".") ?? "?";
  throw new ConfigError(`Invalid configuration key '${key}': ${issue?.message ?? "invalid"}`);
}

/** Where the layers come from; each defaults to the process's own. */
export interface ConfigSources {
  args?: string[];
  env?: Record<string, string | undefined>;
  readFile?: (path: string) => string;
  /** Extra layer between the defaults and the file (tests). */
  base?: ConfigInput;
}

/** Loads the layered configuration. Throws `ConfigError` naming the bad key. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const args = sources.args ?? Deno.args;
  const env = sources.env ?? Deno.env.toObject();
  const readFile = sources.readFile ?? ((p: string) => Deno.readTextFileSync(p));
  const layered: Record<string, unknown> = structuredClone(sources.base ?? {}) as Record<
    string,
    unknown
  >;
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (!arg.startsWith("--")) throw new ConfigError(`Unexpected argument '${arg}'`);
    const eq = arg.indexOf("=");
    if (eq > 0) flags.set(arg.slice(0, eq), arg.slice(eq + 1));
    else {
      const value = args[i + 1];
      if (value === undefined) throw new ConfigError(`Flag ${arg} needs a value`);
      flags.set(arg, value);
      i++;
    }
  }
  const file = flags.get("--config") ?? env.JANUS_CONFIG;
  if (file) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFile(file));
    } catch (e) {
      throw new ConfigError(`Cannot read config file '${file}': ${(e as Error).message}`);
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError(`Config file '${file}' must hold a JSON object`);
    }
    merge(layered, parsed as Record<string, unknown>);
    layered.config_file = file;
  }
  flags.delete("--config");
  for (const [name, spec] of Object.entries(ENV_KEYS)) {
    const raw = env[name];
    if (raw !== undefined) setPath(layered, spec.path, convert(name, spec.kind, raw));
  }
  const known = new Map(Object.entries(ENV_KEYS).map(([k, v]) => [flagName(k), v]));
  for (const [flag, raw] of flags) {
    const spec = known.get(flag);
    if (!spec) {
      throw new ConfigError(
        `Unknown flag ${flag}: expected --config or one of ${[...known.keys()].join(", ")}`,
      );
    }
    setPath(layered, spec.path, convert(flag, spec.kind, raw));
  }
  return parseConfig(layered);
}
