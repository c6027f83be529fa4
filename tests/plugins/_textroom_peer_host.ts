/**
 * A process that holds TextRoom test clients: node-datachannel PeerConnections that answer the
 * plugin's data-channel offer and open their own `JanusDataChannel` (as janus.js does), served
 * over `core/media/rpc.ts` on stdin/stdout (`_textroom_peers.ts` is the calling side).
 *
 * Why a process: node-datachannel wrappers must stay referenced until their onClosed and its
 * `cleanup()` crashes (see `core/media/rtp/worker_main.ts`); here every wrapper is held until
 * closed and the process ends with `Deno.exit()` once stdin closes.
 *
 * @module
 */
import { type DataChannel, PeerConnection } from "node-datachannel";
import { type Handlers, RpcServer } from "../../core/media/rpc.ts";
import { serveNdcHost } from "../_helpers/ndc_host.ts";
import type { DcHostEvents, DcHostMethods } from "./_textroom_peers.ts";

/** One client: its PeerConnection and the channels it can send on (its own first). */
interface Client {
  pc: PeerConnection;
  channels: DataChannel[];
  /** The gateway's candidates, held back until our answer is applied there. */
  held: { candidate: string; mid: string }[];
}

const clients = new Map<number, Client>();
/** Wrappers held until closed: a collected one crashes Deno. */
const held = new Set<object>();
let server: RpcServer<DcHostMethods, DcHostEvents>;

function client(id: number): Client {
  const c = clients.get(id);
  if (!c) throw new Error(`Unknown client ${id}`);
  return c;
}

function openChannel(id: number): DataChannel {
  const channel = client(id).channels.find((c) => c.isOpen());
  if (!channel) throw new Error(`Client ${id} has no open data channel`);
  return channel;
}

function addChannel(id: number, channel: DataChannel): void {
  held.add(channel);
  client(id).channels.push(channel);
  channel.onOpen(() => server.notify("open", { id }));
  channel.onMessage((message) => {
    if (typeof message === "string") server.notify("data", { id, text: message });
    else server.notify("data", { id, binary: message.byteLength });
  });
  channel.onClosed(() => held.delete(channel));
}

function withoutCandidates(sdp: string): string {
  return sdp.split("\r\n").filter((l) => !/^a=(candidate:|end-of-candidates)/.test(l))
    .join("\r\n");
}

const handlers: Handlers<DcHostMethods> = {
  async answer({ id, offer, ownChannel }) {
    const known = clients.get(id);
    if (known) {
      // A renegotiation (`restart`): the same PeerConnection answers again.
      known.pc.setRemoteDescription(offer, "offer");
      return { sdp: known.pc.localDescription()?.sdp ?? "" };
    }
    // libjuice gathers no loopback candidate unless bound to one (the test namespace has only
    // loopback-range addresses); without one, ICE rests on peer-reflexive checks that can come
    // before the gateway has our answer, and sometimes fails.
    const pc = new PeerConnection(`textroom-client-${id}`, {
      iceServers: [],
      bindAddress: "127.0.0.1",
    });
    held.add(pc);
    pc.onStateChange((state) => {
      if (state === "closed") held.delete(pc);
    });
    // The offer's candidates are added once the gateway has our answer (`candidates`): a
    // libjuice agent checking before that sometimes ends in "ICE failed" at the gateway.
    const mid = /^a=mid:(\S+)/m.exec(offer)?.[1] ?? "0";
    const later = offer.split("\r\n").filter((l) => l.startsWith("a=candidate:"))
      .map((l) => ({ candidate: l.slice(2), mid }));
    clients.set(id, { pc, channels: [], held: later });
    pc.onDataChannel((channel) => addChannel(id, channel));
    const gathered = Promise.withResolvers<void>();
    pc.onGatheringStateChange((state) => {
      if (state === "complete") gathered.resolve();
    });
    pc.setRemoteDescription(withoutCandidates(offer), "offer");
    if (ownChannel) addChannel(id, pc.createDataChannel("JanusDataChannel"));
    const timer = setTimeout(() => gathered.resolve(), 3000);
    await gathered.promise;
    clearTimeout(timer);
    return { sdp: pc.localDescription()?.sdp ?? "" };
  },
  candidates({ id }) {
    const c = client(id);
    for (const { candidate, mid } of c.held.splice(0)) c.pc.addRemoteCandidate(candidate, mid);
    return Promise.resolve(null);
  },
  send({ id, text }) {
    openChannel(id).sendMessage(text);
    return Promise.resolve(null);
  },
  sendBinary({ id, bytes }) {
    openChannel(id).sendMessageBinary(new Uint8Array(bytes));
    return Promise.resolve(null);
  },
  close({ id }) {
    const c = clients.get(id);
    clients.delete(id);
    if (c) {
      for (const channel of c.channels) channel.close();
      c.pc.close();
    }
    return Promise.resolve(null);
  },
};

async function main(): Promise<void> {
  server = new RpcServer<DcHostMethods, DcHostEvents>(Deno.stdout.writable, handlers);
  await serveNdcHost(server, {
    name: "textroom peer host",
    held,
    closeAll: async () => {
      for (const id of [...clients.keys()]) await handlers.close({ id });
    },
  });
}

if (import.meta.main) await main();
