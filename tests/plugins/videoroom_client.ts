/**
 * A small Janus HTTP client for the VideoRoom tests: one session, a long poll that runs until
 * the client closes (so no event is lost between waits), and helpers for sync requests
 * (`success` + plugindata) and async ones (`ack`, then the event with the same transaction).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";

/** The plugin id. */
export const VIDEOROOM = "janus.plugin.videoroom";

let counter = 0;

/** An SDP as sent in `jsep`. */
export interface TestJsep {
  type: "offer" | "answer";
  sdp: string;
}

/** One Janus session over HTTP. */
export class VideoRoomClient implements AsyncDisposable {
  readonly url: string;
  readonly session: number;
  /** Asynchronous messages not taken yet, in arrival order. */
  readonly events: JsonObject[] = [];
  #abort = new AbortController();
  #poll: Promise<void>;
  #closed = false;

  private constructor(url: string, session: number) {
    this.url = url;
    this.session = session;
    this.#poll = this.#loop();
  }

  /** Creates a session on `url` (`http://.../janus`). */
  static async open(url: string): Promise<VideoRoomClient> {
    const reply = await post(url, { janus: "create", transaction: nextTx() });
    const data = reply.data as JsonObject;
    return new VideoRoomClient(url, data.id as number);
  }

  async #loop(): Promise<void> {
    while (!this.#closed) {
      try {
        const res = await fetch(`${this.url}/${this.session}?maxev=10`, {
          signal: this.#abort.signal,
        });
        if (res.status !== 200) {
          await res.body?.cancel();
          return;
        }
        const value = await res.json() as JsonObject | JsonObject[];
        for (const m of Array.isArray(value) ? value : [value]) {
          if (m.janus !== "keepalive") this.events.push(m);
        }
      } catch {
        return;
      }
    }
  }

  /** Attaches a VideoRoom handle. */
  async attach(): Promise<number> {
    const reply = await this.send({ janus: "attach", plugin: VIDEOROOM });
    assert.equal(reply.janus, "success", JSON.stringify(reply));
    return (reply.data as JsonObject).id as number;
  }

  /** Posts a request on the session (or on `handle`). */
  async send(body: JsonObject, handle?: number): Promise<JsonObject> {
    const path = handle === undefined
      ? `${this.url}/${this.session}`
      : `${this.url}/${this.session}/${handle}`;
    return await post(path, { transaction: nextTx(), ...body });
  }

  /** A plugin `message`; resolves the direct reply. */
  async message(handle: number, body: JsonObject, jsep?: TestJsep): Promise<JsonObject> {
    return await this.send(
      { janus: "message", body, ...(jsep ? { jsep: { ...jsep } } : {}) },
      handle,
    );
  }

  /** A synchronous request: asserts `success` and returns `plugindata.data`. */
  async sync(handle: number, body: JsonObject): Promise<JsonObject> {
    const reply = await this.message(handle, body);
    assert.equal(reply.janus, "success", JSON.stringify(reply));
    const pd = reply.plugindata as JsonObject;
    assert.equal(pd.plugin, VIDEOROOM);
    return pd.data as JsonObject;
  }

  /** An asynchronous request: asserts a bare `ack`, then returns its event. */
  async request(handle: number, body: JsonObject, jsep?: TestJsep): Promise<JsonObject> {
    const reply = await this.message(handle, body, jsep);
    assert.deepEqual(reply, {
      janus: "ack",
      session_id: this.session,
      transaction: reply.transaction,
    });
    return await this.take((e) => e.transaction === reply.transaction);
  }

  /** Like `request`, returning only `plugindata.data`. */
  async ask(handle: number, body: JsonObject, jsep?: TestJsep): Promise<JsonObject> {
    return dataOf(await this.request(handle, body, jsep));
  }

  /** Removes and returns the first event matching `match` (waits up to `timeoutMs`). */
  async take(match: (e: JsonObject) => boolean, timeoutMs = 8000): Promise<JsonObject> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.events.findIndex(match);
      if (i >= 0) return this.events.splice(i, 1)[0] as JsonObject;
      if (Date.now() > deadline) {
        throw new Error(`no matching event; pending: ${JSON.stringify(this.events)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The next plugin event data for `handle` whose data matches `match`. */
  async takeData(
    handle: number,
    match: (d: JsonObject) => boolean,
    timeoutMs?: number,
  ): Promise<JsonObject> {
    return dataOf(
      await this.take(
        (e) => e.sender === handle && e.janus === "event" && match(dataOf(e)),
        timeoutMs,
      ),
    );
  }

  /** Plugin event data pushed to `handle` so far (not removed). */
  pending(handle: number): JsonObject[] {
    return this.events.filter((e) => e.sender === handle && e.janus === "event").map(dataOf);
  }

  /** Waits `ms`, then asserts no event for `handle` matches. */
  async none(handle: number, match: (d: JsonObject) => boolean, ms = 300): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    const hit = this.pending(handle).find(match);
    assert.equal(hit, undefined, `unexpected event ${JSON.stringify(hit)}`);
  }

  /** Destroys the session and stops polling. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.send({ janus: "destroy" }).catch(() => {});
    this.#abort.abort();
    await this.#poll;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** `plugindata.data` of an event. */
export function dataOf(e: JsonObject): JsonObject {
  return ((e.plugindata as JsonObject | undefined)?.data ?? {}) as JsonObject;
}

/** The `jsep` of an event (asserted present). */
export function jsepOf(e: JsonObject): TestJsep {
  const j = e.jsep as { type?: unknown; sdp?: unknown } | undefined;
  assert.ok(j && (j.type === "offer" || j.type === "answer") && typeof j.sdp === "string");
  return { type: j.type, sdp: j.sdp };
}

function nextTx(): string {
  return `vr-${++counter}`;
}

async function post(url: string, body: JsonObject): Promise<JsonObject> {
  const res = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  return await res.json() as JsonObject;
}
