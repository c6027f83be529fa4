/**
 * The TextRoom fan-out bench's clients, in a process of their own: one WebSocket and session
 * to the server, a room of its own (`create`, no history), N receiving participants and one
 * sender, each a TextRoom handle whose data-channel offer a node-datachannel PeerConnection
 * answers. The sender sends public messages as fast as acknowledgements allow (at most
 * `window` unacknowledged); receivers count the `message` events that reach them. Serves
 * `TextRoomClientMethods` on stdin/stdout; ends through `Deno.exit` once stdin closes
 * (node-datachannel wrappers must stay referenced until closed, design.md).
 *
 * @module
 */
import { type DataChannel, PeerConnection } from "node-datachannel";
import { type Handlers, RpcServer } from "../../core/media/rpc.ts";
import { serveNdcHost } from "../../tests/_helpers/ndc_host.ts";
import { pool, quantile, sleep } from "../media/cpu.ts";
import { jsepSdp, pluginData, Signal } from "../media/signal.ts";
import type { TextRoomClientEvents, TextRoomClientMethods } from "./protocol.ts";

const TEXTROOM = "janus.plugin.textroom";
/** Participants brought in at once during setup. */
const SETUP_CONCURRENCY = 16;

/**
 * The namespace's veth address when there is one: the reference Janus ignores a client's
 * 127.0.0.1 candidates, and libjuice gathers no loopback candidate unless bound to one.
 */
const BIND = Deno.networkInterfaces().some((i) => i.address === "127.0.0.10")
  ? "127.0.0.10"
  : "127.0.0.1";

/** A public message event, in compact or indented JSON (the reference indents). */
const MESSAGE_EVENT = /"textroom"\s*:\s*"message"/;

interface Participant {
  handle: number;
  pc: PeerConnection;
  channels: DataChannel[];
  /** Public messages received. */
  received: number;
  /** Replies by transaction (join, and the sender's acknowledgements). */
  replies: Map<string, (reply: Record<string, unknown>) => void>;
}

interface Room {
  signal: Signal;
  session: number;
  admin: number;
  room: number;
  receivers: Participant[];
  sender: Participant;
}

/** Wrappers held until closed: a collected one crashes Deno. */
const held = new Set<object>();
let current: Room | undefined;
let seq = 0;

function withoutCandidates(sdp: string): string {
  return sdp.split("\r\n").filter((l) => !/^a=(candidate:|end-of-candidates)/.test(l))
    .join("\r\n");
}

function timeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function openChannel(p: Participant): DataChannel {
  const channel = p.channels.find((c) => c.isOpen());
  if (!channel) throw new Error(`handle ${p.handle} has no open data channel`);
  return channel;
}

/** Sends a data-channel request; resolves its reply (by transaction). */
function request(
  p: Participant,
  body: Record<string, unknown>,
  ms: number,
): Promise<Record<string, unknown>> {
  const transaction = `t${++seq}`;
  const reply = new Promise<Record<string, unknown>>((resolve) =>
    p.replies.set(transaction, resolve)
  );
  openChannel(p).sendMessage(JSON.stringify({ ...body, transaction }));
  return timeout(reply, ms, `reply to ${String(body.textroom)}`);
}

/** Attaches a TextRoom handle, answers its offer, waits for the channel, joins `room`. */
async function participant(
  signal: Signal,
  session: number,
  room: number,
  username: string,
  ms: number,
): Promise<Participant> {
  const handle = await signal.attach(session, TEXTROOM);
  const offer = jsepSdp((await signal.message(session, handle, { request: "setup" })).msg);
  if (!offer) throw new Error("setup: no offer");
  const pc = new PeerConnection(username, { iceServers: [], bindAddress: BIND });
  held.add(pc);
  pc.onStateChange((state) => {
    if (state === "closed") held.delete(pc);
  });
  const p: Participant = { handle, pc, channels: [], received: 0, replies: new Map() };
  const opened = Promise.withResolvers<void>();
  const addChannel = (channel: DataChannel) => {
    held.add(channel);
    p.channels.push(channel);
    channel.onOpen(() => opened.resolve());
    channel.onClosed(() => held.delete(channel));
    channel.onMessage((message) => {
      if (typeof message !== "string") return;
      if (MESSAGE_EVENT.test(message)) {
        p.received++;
        return;
      }
      const reply = JSON.parse(message) as Record<string, unknown>;
      const t = typeof reply.transaction === "string" ? reply.transaction : "";
      const waiter = p.replies.get(t);
      if (waiter) {
        p.replies.delete(t);
        waiter(reply);
      }
    });
  };
  pc.onDataChannel(addChannel);
  const gathered = Promise.withResolvers<void>();
  pc.onGatheringStateChange((state) => {
    if (state === "complete") gathered.resolve();
  });
  // The server's candidates go in after `ack`: a libjuice agent checking before the server has
  // our answer sometimes ends in "ICE failed" there.
  const mid = /^a=mid:(\S+)/m.exec(offer)?.[1] ?? "0";
  const later = offer.split("\r\n").filter((l) => l.startsWith("a=candidate:"));
  pc.setRemoteDescription(withoutCandidates(offer), "offer");
  addChannel(pc.createDataChannel("JanusDataChannel"));
  await timeout(gathered.promise, 5000, "ICE gathering").catch(() => {});
  const answer = pc.localDescription()?.sdp ?? "";
  await signal.message(session, handle, { request: "ack" }, { type: "answer", sdp: answer });
  for (const candidate of later) pc.addRemoteCandidate(candidate.slice(2), mid);
  await timeout(opened.promise, ms, `${username}'s data channel`);
  const joined = await request(p, { textroom: "join", room, username }, ms);
  if (joined.textroom !== "success") throw new Error(`join: ${JSON.stringify(joined)}`);
  return p;
}

function room(): Room {
  if (!current) throw new Error("no room: call setup first");
  return current;
}

const handlers: Handlers<TextRoomClientMethods> = {
  async setup({ wsUrl, participants, timeoutMs }) {
    if (current) throw new Error("a room is already set up");
    const started = performance.now();
    const signal = await Signal.open(wsUrl, timeoutMs);
    const session = await signal.createSession();
    const admin = await signal.attach(session, TEXTROOM);
    const id = 100_000 + Math.floor(Math.random() * 900_000);
    const created = pluginData(
      (await signal.message(session, admin, { request: "create", room: id, history: 0 })).msg,
    );
    if (created.textroom !== "created") throw new Error(`create: ${JSON.stringify(created)}`);
    const names = Array.from({ length: participants }, (_, i) => `r${i}`);
    const receivers = await pool(
      names,
      SETUP_CONCURRENCY,
      (name) => participant(signal, session, id, name, timeoutMs),
    );
    const sender = await participant(signal, session, id, "sender", timeoutMs);
    current = { signal, session, admin, room: id, receivers, sender };
    return { connectSeconds: (performance.now() - started) / 1000 };
  },

  async blast({ seconds, window, size }) {
    const r = room();
    const channel = openChannel(r.sender);
    const text = "x".repeat(size);
    const total = () => r.receivers.reduce((sum, p) => sum + p.received, 0);
    const start0 = total();
    let sent = 0;
    let acked = 0;
    let errors = 0;
    let ackedInWindow = 0;
    const rtts: number[] = [];
    const started = performance.now();
    const end = started + seconds * 1000;
    let inWindow = 0;
    let deliveredAtEnd = 0;
    const allAcked = Promise.withResolvers<void>();
    const sendOne = () => {
      const transaction = `b${++seq}`;
      const at = performance.now();
      sent++;
      r.sender.replies.set(transaction, (reply) => {
        const now = performance.now();
        if (reply.textroom === "success") {
          acked++;
          if (now < end) ackedInWindow++;
          rtts.push(now - at);
        } else errors++;
        if (now < end) sendOne();
        else if (acked + errors === sent) allAcked.resolve();
      });
      channel.sendMessage(
        JSON.stringify({ textroom: "message", transaction, room: r.room, text }),
      );
    };
    for (let i = 0; i < window; i++) sendOne();
    await sleep(seconds * 1000);
    inWindow = total() - start0;
    deliveredAtEnd = performance.now();
    const windowSeconds = (deliveredAtEnd - started) / 1000;
    await timeout(allAcked.promise, 5000, "the last acknowledgements").catch(() => {
      errors += sent - acked - errors;
    });
    const expected = acked * r.receivers.length;
    const drainEnd = performance.now() + 5000;
    while (total() - start0 < expected && performance.now() < drainEnd) await sleep(20);
    return {
      sent,
      acked,
      delivered: inWindow,
      seconds: windowSeconds,
      deliveredPerSecond: inWindow / windowSeconds,
      ackedPerSecond: ackedInWindow / windowSeconds,
      missing: Math.max(0, expected - (total() - start0)),
      ackP50Ms: quantile(rtts, 0.5) ?? NaN,
      ackP99Ms: quantile(rtts, 0.99) ?? NaN,
      errors,
    };
  },

  async teardown() {
    const r = current;
    current = undefined;
    if (!r) return null;
    await r.signal.message(r.session, r.admin, { request: "destroy", room: r.room })
      .catch(() => {});
    for (const p of [...r.receivers, r.sender]) {
      for (const c of p.channels) c.close();
      p.pc.close();
    }
    await r.signal.destroySession(r.session);
    await r.signal.close();
    return null;
  },
};

async function main(): Promise<void> {
  const server = new RpcServer<TextRoomClientMethods, TextRoomClientEvents>(
    Deno.stdout.writable,
    handlers,
  );
  await serveNdcHost(server, {
    name: "textroom bench client",
    held,
    closeAll: () => handlers.teardown(null),
  });
}

if (import.meta.main) await main();
