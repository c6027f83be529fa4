/**
 * TextRoom test users: a gateway with one media worker, the Janus API steps of a TextRoom
 * handle (attach, `setup`, answer in `ack`, `webrtcup`), and data-channel clients held by a
 * child process (`_textroom_peer_host.ts`, node-datachannel) whose messages come back as
 * parsed JSON, with waits by transaction or by match.
 *
 * @module
 */
import assert from "node:assert/strict";
import { RpcClient } from "../../core/media/rpc.ts";
import type { ConfigInput } from "../../core/config.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { awaitHostExit } from "../_helpers/host_process.ts";
import type { TestGateway } from "../_helpers/gateway.ts";
import { type MediaTestGateway, startMediaTestGateway } from "../_helpers/media_gateway.ts";
import type { TextRoomCounts, TextRoomPlugin } from "../../plugins/textroom/mod.ts";
import { type Signal, txn } from "./_signal.ts";

/** The plugin package id. */
export const TEXTROOM = "janus.plugin.textroom";

/** Methods of the client host. */
export interface DcHostMethods {
  /** Answers `offer` (gathering done); `ownChannel` opens a channel of ours too (janus.js). */
  answer: { params: { id: number; offer: string; ownChannel: boolean }; result: { sdp: string } };
  /** Adds the gateway's candidates held back from the offer (after `ack`). */
  candidates: { params: { id: number }; result: null };
  send: { params: { id: number; text: string }; result: null };
  sendBinary: { params: { id: number; bytes: number[] }; result: null };
  close: { params: { id: number }; result: null };
}

/** Events the client host pushes. */
export interface DcHostEvents {
  ready: { pid: number };
  open: { id: number };
  /** A message received: text, or the size of a binary one. */
  data: { id: number; text?: string; binary?: number };
}

const HOST_URL = new URL("./_textroom_peer_host.ts", import.meta.url);
const CONFIG_URL = new URL("../../deno.json", import.meta.url);
const path = (url: URL) => decodeURIComponent(url.pathname);

/** The child process holding data-channel clients. */
export class DcHost implements AsyncDisposable {
  #child: Deno.ChildProcess;
  #rpc: RpcClient<DcHostMethods, DcHostEvents>;
  #ready = Promise.withResolvers<void>();
  readonly #users = new Map<number, TextRoomUser>();
  #next = 1;

  private constructor() {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--config", path(CONFIG_URL), path(HOST_URL)],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#rpc = new RpcClient<DcHostMethods, DcHostEvents>(
      { readable: this.#child.stdout, writable: this.#child.stdin },
      (message) => {
        if (message.event === "ready") this.#ready.resolve();
        else if (message.event === "open") this.#users.get(message.params.id)?.opened();
        else if (message.event === "data") {
          this.#users.get(message.params.id)?.received(message.params);
        }
      },
    );
    this.#child.status.then((s) => this.#ready.reject(new Error(`host exited: ${s.code}`)));
  }

  static async start(): Promise<DcHost> {
    const host = new DcHost();
    try {
      await host.#ready.promise;
    } catch (e) {
      await host.stop();
      throw e;
    }
    return host;
  }

  call<K extends keyof DcHostMethods & string>(
    method: K,
    params: DcHostMethods[K]["params"],
  ): Promise<DcHostMethods[K]["result"]> {
    return this.#rpc.request(method, params);
  }

  /** A new user (no PeerConnection yet). */
  user(sig: Signal, session: number, name: string): TextRoomUser {
    const user = new TextRoomUser(this, this.#next++, sig, session, name);
    this.#users.set(user.id, user);
    return user;
  }

  /** Closes every client and ends the process (killed after 5 s). */
  async stop(): Promise<void> {
    for (const id of this.#users.keys()) await this.call("close", { id }).catch(() => {});
    await this.#rpc.close().catch(() => {});
    await awaitHostExit(this.#child, this.#rpc.done);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/** One TextRoom handle with its data-channel client. */
export class TextRoomUser {
  readonly id: number;
  readonly name: string;
  readonly sig: Signal;
  readonly session: number;
  handle = 0;
  /** Messages received and not taken yet, parsed (binary ones as `{binary: size}`). */
  readonly inbox: JsonObject[] = [];
  /** Raw texts as received, in order (for format checks). */
  readonly raw: string[] = [];
  #host: DcHost;
  #open = Promise.withResolvers<void>();
  #waiters = new Set<() => void>();

  constructor(host: DcHost, id: number, sig: Signal, session: number, name: string) {
    this.#host = host;
    this.id = id;
    this.sig = sig;
    this.session = session;
    this.name = name;
  }

  opened(): void {
    this.#open.resolve();
  }

  received(data: { text?: string; binary?: number }): void {
    if (data.text !== undefined) {
      this.raw.push(data.text);
      this.inbox.push(JSON.parse(data.text) as JsonObject);
    } else this.inbox.push({ binary: data.binary ?? 0 });
    for (const w of [...this.#waiters]) w();
  }

  /** Attaches, sets up the PeerConnection and waits for `webrtcup` and an open channel. */
  async connect(options: { ownChannel?: boolean } = {}): Promise<void> {
    const attach = await this.sig.request({
      janus: "attach",
      session_id: this.session,
      plugin: TEXTROOM,
      transaction: txn("attach"),
    });
    assert.equal(attach.janus, "success", JSON.stringify(attach));
    this.handle = (attach.data as JsonObject).id as number;
    const setup = await this.api({ request: "setup" });
    assert.deepEqual(dataOf(setup), { textroom: "event", result: "ok" });
    const offer = setup.jsep as { type: string; sdp: string };
    assert.equal(offer.type, "offer");
    const { sdp } = await this.#host.call("answer", {
      id: this.id,
      offer: offer.sdp,
      ownChannel: options.ownChannel ?? true,
    });
    const ack = await this.api({ request: "ack" }, { type: "answer", sdp });
    assert.deepEqual(dataOf(ack), { textroom: "event", result: "ok" });
    await this.#host.call("candidates", { id: this.id });
    await this.sig.take(
      `webrtcup of ${this.name}`,
      (m) => m.janus === "webrtcup" && m.sender === this.handle,
    );
    await withTimeout(this.#open.promise, 10_000, `${this.name}'s data channel to open`);
  }

  /** `restart`: the plugin offers again and this client answers on the same PeerConnection. */
  async restart(): Promise<void> {
    const restart = await this.api({ request: "restart" });
    assert.deepEqual(dataOf(restart), { textroom: "event", result: "ok" });
    const offer = restart.jsep as { type: string; sdp: string };
    assert.equal(offer.type, "offer");
    const { sdp } = await this.#host.call("answer", {
      id: this.id,
      offer: offer.sdp,
      ownChannel: false,
    });
    const ack = await this.api({ request: "ack" }, { type: "answer", sdp });
    assert.deepEqual(dataOf(ack), { textroom: "event", result: "ok" });
  }

  /** A Janus `hangup` of the handle's PeerConnection. */
  async hangup(): Promise<void> {
    const reply = await this.sig.request({
      janus: "hangup",
      session_id: this.session,
      handle_id: this.handle,
      transaction: txn("hangup"),
    });
    assert.equal(reply.janus, "success", JSON.stringify(reply));
  }

  /** An async Janus API request on the handle: asserts the ack, resolves its event. */
  async api(body: JsonObject, jsep?: { type: string; sdp: string }): Promise<JsonObject> {
    const transaction = txn("tr");
    const reply = await this.sig.request({
      janus: "message",
      session_id: this.session,
      handle_id: this.handle,
      transaction,
      body,
      ...(jsep ? { jsep } : {}),
    });
    assert.equal(reply.janus, "ack", JSON.stringify(reply));
    return (await this.sig.take(
      `event of ${JSON.stringify(body)}`,
      (m) => m.janus === "event" && m.transaction === transaction,
    )).msg;
  }

  /** A sync Janus API request on the handle: resolves its `plugindata.data`. */
  async sync(body: JsonObject): Promise<JsonObject> {
    const reply = await this.sig.request({
      janus: "message",
      session_id: this.session,
      handle_id: this.handle,
      transaction: txn("sync"),
      body,
    });
    assert.equal(reply.janus, "success", JSON.stringify(reply));
    return dataOf(reply);
  }

  /** Sends text on the data channel. */
  async sendText(text: string): Promise<void> {
    await this.#host.call("send", { id: this.id, text });
  }

  /** Sends bytes as a binary message. */
  async sendBinary(bytes: Uint8Array): Promise<void> {
    await this.#host.call("sendBinary", { id: this.id, bytes: [...bytes] });
  }

  /** Sends a data-channel request (a transaction is added) without waiting. */
  async send(body: JsonObject): Promise<string> {
    const transaction = (body.transaction as string | undefined) ?? txn("dc");
    await this.sendText(JSON.stringify({ ...body, transaction }));
    return transaction;
  }

  /** Sends a data-channel request and resolves the reply with its transaction. */
  async request(body: JsonObject): Promise<JsonObject> {
    const transaction = await this.send(body);
    return await this.next((m) => m.transaction === transaction, `reply to ${body.textroom}`);
  }

  /** Removes and resolves the first message matching `match`. */
  next(
    match: (m: JsonObject) => boolean,
    what = "a message",
    timeoutMs = 10_000,
  ): Promise<JsonObject> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const i = this.inbox.findIndex(match);
        if (i < 0) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve(this.inbox.splice(i, 1)[0] as JsonObject);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(
          new Error(
            `${this.name}: timed out waiting for ${what}; inbox: ${JSON.stringify(this.inbox)}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** Removes and resolves the next `count` messages, in arrival order. */
  async take(count: number, what = "messages"): Promise<JsonObject[]> {
    const out: JsonObject[] = [];
    for (let i = 0; i < count; i++) out.push(await this.next(() => true, `${what} #${i + 1}`));
    return out;
  }

  /** Waits `ms` and asserts nothing (else) arrived. */
  async quiet(ms = 300): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    assert.deepEqual(this.inbox, [], `${this.name} got unexpected messages`);
  }

  /** Detaches the handle. */
  async detach(): Promise<void> {
    const reply = await this.sig.request({
      janus: "detach",
      session_id: this.session,
      handle_id: this.handle,
      transaction: txn("detach"),
    });
    assert.equal(reply.janus, "success", JSON.stringify(reply));
  }
}

/** `plugindata.data` of a message. */
export function dataOf(m: JsonObject): JsonObject {
  return ((m.plugindata as JsonObject | undefined)?.data ?? {}) as JsonObject;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A test gateway with one media worker; `textroom()` reads the plugin's live counts. */
export interface TextRoomGateway extends MediaTestGateway {
  textroom(): TextRoomCounts;
}

/** Starts the media worker and a test gateway using it. */
export async function startTextRoomGateway(overrides: ConfigInput = {}): Promise<TextRoomGateway> {
  const gw = await startMediaTestGateway({
    ...overrides,
    media: { workers: 1, ...overrides.media },
  });
  return Object.assign(gw, { textroom: () => textRoomCounts(gw) });
}

/** The TextRoom plugin's live counts on a test gateway. */
export function textRoomCounts(gw: TestGateway): TextRoomCounts {
  const plugin = gw.app.gateway.plugins.get(TEXTROOM) as TextRoomPlugin | undefined;
  assert.ok(plugin?.counts, "the TextRoom plugin is loaded");
  return plugin.counts();
}

/** Creates a session on `sig` and listens for its events. */
export async function openSession(sig: Signal): Promise<number> {
  const reply = await sig.request({ janus: "create", transaction: txn("create") });
  assert.equal(reply.janus, "success", JSON.stringify(reply));
  const id = (reply.data as JsonObject).id as number;
  sig.listen(id);
  return id;
}
