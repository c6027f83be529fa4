/**
 * The soak's signalling churn: lifecycles started at a steady rate (open loop), mixed over
 * HTTP with long polls and WebSocket: EchoTest attach + message, VideoRoom publisher join +
 * leave, detach, destroy; one in ten is abandoned (never destroyed, left to time out).
 *
 * @module
 */
import {
  dataId,
  type Endpoint,
  expectJanus,
  JanusHttpClient,
  JanusWsClient,
  type Msg,
} from "../janus_client.ts";
import { sleep } from "../media/cpu.ts";

const ECHOTEST = "janus.plugin.echotest";
const VIDEOROOM = "janus.plugin.videoroom";

/** One kind of lifecycle. */
export type Kind =
  | "http-echo"
  | "ws-echo"
  | "ws-fresh-echo"
  | "http-room"
  | "ws-room"
  | "http-abandon"
  | "ws-abandon";

/** Nine kept lifecycles, run twice per cycle of `MIX`. */
const KEPT: readonly Kind[] = [
  "http-echo",
  "ws-room",
  "ws-echo",
  "http-room",
  "ws-fresh-echo",
  "http-echo",
  "ws-room",
  "ws-echo",
  "http-room",
];

/** Twenty slots, cycled: 2 of 20 (10%) abandoned. */
const MIX: readonly Kind[] = [...KEPT, "http-abandon", ...KEPT, "ws-abandon"];

/** Counts of a churn. */
export class Tally {
  started = 0;
  done = 0;
  errors = 0;
  /** Lifecycles not started because too many were in flight (also counted in errors). */
  skipped = 0;
  abandoned = 0;
  readonly firstErrors: string[] = [];
  readonly byKind: Record<string, { done: number; errors: number }> = {};

  ok(kind: string): void {
    this.done++;
    (this.byKind[kind] ??= { done: 0, errors: 0 }).done++;
  }

  failed(kind: string, e: unknown): void {
    this.errors++;
    (this.byKind[kind] ??= { done: 0, errors: 0 }).errors++;
    if (this.firstErrors.length < 5) {
      this.firstErrors.push(`${kind}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

/** Settings of a churn. */
export interface ChurnOptions {
  /** Lifecycles started per second. */
  rate: number;
  durationMs: number;
  timeoutMs: number;
  /** The VideoRoom room publishers join. */
  room: number;
  /** Long-lived WebSockets the WS lifecycles share. */
  wsSockets: number;
  /** Lifecycles in flight at most; a start beyond is skipped (and counts as an error). */
  maxInFlight: number;
  /** Called with the in-flight count at each start, for progress lines. */
  inFlight?: (n: number) => void;
}

function pluginData(msg: Msg): Msg {
  const pd = msg.plugindata;
  const data = typeof pd === "object" && pd !== null ? (pd as Msg).data : undefined;
  return typeof data === "object" && data !== null ? data as Msg : {};
}

/** Long-polls `session` until an event of `handle` matches (other events are skipped). */
async function pollFor(
  client: JanusHttpClient,
  session: number,
  handle: number,
  match: (data: Msg) => boolean,
  what: string,
): Promise<Msg> {
  for (let polls = 1; polls <= 10; polls++) {
    const event = await client.poll(session);
    if (event.janus === "event" && event.sender === handle && match(pluginData(event))) {
      return event;
    }
  }
  throw new Error(`no ${what} event in 10 polls`);
}

const isEcho = (data: Msg) => data.echotest === "event" || data.result === "ok";
const isJoined = (data: Msg) => data.videoroom === "joined";
const isLeft = (data: Msg) => data.leaving === "ok";

function checkData(event: Msg, match: (data: Msg) => boolean, what: string): void {
  if (!match(pluginData(event))) {
    throw new Error(`expected ${what}, got ${JSON.stringify(event).slice(0, 200)}`);
  }
}

/** One HTTP lifecycle on `client`; `abandon` stops before detach/destroy. */
async function httpLifecycle(
  client: JanusHttpClient,
  kind: "echo" | "room",
  room: number,
  abandon: boolean,
): Promise<void> {
  const session = dataId(await client.post({ janus: "create" }));
  let finished = abandon;
  try {
    const plugin = kind === "echo" ? ECHOTEST : VIDEOROOM;
    const handle = dataId(await client.post({ janus: "attach", plugin }, session));
    if (kind === "echo") {
      expectJanus(
        await client.post({ janus: "message", body: { audio: true } }, session, handle),
        "ack",
      );
      await pollFor(client, session, handle, isEcho, "echotest");
    } else {
      const join = { request: "join", ptype: "publisher", room, display: "soak" };
      expectJanus(await client.post({ janus: "message", body: join }, session, handle), "ack");
      await pollFor(client, session, handle, isJoined, "joined");
      if (abandon) return;
      expectJanus(
        await client.post({ janus: "message", body: { request: "leave" } }, session, handle),
        "ack",
      );
      await pollFor(client, session, handle, isLeft, "leaving");
    }
    if (abandon) return;
    expectJanus(await client.post({ janus: "detach" }, session, handle), "success");
    expectJanus(await client.post({ janus: "destroy" }, session), "success");
    finished = true;
  } finally {
    if (!finished) await client.post({ janus: "destroy" }, session).catch(() => {});
  }
}

async function wsMessage(
  ws: JanusWsClient,
  session: number,
  handle: number,
  body: Msg,
  match: (data: Msg) => boolean,
  what: string,
): Promise<void> {
  const sent = ws.send({ janus: "message", body, session_id: session, handle_id: handle }, true);
  const [ack, event] = await Promise.all([sent.reply, sent.event]);
  expectJanus(ack, "ack");
  if (!event) throw new Error(`no ${what} event`);
  checkData(event, match, what);
}

/** One WebSocket lifecycle on `ws`; `abandon` stops before detach/destroy. */
async function wsLifecycle(
  ws: JanusWsClient,
  kind: "echo" | "room",
  room: number,
  abandon: boolean,
): Promise<void> {
  const session = dataId(await ws.request({ janus: "create" }));
  let finished = abandon;
  try {
    const plugin = kind === "echo" ? ECHOTEST : VIDEOROOM;
    const handle = dataId(await ws.request({ janus: "attach", plugin, session_id: session }));
    if (kind === "echo") {
      await wsMessage(ws, session, handle, { audio: true }, isEcho, "echotest");
    } else {
      const join = { request: "join", ptype: "publisher", room, display: "soak" };
      await wsMessage(ws, session, handle, join, isJoined, "joined");
      await wsMessage(ws, session, handle, { request: "leave" }, isLeft, "leaving");
    }
    if (abandon) return;
    expectJanus(
      await ws.request({ janus: "detach", session_id: session, handle_id: handle }),
      "success",
    );
    expectJanus(await ws.request({ janus: "destroy", session_id: session }), "success");
    finished = true;
  } finally {
    if (!finished) await ws.request({ janus: "destroy", session_id: session }).catch(() => {});
  }
}

/**
 * Runs the churn against `endpoint` for `durationMs`, then waits for the lifecycles in
 * flight; every client it opened is closed on return (abandoned sessions stay on the server).
 */
export async function churn(
  endpoint: Endpoint,
  options: ChurnOptions,
  tally: Tally,
): Promise<void> {
  const { timeoutMs, room } = options;
  const idleHttp: JanusHttpClient[] = [];
  const allHttp = new Set<JanusHttpClient>();
  const sockets: (Promise<JanusWsClient> | undefined)[] = Array.from(
    { length: Math.max(1, options.wsSockets) },
    () => undefined,
  );
  let nextSocket = 0;
  const socket = (): { get: Promise<JanusWsClient>; drop: () => void } => {
    const at = nextSocket++ % sockets.length;
    const get = sockets[at] ??= JanusWsClient.open(endpoint, timeoutMs);
    return {
      get,
      drop: () => {
        if (sockets[at] !== get) return;
        sockets[at] = undefined;
        void get.then((ws) => ws.close(), () => {});
      },
    };
  };

  const http = async (kind: "echo" | "room", abandon: boolean) => {
    const client = idleHttp.pop() ?? new JanusHttpClient(endpoint, timeoutMs);
    allHttp.add(client);
    try {
      await httpLifecycle(client, kind, room, abandon);
      idleHttp.push(client);
    } catch (e) {
      client.close();
      allHttp.delete(client);
      throw e;
    }
  };
  const ws = async (kind: "echo" | "room", abandon: boolean) => {
    const { get, drop } = socket();
    try {
      await wsLifecycle(await get, kind, room, abandon);
    } catch (e) {
      // A failed socket may be broken: the next lifecycle opens a new one.
      drop();
      throw e;
    }
  };
  const fresh = async () => {
    const client = await JanusWsClient.open(endpoint, timeoutMs);
    try {
      await wsLifecycle(client, "echo", room, false);
    } finally {
      client.close();
    }
  };
  const run = (kind: Kind): Promise<void> => {
    switch (kind) {
      case "http-echo":
        return http("echo", false);
      case "http-room":
        return http("room", false);
      case "http-abandon":
        return http("room", true);
      case "ws-echo":
        return ws("echo", false);
      case "ws-room":
        return ws("room", false);
      case "ws-abandon":
        return ws("echo", true);
      case "ws-fresh-echo":
        return fresh();
    }
  };

  const inFlight = new Set<Promise<void>>();
  const interval = 1000 / options.rate;
  const start = performance.now();
  try {
    for (let i = 0;; i++) {
      const due = start + i * interval;
      if (due - start >= options.durationMs) break;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const kind = MIX[i % MIX.length] ?? "http-echo";
      tally.started++;
      options.inFlight?.(inFlight.size);
      if (inFlight.size >= options.maxInFlight) {
        tally.skipped++;
        tally.failed(kind, new Error(`${inFlight.size} lifecycles in flight: start skipped`));
        continue;
      }
      const p: Promise<void> = run(kind).then(
        () => {
          tally.ok(kind);
          if (kind.endsWith("abandon")) tally.abandoned++;
        },
        (e) => tally.failed(kind, e),
      ).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  } finally {
    for (const client of allHttp) client.close();
    for (const s of sockets) void s?.then((w) => w.close(), () => {});
  }
}
