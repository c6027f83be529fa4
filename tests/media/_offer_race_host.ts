/**
 * A process holding eager node-datachannel clients for `rtp_offer_ice_race_test.ts`: each
 * answers the gateway's offer with the offer's candidates applied at once, so its ICE checks
 * start before the gateway has the answer, and hands its own candidates back separately (to be
 * trickled before the answer), as a browser does. Served over `core/media/rpc.ts` on
 * stdin/stdout; every wrapper is held until closed and the process ends with `Deno.exit()`
 * (see `core/media/rtp/worker_main.ts`).
 *
 * @module
 */
import { type DataChannel, PeerConnection } from "node-datachannel";
import { type Handlers, RpcServer } from "../../core/media/rpc.ts";
import { serveNdcHost } from "../_helpers/ndc_host.ts";

/** Methods of the host. */
export interface RaceHostMethods {
  /**
   * Applies `offer` (its candidates included), answers and gathers. `bind`: ICE bound to
   * 127.0.0.1 (a host candidate the gateway can use); else none is usable and the gateway
   * learns the client only from its checks (peer-reflexive, as with a browser's mDNS names).
   */
  answer: {
    params: { id: number; offer: string; bind: boolean };
    result: { sdp: string; candidates: { candidate: string; sdpMid: string }[] };
  };
  close: { params: { id: number }; result: null };
}

/** Events the host pushes. */
export interface RaceHostEvents {
  ready: { pid: number };
  state: { id: number; state: string };
  open: { id: number };
}

const clients = new Map<number, { pc: PeerConnection; channels: DataChannel[] }>();
/** Wrappers held until closed: a collected one crashes Deno. */
const held = new Set<object>();
let server: RpcServer<RaceHostMethods, RaceHostEvents>;

function withoutCandidates(sdp: string): string {
  return sdp.split("\r\n").filter((l) => !/^a=(candidate:|end-of-candidates)/.test(l))
    .join("\r\n");
}

const handlers: Handlers<RaceHostMethods> = {
  async answer({ id, offer, bind }) {
    const pc = new PeerConnection(`race-client-${id}`, {
      iceServers: [],
      ...(bind ? { bindAddress: "127.0.0.1" } : {}),
    });
    held.add(pc);
    const channels: DataChannel[] = [];
    clients.set(id, { pc, channels });
    pc.onStateChange((state) => {
      if (state === "closed") held.delete(pc);
      server.notify("state", { id, state });
    });
    const mid = /^a=mid:(\S+)/m.exec(offer)?.[1] ?? "0";
    const candidates: { candidate: string; sdpMid: string }[] = [];
    pc.onLocalCandidate((candidate) => void candidates.push({ candidate, sdpMid: mid }));
    const gathered = Promise.withResolvers<void>();
    pc.onGatheringStateChange((state) => {
      if (state === "complete") gathered.resolve();
    });
    // janus.js opens its own channel; the gateway's data-only offer opens none.
    const channel = pc.createDataChannel("JanusDataChannel");
    held.add(channel);
    channels.push(channel);
    channel.onOpen(() => server.notify("open", { id }));
    channel.onClosed(() => held.delete(channel));
    pc.setRemoteDescription(offer, "offer");
    const timer = setTimeout(() => gathered.resolve(), 3000);
    await gathered.promise;
    clearTimeout(timer);
    return { sdp: withoutCandidates(pc.localDescription()?.sdp ?? ""), candidates };
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
  server = new RpcServer<RaceHostMethods, RaceHostEvents>(Deno.stdout.writable, handlers);
  await serveNdcHost(server, {
    name: "offer race host",
    held,
    closeAll: async () => {
      for (const id of [...clients.keys()]) await handlers.close({ id });
    },
  });
}

if (import.meta.main) await main();
