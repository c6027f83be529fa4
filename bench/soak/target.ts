/**
 * One soak of one server: a room of its own, the signalling churn and the media churn for
 * the set minutes while the RSS of the server's process tree is sampled; then the wait for
 * abandoned sessions to time out, and the admin `list_sessions` count of what is left.
 *
 * @module
 */
import { dataId, type Endpoint, expectJanus, JanusHttpClient, type Msg } from "../janus_client.ts";
import type { ClientHost, MediaServer } from "../media/server.ts";
import { print } from "../print.ts";
import type { SoakOptions } from "./args.ts";
import { churn, Tally } from "./churn.ts";
import { mediaChurn } from "./media_calls.ts";
import type { SoakGatewayInfo } from "./protocol.ts";
import { type ProcessRole, processTree, slope, treeProcesses } from "./rss.ts";
import { sleep, startCpu } from "../media/cpu.ts";

const VIDEOROOM = "janus.plugin.videoroom";
const ADMIN_SECRET = "janusoverlord";
const MIB = 1024 * 1024;

/** A server to soak. */
export interface SoakTarget {
  name: "ours" | "reference";
  endpoint: Endpoint;
  /** The admin API (`basePath` `/admin`). */
  admin: Endpoint;
  /** The root of the server's process tree (ours: the gateway; its media workers are children). */
  pid: number;
  /** The same server as the media calls see it. */
  media: MediaServer;
  /** Ours only: live counts and V8 memory, optionally after a full GC. */
  info?: (gc: boolean) => Promise<SoakGatewayInfo>;
  /** Ours only: writes a V8 heap snapshot (after a full GC) to `path`. */
  snapshot?: (path: string) => Promise<string>;
}

/** The resident memory of the processes of one role, summed, in bytes. */
export interface RoleRss {
  rss: number;
  anon: number;
  file: number;
  processes: number;
}

/** One RSS sample. */
export interface Sample {
  /** Seconds since the churn started. */
  t: number;
  main: number;
  children: number;
  total: number;
  processes: number;
  /** The tree split by role (main process, wrtc workers, rtp workers), anon vs file. */
  roles: Partial<Record<ProcessRole, RoleRss>>;
  heapUsed?: number;
  /** V8 heap committed (used + free space in its pages). */
  heapTotal?: number;
  external?: number;
  /** V8 young generation committed. */
  newSpace?: number;
  /** V8 old generation committed (old space), code space and large objects (all kinds). */
  oldSpace?: number;
  codeSpace?: number;
  largeObjects?: number;
  /** Main process's native allocator (glibc): bytes in use, and freed but kept. */
  mallocInUse?: number;
  mallocFree?: number;
  counts?: Record<string, number>;
}

/** What a soak measured. */
export interface SoakResult {
  name: string;
  pid: number;
  seconds: number;
  started: number;
  lifecycles: number;
  mediaCalls: number;
  abandoned: number;
  errors: number;
  skipped: number;
  firstErrors: string[];
  byKind: Record<string, { done: number; errors: number }>;
  /** Sessions admin `list_sessions` still listed after the timeouts passed (-1: unknown). */
  leaked: number;
  /** Ours: live counts after the timeouts passed. */
  countsAfter?: Record<string, number>;
  rssStart: number;
  rssWarm: number;
  rssEnd: number;
  rssIdle: number;
  /** Least-squares slopes after warm-up, in MiB/min: all, root process, its children. */
  slope: number | undefined;
  slopeMain: number | undefined;
  slopeChildren: number | undefined;
  /** Least-squares slope of the whole tree's RSS over the second half of the run, MiB/min. */
  slopeLateHalf: number | undefined;
  /**
   * CPU seconds the process tree used during the load (`startCpu`): the root (undefined if it
   * is gone), and its children alive at the end (a worker replaced meanwhile is not counted).
   */
  cpuMain: number | undefined;
  cpuChildren: number;
  /** Ours: slope of V8 heap used after warm-up (no forced GC), in MiB/min. */
  heapSlope?: number | undefined;
  heapAfterGcStart?: number;
  heapAfterGcIdle?: number;
  /** Where the memory is: each part at warm-up and at the end of load, and its slope. */
  breakdown: BreakdownRow[];
  samples: Sample[];
}

/** One part of the memory over the run, in bytes and MiB/min after warm-up. */
export interface BreakdownRow {
  label: string;
  warm: number | undefined;
  end: number | undefined;
  slope: number | undefined;
}

/** The parts `breakdown` follows: RSS per role (anon vs file), then main's V8 and malloc. */
export const PARTS: readonly { label: string; pick: (s: Sample) => number | undefined }[] = [
  ...(["main", "rtp", "wrtc", "other"] as const).flatMap((role) => [
    { label: `${role} RSS`, pick: (s: Sample) => s.roles[role]?.rss },
    { label: `  ${role} anon`, pick: (s: Sample) => s.roles[role]?.anon },
    { label: `  ${role} file`, pick: (s: Sample) => s.roles[role]?.file },
  ]),
  { label: "main V8 heap used", pick: (s) => s.heapUsed },
  { label: "main V8 heap committed", pick: (s) => s.heapTotal },
  { label: "  of which young generation", pick: (s) => s.newSpace },
  { label: "  of which old space", pick: (s) => s.oldSpace },
  { label: "  of which code space", pick: (s) => s.codeSpace },
  { label: "  of which large objects", pick: (s) => s.largeObjects },
  { label: "main V8 external", pick: (s) => s.external },
  { label: "main malloc in use", pick: (s) => s.mallocInUse },
  { label: "main malloc free, kept", pick: (s) => s.mallocFree },
];

/** A request on a fresh session of its own: create, attach, message (synchronous), destroy. */
async function roomRequest(endpoint: Endpoint, body: Msg, timeoutMs: number): Promise<Msg> {
  const client = new JanusHttpClient(endpoint, timeoutMs);
  try {
    const session = dataId(await client.post({ janus: "create" }));
    try {
      const handle = dataId(await client.post({ janus: "attach", plugin: VIDEOROOM }, session));
      const reply = expectJanus(
        await client.post({ janus: "message", body }, session, handle),
        "success",
      );
      const pd = reply.plugindata as Msg | undefined;
      return (pd?.data ?? {}) as Msg;
    } finally {
      await client.post({ janus: "destroy" }, session).catch(() => {});
    }
  } finally {
    client.close();
  }
}

async function listSessions(admin: Endpoint, timeoutMs: number): Promise<number> {
  const client = new JanusHttpClient(admin, timeoutMs);
  try {
    const reply = await client.post({ janus: "list_sessions", admin_secret: ADMIN_SECRET });
    expectJanus(reply, "success");
    return Array.isArray(reply.sessions) ? reply.sessions.length : -1;
  } catch {
    return -1;
  } finally {
    client.close();
  }
}

async function sample(target: SoakTarget, t: number, gc = false): Promise<Sample> {
  const procs = treeProcesses(target.pid);
  const roles: Sample["roles"] = {};
  for (const p of procs) {
    const r = roles[p.role] ??= { rss: 0, anon: 0, file: 0, processes: 0 };
    r.rss += p.rss;
    r.anon += p.anon;
    r.file += p.file;
    r.processes++;
  }
  const main = roles.main?.rss ?? 0;
  const total = procs.reduce((a, p) => a + p.rss, 0);
  const s: Sample = {
    t,
    main,
    children: total - main,
    total,
    processes: procs.length - 1,
    roles,
  };
  if (target.info) {
    const info = await target.info(gc).catch(() => undefined);
    if (info) {
      s.heapUsed = info.memory.heapUsed;
      s.heapTotal = info.memory.heapTotal;
      s.newSpace = info.spaces.new_space;
      s.oldSpace = info.spaces.old_space;
      s.codeSpace = info.spaces.code_space;
      s.largeObjects = Object.entries(info.spaces)
        .filter(([name]) => name.endsWith("large_object_space"))
        .reduce((sum, [, size]) => sum + size, 0);
      s.external = info.memory.external;
      if (info.malloc) {
        s.mallocInUse = info.malloc.inUse + info.malloc.mmapped;
        s.mallocFree = info.malloc.free;
      }
      s.counts = info.counts;
    }
  }
  return s;
}

const mib = (b: number | undefined) => b === undefined ? "-" : (b / MIB).toFixed(1);

function progress(name: string, s: Sample, tally: Tally, inFlight: number): string {
  const m = Math.floor(s.t / 60);
  const sec = Math.floor(s.t % 60).toString().padStart(2, "0");
  const heap = s.heapUsed === undefined
    ? ""
    : `, V8 heap ${mib(s.heapUsed)} used of ${mib(s.heapTotal)} (young ${mib(s.newSpace)}, ` +
      `old ${mib(s.oldSpace)}, code ${mib(s.codeSpace)}, large ${mib(s.largeObjects)}), ` +
      `external ${mib(s.external)}`;
  const live = s.counts
    ? `, live ${s.counts.sessions ?? 0} sessions/${s.counts.handles ?? 0} handles/${
      s.counts.peers ?? 0
    } peers`
    : "";
  const roles = (["rtp", "wrtc", "other"] as const).flatMap((r) => {
    const v = s.roles[r];
    return v ? [`${r} ${mib(v.rss)} anon ${mib(v.anon)}`] : [];
  });
  const malloc = s.mallocInUse === undefined
    ? ""
    : `, malloc ${mib(s.mallocInUse)} in use + ${mib(s.mallocFree)} free`;
  return `  [${name}] ${m}:${sec}  ${tally.done} done, ${tally.errors} errors, ${inFlight} in ` +
    `flight; RSS ${mib(s.total)} MiB (main ${mib(s.main)} anon ${mib(s.roles.main?.anon)}` +
    `${roles.map((r) => `, ${r}`).join("")})${heap}${malloc}${live}`;
}

/** Soaks `target` with `options`' churn; resolves the figures. */
export async function soak(
  target: SoakTarget,
  host: ClientHost,
  options: SoakOptions,
): Promise<SoakResult> {
  const timeoutMs = options.timeout * 1000;
  const durationMs = options.minutes * 60_000;
  const room = 100_000 + Math.floor(Math.random() * 800_000_000);
  const created = await roomRequest(target.endpoint, {
    request: "create",
    room,
    publishers: 1000,
    description: "soak",
  }, timeoutMs);
  if (created.videoroom !== "created") {
    throw new Error(`room create on ${target.name}: ${JSON.stringify(created).slice(0, 200)}`);
  }
  const heapStart = target.info ? (await target.info(true)).memory.heapUsed : undefined;
  const tally = new Tally();
  const mediaTally = new Tally();
  const samples: Sample[] = [];
  let inFlight = 0;
  const endCpu = await startCpu(() => Promise.resolve(processTree(target.pid)));
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  samples.push(await sample(target, 0));
  const printEvery = Math.max(
    1,
    Math.round((options.minutes >= 5 ? 60 : 30) / options.sampleSeconds),
  );
  const snapshot = async (label: string) => {
    if (!options.heapSnapshots || !target.snapshot) return;
    const path = `${options.heapSnapshots}/${target.name}-${label}.heapsnapshot`;
    print(`  [${target.name}] heap snapshot ${await target.snapshot(path).catch(String)}`);
  };
  let warmSnapshot = false;
  let sampling = true;
  const sampler = (async () => {
    for (let i = 1; sampling; i++) {
      const due = t0 + i * options.sampleSeconds * 1000;
      await sleep(Math.max(0, due - performance.now()));
      if (!sampling) break;
      const s = await sample(target, elapsed());
      samples.push(s);
      if (i % printEvery === 0) print(progress(target.name, s, tally, inFlight));
      if (!warmSnapshot && s.t >= options.warmupMinutes * 60) {
        warmSnapshot = true;
        await snapshot("warm");
      }
    }
  })();
  await Promise.all([
    churn(target.endpoint, {
      rate: options.rate,
      durationMs,
      timeoutMs,
      room,
      wsSockets: options.wsSockets,
      maxInFlight: Math.max(50, options.rate * options.timeout * 2),
      inFlight: (n) => inFlight = n,
    }, tally),
    options.mediaEvery > 0
      ? mediaChurn(target.media, host, {
        everySeconds: options.mediaEvery,
        holdSeconds: 3,
        durationMs,
        timeoutMs,
        room,
      }, mediaTally)
      : Promise.resolve(),
  ]);
  sampling = false;
  await sampler;
  const seconds = elapsed();
  const cpu = await endCpu();
  const cpuMain = cpu.pids[0] === target.pid ? cpu.perPid[0] : undefined;
  const end = await sample(target, seconds);
  samples.push(end);

  // Abandoned sessions expire after the session timeout (the watchdog runs about every second).
  print(`  [${target.name}] load stopped; waiting for abandoned sessions to time out`);
  let leaked = -1;
  const deadline = performance.now() + (options.sessionTimeout * 2 + 15) * 1000;
  await sleep((options.sessionTimeout + 3) * 1000);
  for (;;) {
    leaked = await listSessions(target.admin, timeoutMs);
    if (leaked === 0 || performance.now() > deadline) break;
    await sleep(1000);
  }
  await roomRequest(target.endpoint, { request: "destroy", room }, timeoutMs).catch(() => {});
  await sleep(2000);
  const idle = await sample(target, elapsed());
  const afterGc = target.info ? await target.info(true).catch(() => undefined) : undefined;
  await snapshot("idle");

  const warm = samples.filter((s) => s.t >= options.warmupMinutes * 60);
  const late = samples.filter((s) => s.t >= seconds / 2);
  const slopeOf = (pick: (s: Sample) => number | undefined, from = warm) => {
    const points = from.flatMap((s) => {
      const y = pick(s);
      return y === undefined ? [] : [{ x: s.t / 60, y: y / MIB }];
    });
    return slope(points);
  };
  return {
    name: target.name,
    pid: target.pid,
    seconds,
    started: tally.started + mediaTally.started,
    lifecycles: tally.done + mediaTally.done,
    mediaCalls: mediaTally.done,
    abandoned: tally.abandoned,
    errors: tally.errors + mediaTally.errors,
    skipped: tally.skipped,
    firstErrors: [...tally.firstErrors, ...mediaTally.firstErrors].slice(0, 5),
    byKind: { ...tally.byKind, ...mediaTally.byKind },
    leaked,
    ...(afterGc ? { countsAfter: afterGc.counts } : {}),
    rssStart: samples[0]?.total ?? 0,
    rssWarm: warm[0]?.total ?? 0,
    rssEnd: end.total,
    rssIdle: idle.total,
    slope: slopeOf((s) => s.total),
    slopeMain: slopeOf((s) => s.main),
    slopeChildren: slopeOf((s) => s.children),
    slopeLateHalf: slopeOf((s) => s.total, late),
    cpuMain,
    cpuChildren: cpu.cpuSeconds - (cpuMain ?? 0),
    ...(target.info
      ? {
        heapSlope: slopeOf((s) => s.heapUsed),
        ...(heapStart !== undefined ? { heapAfterGcStart: heapStart } : {}),
        ...(afterGc ? { heapAfterGcIdle: afterGc.memory.heapUsed } : {}),
      }
      : {}),
    breakdown: PARTS.flatMap(({ label, pick }) => {
      const w = warm[0] ? pick(warm[0]) : undefined;
      const e = pick(end);
      return w === undefined && e === undefined ? [] : [{
        label,
        warm: w,
        end: e,
        slope: slopeOf(pick),
      }];
    }),
    samples,
  };
}
