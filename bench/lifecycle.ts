/**
 * The timed loads: HTTP and WebSocket session lifecycles against EchoTest, and
 * pipelined WebSocket keepalives. Every loop stops by itself at its deadline;
 * every request has a timeout.
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
} from "./janus_client.ts";

const ECHOTEST = "janus.plugin.echotest";

/** The outcome of one timed load. */
export interface LoadResult {
  /** Operations completed before the deadline. */
  ops: number;
  seconds: number;
  /** ops / seconds. */
  rate: number;
  errors: number;
  firstError: string | undefined;
  /** Latency percentiles of one operation, in ms (lifecycles only). */
  p50Ms: number | undefined;
  p99Ms: number | undefined;
}

/** Common knobs of a load. */
export interface LoadOptions {
  durationMs: number;
  timeoutMs: number;
}

class Tally {
  #ops = 0;
  #errors = 0;
  #firstError: string | undefined;
  readonly #latencies: number[] = [];
  readonly #deadline: number;
  readonly #keepLatencies: boolean;

  constructor(deadline: number, keepLatencies: boolean) {
    this.#deadline = deadline;
    this.#keepLatencies = keepLatencies;
  }

  get running(): boolean {
    return performance.now() < this.#deadline;
  }

  done(startedAt: number): void {
    const now = performance.now();
    if (now > this.#deadline) return;
    this.#ops++;
    if (this.#keepLatencies) this.#latencies.push(now - startedAt);
  }

  async failed(e: unknown): Promise<void> {
    this.#errors++;
    this.#firstError ??= e instanceof Error ? e.message : String(e);
    // Back off a little so that a dead server does not make the loop spin.
    await new Promise((r) => setTimeout(r, 20));
  }

  result(seconds: number): LoadResult {
    const sorted = this.#latencies.sort((a, b) => a - b);
    const pick = (q: number) =>
      sorted.length === 0
        ? undefined
        : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return {
      ops: this.#ops,
      seconds,
      rate: this.#ops / seconds,
      errors: this.#errors,
      firstError: this.#firstError,
      p50Ms: pick(0.5),
      p99Ms: pick(0.99),
    };
  }
}

function isEchoEvent(msg: Msg, handleId: number): boolean {
  const plugindata = msg.plugindata;
  return msg.janus === "event" && msg.sender === handleId && typeof plugindata === "object" &&
    plugindata !== null && (plugindata as Msg).plugin === ECHOTEST;
}

async function httpLifecycle(client: JanusHttpClient): Promise<void> {
  const session = dataId(await client.post({ janus: "create" }));
  let destroyed = false;
  try {
    const handle = dataId(await client.post({ janus: "attach", plugin: ECHOTEST }, session));
    expectJanus(
      await client.post({ janus: "message", body: { audio: true } }, session, handle),
      "ack",
    );
    for (let polls = 1;; polls++) {
      const event = await client.poll(session);
      if (isEchoEvent(event, handle)) break;
      if (polls >= 3) throw new Error(`no echotest event; got ${JSON.stringify(event)}`);
    }
    expectJanus(await client.post({ janus: "detach" }, session, handle), "success");
    expectJanus(await client.post({ janus: "destroy" }, session), "success");
    destroyed = true;
  } finally {
    if (!destroyed) await client.post({ janus: "destroy" }, session).catch(() => {});
  }
}

/**
 * `clients` concurrent HTTP clients, each looping create → attach echotest →
 * message (ack) → long poll until the event → detach → destroy.
 */
export async function httpLifecycles(
  endpoint: Endpoint,
  options: LoadOptions & { clients: number },
): Promise<LoadResult> {
  const start = performance.now();
  const tally = new Tally(start + options.durationMs, true);
  await Promise.all(Array.from({ length: options.clients }, async () => {
    const client = new JanusHttpClient(endpoint, options.timeoutMs);
    try {
      while (tally.running) {
        const t0 = performance.now();
        try {
          await httpLifecycle(client);
          tally.done(t0);
        } catch (e) {
          await tally.failed(e);
        }
      }
    } finally {
      client.close();
    }
  }));
  return tally.result(options.durationMs / 1000);
}

async function wsLifecycle(ws: JanusWsClient): Promise<void> {
  const session = dataId(await ws.request({ janus: "create" }));
  const handle = dataId(
    await ws.request({ janus: "attach", plugin: ECHOTEST, session_id: session }),
  );
  const sent = ws.send(
    { janus: "message", body: { audio: true }, session_id: session, handle_id: handle },
    true,
  );
  const [ack, event] = await Promise.all([sent.reply, sent.event]);
  expectJanus(ack, "ack");
  if (!event || !isEchoEvent(event, handle)) {
    throw new Error(`no echotest event; got ${JSON.stringify(event)}`);
  }
  expectJanus(
    await ws.request({ janus: "detach", session_id: session, handle_id: handle }),
    "success",
  );
  expectJanus(await ws.request({ janus: "destroy", session_id: session }), "success");
}

/** `sockets` WebSockets in parallel, each looping the same lifecycle; events arrive pushed. */
export async function wsLifecycles(
  endpoint: Endpoint,
  options: LoadOptions & { sockets: number },
): Promise<LoadResult> {
  const start = performance.now();
  const tally = new Tally(start + options.durationMs, true);
  await Promise.all(Array.from({ length: options.sockets }, async () => {
    let ws: JanusWsClient | undefined;
    try {
      while (tally.running) {
        const t0 = performance.now();
        try {
          ws ??= await JanusWsClient.open(endpoint, options.timeoutMs);
          await wsLifecycle(ws);
          tally.done(t0);
        } catch (e) {
          // A failed socket loses its sessions with it; start over on a new one.
          ws?.close();
          ws = undefined;
          await tally.failed(e);
        }
      }
    } finally {
      ws?.close();
    }
  }));
  return tally.result(options.durationMs / 1000);
}

/**
 * `sockets` WebSockets, each with one session and `window` keepalives in flight
 * (a new one is sent as each ack arrives).
 */
export async function wsKeepalives(
  endpoint: Endpoint,
  options: LoadOptions & { sockets: number; window: number },
): Promise<LoadResult> {
  const start = performance.now();
  const tally = new Tally(start + options.durationMs, false);
  await Promise.all(Array.from({ length: options.sockets }, async () => {
    while (tally.running) {
      let ws: JanusWsClient | undefined;
      try {
        ws = await JanusWsClient.open(endpoint, options.timeoutMs);
        const session = dataId(await ws.request({ janus: "create" }));
        const socket = ws;
        await Promise.all(Array.from({ length: options.window }, async () => {
          while (tally.running) {
            const t0 = performance.now();
            expectJanus(await socket.request({ janus: "keepalive", session_id: session }), "ack");
            tally.done(t0);
          }
        }));
        expectJanus(await ws.request({ janus: "destroy", session_id: session }), "success");
      } catch (e) {
        await tally.failed(e);
      } finally {
        ws?.close();
      }
    }
  }));
  return tally.result(options.durationMs / 1000);
}
