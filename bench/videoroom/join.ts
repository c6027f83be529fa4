/**
 * VideoRoom join storm, signalling only: P participants join a fresh room as publishers, each
 * as a client does (open a WebSocket, `create` a session, `attach` the plugin, `join`), at most
 * C participants in progress at once. Timed from the first connect to the last `joined`
 * received; then the notifications the others get (`joining` with `notify_joining`,
 * `publishers`) are counted until all expected arrived or none came for a second.
 *
 * @module
 */
import process from "node:process";
import { errorText, pool, quantile, sleep, startCpu } from "../media/cpu.ts";
import type { Log, MediaServer } from "../media/server.ts";
import { openJanusConnection } from "../janus_client.ts";
import type { WsConnection } from "../ws_connection.ts";
import type { Msg } from "../media/signal.ts";
import { createRoom, VIDEOROOM } from "./room.ts";

/** The join storm on one server. */
export interface JoinResult {
  participants: number;
  concurrency: number;
  notifyJoining: boolean;
  /** Whether only the `join` requests were timed (see `JoinOptions.preconnected`). */
  preconnected: boolean;
  /** Participants that received `joined`. */
  joined: number;
  /** First participant's connect → last `joined` received, in seconds. */
  joinSeconds: number | undefined;
  /** `joinSeconds` of every round run (this result is the fastest one). */
  roundSeconds: number[];
  /** First join sent → last notification received, in seconds. */
  deliveredSeconds: number | undefined;
  /** Per participant, connect → `joined` (socket, create, attach, join), p50 and max, in ms. */
  joinP50Ms: number | undefined;
  joinMaxMs: number | undefined;
  /** Per participant, the `join` request alone (sent → `joined`), p50, in ms. */
  joinRequestP50Ms: number | undefined;
  /** Events delivered over all sockets, by kind. */
  events: { joined: number; joining: number; publishers: number; other: number; total: number };
  /** `joining` events a complete delivery makes (P(P-1)/2 with notify_joining, else 0). */
  expectedJoining: number;
  /** Server CPU seconds from the first join to the end of delivery. */
  serverCpuSeconds: number | undefined;
  /**
   * The bench client's own CPU seconds from the first connect to the last `joined`: on a
   * small machine it shares the cores with the server, and bounds the time from below.
   */
  clientCpuSeconds: number | undefined;
  errors: number;
  firstError: string | undefined;
}

/** Settings of the storm. */
export interface JoinOptions {
  participants: number;
  concurrency: number;
  notifyJoining: boolean;
  timeoutMs: number;
  /**
   * Connect, create and attach every participant first, untimed, and time the `join`
   * requests alone (participants already on the page, then everyone clicks "join").
   */
  preconnected?: boolean;
}

/** One participant's socket: replies by transaction, plugin events counted by kind. */
class Participant {
  readonly #ws: WsConnection;
  readonly #timeoutMs: number;
  readonly #replies = new Map<string, (msg: Msg) => void>();
  readonly #closed: Promise<void>;
  #next = 0;
  #joinTransaction: string | undefined;
  #joined: PromiseWithResolvers<number> | undefined;
  session = 0;
  handle = 0;
  counts = { joined: 0, joining: 0, publishers: 0, other: 0 };
  /** `performance.now()` of the last plugin event received. */
  lastEventAt = 0;
  /** A callback for every counted event. */
  onEvent: () => void = () => {};

  private constructor(ws: WsConnection, timeoutMs: number) {
    this.#ws = ws;
    this.#timeoutMs = timeoutMs;
    this.#closed = ws.closed;
    ws.onmessage = (text) => this.#receive(text);
    ws.onclose = () => this.#joined?.reject(new Error("WebSocket closed"));
    ws.start();
  }

  static async open(url: string, timeoutMs: number): Promise<Participant> {
    return new Participant(await openJanusConnection(url, timeoutMs), timeoutMs);
  }

  request(body: Msg, transaction = `j${++this.#next}`): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#replies.delete(transaction);
        reject(new Error(`no reply to ${String(body.janus)} in ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      this.#replies.set(transaction, (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      this.#ws.send(JSON.stringify({ ...body, transaction }));
    });
  }

  async setup(): Promise<void> {
    this.session = idOf(await this.request({ janus: "create" }));
    this.handle = idOf(
      await this.request({ janus: "attach", session_id: this.session, plugin: VIDEOROOM }),
    );
  }

  /** Sends the join; resolves `performance.now()` when `joined` arrives. */
  async join(room: number, display: string): Promise<number> {
    const transaction = `join${++this.#next}`;
    this.#joinTransaction = transaction;
    this.#joined = Promise.withResolvers<number>();
    const joined = this.#joined.promise;
    joined.catch(() => {});
    const timer = setTimeout(
      () => this.#joined?.reject(new Error(`no joined in ${this.#timeoutMs} ms`)),
      this.#timeoutMs,
    );
    try {
      const reply = await this.request({
        janus: "message",
        session_id: this.session,
        handle_id: this.handle,
        body: { request: "join", ptype: "publisher", room, display },
      }, transaction);
      if (reply.janus !== "ack" && reply.janus !== "success") {
        throw new Error(`join: ${JSON.stringify(reply).slice(0, 300)}`);
      }
      return await joined;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.session !== 0) {
      await this.request({ janus: "destroy", session_id: this.session }).catch(() => {});
    }
    try {
      this.#ws.close();
    } catch {
      // Closing already.
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#closed, new Promise((r) => timer = setTimeout(r, 2000))]);
    clearTimeout(timer);
  }

  #receive(data: string): void {
    let msg: Msg;
    try {
      msg = JSON.parse(data) as Msg;
    } catch {
      return;
    }
    const t = typeof msg.transaction === "string" ? msg.transaction : undefined;
    if (msg.janus !== "event") {
      const resolve = t === undefined ? undefined : this.#replies.get(t);
      if (t !== undefined) this.#replies.delete(t);
      resolve?.(msg);
      return;
    }
    const pd = msg.plugindata as Msg | undefined;
    const d = (pd?.data ?? {}) as Msg;
    this.lastEventAt = performance.now();
    if (t !== undefined && t === this.#joinTransaction) {
      if (d.videoroom === "joined") {
        this.counts.joined++;
        this.#joined?.resolve(this.lastEventAt);
      } else {
        this.counts.other++;
        this.#joined?.reject(new Error(`join: ${JSON.stringify(d).slice(0, 300)}`));
      }
    } else if (d.videoroom === "event" && "joining" in d) {
      this.counts.joining++;
    } else if (d.videoroom === "event" && "publishers" in d) {
      this.counts.publishers++;
    } else {
      this.counts.other++;
    }
    this.onEvent();
  }
}

function idOf(reply: Msg): number {
  const data = reply.data as Msg | undefined;
  if (reply.janus !== "success" || typeof data?.id !== "number") {
    throw new Error(`expected success with data.id, got ${JSON.stringify(reply).slice(0, 200)}`);
  }
  return data.id;
}

/** Runs the storm against one server. */
export async function joinStorm(
  server: MediaServer,
  options: JoinOptions,
  log: Log,
): Promise<JoinResult> {
  const { participants: n, concurrency, notifyJoining, timeoutMs } = options;
  const errors: string[] = [];
  const room = await createRoom(server.wsUrl, {
    publishers: Math.max(300, n),
    notify_joining: notifyJoining,
  }, timeoutMs);
  const people: Participant[] = [];
  const result: JoinResult = {
    participants: n,
    concurrency,
    notifyJoining,
    preconnected: options.preconnected ?? false,
    joined: 0,
    joinSeconds: undefined,
    roundSeconds: [],
    deliveredSeconds: undefined,
    joinP50Ms: undefined,
    joinMaxMs: undefined,
    joinRequestP50Ms: undefined,
    events: { joined: 0, joining: 0, publishers: 0, other: 0, total: 0 },
    expectedJoining: notifyJoining ? n * (n - 1) / 2 : 0,
    serverCpuSeconds: undefined,
    clientCpuSeconds: undefined,
    errors: 0,
    firstError: undefined,
  };
  try {
    // Timed: each participant connects, creates a session, attaches and joins.
    const indices = Array.from({ length: n }, (_, i) => i);
    const connect = async (): Promise<Participant> => {
      const p = await Participant.open(server.wsUrl, timeoutMs);
      people.push(p);
      await p.setup();
      return p;
    };
    const ready: (Participant | undefined)[] = [];
    if (options.preconnected) {
      await pool(indices, concurrency, async (i) => {
        ready[i] = await connect().catch((e) => {
          errors.push(errorText(e));
          return undefined;
        });
      });
    }
    const cpu = await startCpu(server.pids);
    const clientCpu0 = process.cpuUsage();
    const t0 = performance.now();
    const latencies: number[] = [];
    const requests: number[] = [];
    let lastJoined = t0;
    await pool(indices, concurrency, async (i) => {
      const began = performance.now();
      try {
        if (options.preconnected && !ready[i]) return;
        const p = ready[i] ?? await connect();
        const sent = performance.now();
        const at = await p.join(room.id, `bench-${i}`);
        latencies.push(at - began);
        requests.push(at - sent);
        lastJoined = Math.max(lastJoined, at);
      } catch (e) {
        errors.push(errorText(e));
      }
    });
    const clientCpu = process.cpuUsage(clientCpu0);
    result.clientCpuSeconds = (clientCpu.user + clientCpu.system) / 1e6;
    result.joined = latencies.length;
    result.joinSeconds = (lastJoined - t0) / 1000;
    result.joinP50Ms = quantile(latencies, 0.5);
    result.joinMaxMs = latencies.length > 0 ? Math.max(...latencies) : undefined;
    result.joinRequestP50Ms = quantile(requests, 0.5);
    // Delivery: all expected notifications, or a quiet second, or the timeout.
    const joiningNow = () => people.reduce((a, p) => a + p.counts.joining, 0);
    const deadline = performance.now() + timeoutMs;
    const expected = result.expectedJoining * (result.joined / Math.max(1, n)) ** 2;
    while (performance.now() < deadline) {
      const last = people.reduce((a, p) => Math.max(a, p.lastEventAt), t0);
      if (joiningNow() >= Math.floor(expected) && performance.now() - last > 200) break;
      if (performance.now() - last > 1000) break;
      await sleep(50);
    }
    const lastEvent = people.reduce((a, p) => Math.max(a, p.lastEventAt), t0);
    result.deliveredSeconds = (lastEvent - t0) / 1000;
    result.serverCpuSeconds = (await cpu()).cpuSeconds;
    for (const p of people) {
      result.events.joined += p.counts.joined;
      result.events.joining += p.counts.joining;
      result.events.publishers += p.counts.publishers;
      result.events.other += p.counts.other;
    }
    const e = result.events;
    e.total = e.joined + e.joining + e.publishers + e.other;
  } finally {
    await room.destroy();
    await pool(people, 32, (p) => p.close());
  }
  result.errors = errors.length;
  result.firstError = errors[0];
  const f = (v: number | undefined, d = 0) => v === undefined ? "-" : v.toFixed(d);
  log(
    `  videoroom join ${server.name.padEnd(9)} ${result.joined}/${n} joined in ` +
      `${f(result.joinSeconds, 3)} s (each p50 ${f(result.joinP50Ms, 1)} ms, max ` +
      `${f(result.joinMaxMs, 1)} ms, join request p50 ${
        f(result.joinRequestP50Ms, 1)
      } ms), events ${result.events.total} (joined ` +
      `${result.events.joined}, joining ${result.events.joining}/${result.expectedJoining}, ` +
      `publishers ${result.events.publishers}, other ${result.events.other}) delivered in ` +
      `${f(result.deliveredSeconds, 3)} s, server CPU ${f(result.serverCpuSeconds, 2)} s, ` +
      `client CPU ${f(result.clientCpuSeconds, 3)} s` +
      (result.firstError ? `; ${result.errors} errors, first: ${result.firstError}` : ""),
  );
  return result;
}
