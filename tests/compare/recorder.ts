/**
 * One side of a side-by-side run: a Janus session over HTTP on one server (ours or the
 * reference) that records every reply and every asynchronous event in a form both servers
 * can be compared in (ids fixed by the scenario, SDPs, transactions and random private ids
 * left out; the events of a step sorted, since their order across handles is not defined).
 *
 * @module
 */
import type { JsonObject } from "../../core/protocol.ts";
import type { Wrtc } from "../../core/media/wrtc.ts";
import { ClientPeer, type ClientPeerOptions } from "../media/_client.ts";
import { answerOf, gathered, sendonlyOffer } from "../plugins/_videoroom_media.ts";
import {
  dataOf,
  jsepOf,
  type TestJsep,
  VIDEOROOM,
  VideoRoomClient,
} from "../plugins/videoroom_client.ts";

const TEXTROOM = "janus.plugin.textroom";

/** Keys whose values differ between any two runs. */
const VOLATILE = new Set(["transaction", "session_id", "sender", "opaque_id"]);

/** `value` without what differs between runs. */
export function comparable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(comparable);
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (VOLATILE.has(key)) continue;
    out[key] = key === "sdp" ? "<sdp>" : key === "private_id"
      ? "<private_id>"
      // A port chosen by the server (Streaming's `port: 0`) differs between the two, and the
      // age of a stream's last packet with the moment asked.
      : (key === "port" || key.endsWith("_port")) && typeof v === "number" && v > 0
      ? "<port>"
      : key === "age_ms"
      ? "<age>"
      // An AudioBridge participant's jitter buffer depth moves with every packet.
      : key === "queue-in"
      ? "<queue>"
      : comparable(v);
  }
  return out;
}

/** A peer sending and receiving `media`, and its gathered offer. */
async function sendrecvOffer(
  wrtc: Wrtc,
  media: ClientPeerOptions,
): Promise<{ peer: ClientPeer; offer: TestJsep }> {
  const peer = new ClientPeer(wrtc, media);
  await peer.offer();
  return { peer, offer: { type: "offer", sdp: await gathered(peer) } };
}

/** A scenario's view of one server. */
export class Recorder implements AsyncDisposable {
  /** One line per request, reply and event, in order. */
  readonly lines: string[] = [];
  readonly #client: VideoRoomClient;
  readonly #wrtc: Wrtc;
  readonly #handles = new Map<string, number>();
  readonly #names = new Map<number, string>();
  readonly #peers: ClientPeer[] = [];
  /** The last offer pushed to each handle, by name. */
  readonly #offers = new Map<string, TestJsep>();
  /** TextRoom data-channel clients, by name, and what they received since the last settle. */
  readonly #channels = new Map<string, { peer: ClientPeer; received: string[] }>();
  #dcCount = 0;
  /** The server's admin API (`.../admin`), for `handleInfo`. */
  readonly #adminUrl: string | undefined;

  private constructor(client: VideoRoomClient, wrtc: Wrtc, adminUrl?: string) {
    this.#client = client;
    this.#wrtc = wrtc;
    this.#adminUrl = adminUrl;
  }

  static async open(url: string, wrtc: Wrtc, adminUrl?: string): Promise<Recorder> {
    return new Recorder(await VideoRoomClient.open(url), wrtc, adminUrl);
  }

  /** Records the plugin's part of the admin API's `handle_info` of `name`'s handle. */
  async handleInfo(name: string): Promise<void> {
    if (!this.#adminUrl) throw new Error("no admin API to ask");
    const res = await fetch(
      `${this.#adminUrl}/${this.#client.session}/${await this.handle(name)}`,
      {
        method: "POST",
        body: JSON.stringify({
          janus: "handle_info",
          admin_secret: "janusoverlord",
          transaction: "i",
        }),
      },
    );
    const info = ((await res.json()) as JsonObject).info as JsonObject | undefined;
    this.lines.push(
      `> ${name} handle_info`,
      `  = ${JSON.stringify(comparable(info?.plugin_specific ?? null))}`,
    );
  }

  /** The handle called `name`, attached on first use (to the VideoRoom unless told). */
  async handle(name: string, plugin = VIDEOROOM): Promise<number> {
    const known = this.#handles.get(name);
    if (known !== undefined) return known;
    const reply = await this.#client.send({ janus: "attach", plugin });
    const h = (reply.data as JsonObject | undefined)?.id;
    if (typeof h !== "number") throw new Error(`attach ${plugin}: ${JSON.stringify(reply)}`);
    this.#handles.set(name, h);
    this.#names.set(h, name);
    return h;
  }

  /** Sends a plugin message from `name` and records the direct reply. */
  async ask(name: string, body: JsonObject, jsep?: TestJsep): Promise<void> {
    const reply = await this.#client.message(await this.handle(name), body, jsep);
    this.lines.push(
      `> ${name} ${JSON.stringify(body)}${jsep ? ` + ${jsep.type}` : ""}`,
      `  = ${JSON.stringify(comparable(reply))}`,
    );
  }

  /** Sends a core request (hangup, detach...) on `name`'s handle. */
  async core(name: string, janus: string): Promise<void> {
    const reply = await this.#client.send({ janus }, await this.handle(name));
    this.lines.push(`> ${name} ${janus}`, `  = ${JSON.stringify(comparable(reply))}`);
  }

  /** Detaches the handles of `names`, then records what followed. */
  async detach(...names: string[]): Promise<void> {
    for (const name of names) await this.core(name, "detach");
    await this.settle(`${names.join(", ")} detached`);
  }

  /**
   * Waits `ms`, then records the events that arrived, sorted (media/slowlink left out);
   * those of the handles named in `ordered` first, in the order they came.
   */
  async settle(step: string, ms = 1200, ordered: readonly string[] = []): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    const events = this.#client.events.splice(0).filter((e) =>
      e.janus !== "media" && e.janus !== "slowlink"
    );
    for (const e of events) {
      const name = this.#names.get(e.sender as number);
      if (name && e.jsep) this.#offers.set(name, jsepOf(e));
    }
    const lines = events.map((e) => {
      // Plugin events by their data and JSEP type; core events (hangup, webrtcup...) whole.
      const { plugindata: _p, jsep: _j, ...core } = e;
      const seen: JsonObject = e.plugindata ? { janus: e.janus, data: dataOf(e) } : core;
      if (e.jsep) seen.jsep = (e.jsep as JsonObject).type ?? null;
      return `  ${this.#names.get(e.sender as number) ?? "?"}: ${JSON.stringify(comparable(seen))}`;
    });
    const inOrder = (line: string) => ordered.some((name) => line.startsWith(`  ${name}: `));
    // Data-channel messages per client in arrival order, exactly as written (dates masked).
    const data: string[] = [];
    for (const [name, client] of [...this.#channels].sort(([a], [b]) => a.localeCompare(b))) {
      for (const text of client.received.splice(0)) {
        data.push(
          `  ${name} ~ ${JSON.stringify(text.replace(/"date": ?"[^"]*"/g, '"date":"<date>"'))}`,
        );
      }
    }
    this.lines.push(
      `## ${step}`,
      ...lines.filter(inOrder),
      ...lines.filter((l) => !inOrder(l)).sort(),
      ...data,
    );
  }

  /**
   * A TextRoom user `name`: attaches, `setup`, answers the data-channel offer with a channel
   * of its own (as janus.js does) in `ack`, and waits until that channel is open.
   */
  async textroom(name: string): Promise<void> {
    await this.handle(name, TEXTROOM);
    await this.ask(name, { request: "setup" });
    const offer = await this.#pendingJsep(name);
    await this.settle(`${name}: setup`, 300);
    if (!offer) return;
    const peer = new ClientPeer(this.#wrtc, { data: "JanusDataChannel" });
    this.#peers.push(peer);
    const received: string[] = [];
    const take = (data: string | ArrayBuffer) =>
      received.push(typeof data === "string" ? data : `<binary ${data.byteLength}>`);
    const channel = peer.channel;
    if (channel) channel.onmessage = ({ data }) => take(data);
    peer.pc.addEventListener("datachannel", ({ channel: remote }) => {
      remote.onmessage = ({ data }) => take(data);
    });
    this.#channels.set(name, { peer, received });
    await this.ask(name, { request: "ack" }, await answerOf(peer, offer));
    const deadline = Date.now() + 5000;
    while (channel?.readyState !== "open" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.settle(`${name}: ack`, 500);
  }

  /** `name` sends `body` on its data channel (with a transaction numbered per recording). */
  dc(name: string, body: JsonObject | string | Uint8Array): void {
    const channel = this.#channels.get(name)?.peer.channel;
    if (!channel || channel.readyState !== "open") throw new Error(`${name} has no open channel`);
    const message = typeof body === "string" || body instanceof Uint8Array
      ? body
      : JSON.stringify({ transaction: `t${++this.#dcCount}`, ...body });
    this.lines.push(
      `> ${name} ~ ${typeof message === "string" ? message : `<binary ${message.length}>`}`,
    );
    channel.send(message);
  }

  /**
   * Answers the last offer `name` was pushed (e.g. an `updated` one) with `body` (`start`
   * unless told); `peer` is a new one sending `media` when not given.
   */
  async answerOffer(
    name: string,
    peer?: ClientPeer,
    body: JsonObject = { request: "start" },
    media: ClientPeerOptions = {},
  ): Promise<ClientPeer> {
    const offer = this.#offers.get(name);
    if (!offer) throw new Error(`${name} was pushed no offer`);
    this.#offers.delete(name);
    const pc = peer ?? new ClientPeer(this.#wrtc, media);
    if (!peer) this.#peers.push(pc);
    await this.ask(name, body, await answerOf(pc, offer));
    await this.settle(`${name}: ${String(body.request)}`, 1500);
    return pc;
  }

  /** Applies the answer `name` was last pushed (a call accepted later) to its `peer`. */
  async applyAnswer(name: string, peer: ClientPeer): Promise<void> {
    const answer = this.#offers.get(name);
    if (answer?.type !== "answer") throw new Error(`${name} was pushed no answer`);
    this.#offers.delete(name);
    await peer.answer(answer.sdp);
    await this.settle(`${name}: answer applied`, 1500);
  }

  /** The SDP of the first pending event of `name` that carries one (not removed). */
  async #pendingJsep(name: string): Promise<TestJsep | undefined> {
    const h = await this.handle(name);
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      const e = this.#client.events.find((e) => e.sender === h && e.jsep);
      if (e) return jsepOf(e);
      await new Promise((r) => setTimeout(r, 20));
    }
    return undefined;
  }

  /**
   * `name` sends `body` with an offer of a peer sending `media` (sendonly, or sendrecv with
   * `echo`), then applies the answer.
   */
  async publish(
    name: string,
    body: JsonObject,
    media: ClientPeerOptions,
    echo = false,
  ): Promise<ClientPeer> {
    const { peer, offer } = echo
      ? await sendrecvOffer(this.#wrtc, media)
      : await sendonlyOffer(this.#wrtc, media);
    this.#peers.push(peer);
    await this.ask(name, body, offer);
    const answer = await this.#pendingJsep(name);
    if (answer) await peer.answer(answer.sdp);
    await this.settle(`${name}: ${String(body.request)} with an offer`, 2500);
    return peer;
  }

  /** `name` sends `body`; an offer that comes back is answered with `start`. */
  async subscribe(name: string, body: JsonObject, peer?: ClientPeer): Promise<ClientPeer> {
    const pc = peer ?? new ClientPeer(this.#wrtc, {});
    if (!peer) this.#peers.push(pc);
    await this.ask(name, body);
    const offer = await this.#pendingJsep(name);
    await this.settle(`${name}: ${String(body.request)}`);
    if (offer) {
      await this.ask(name, { request: "start" }, await answerOf(pc, offer));
      await this.settle(`${name}: start`, 2000);
    }
    return pc;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const p of this.#peers) p.close();
    await this.#client.close();
  }
}
