/**
 * Our offer on the RTP engine (TextRoom's `setup`) answered by an eager client: it applies our
 * offer with our candidates at once (its ICE checks start before we have its answer), trickles
 * its candidates before the answer, and sends the answer (`ack`) 300 ms or 1 s later, as a
 * browser whose trickles overtake its answer does. Each run must end in `webrtcup` and an open
 * data channel, never in a 490 on the trickle or the `ack`, nor a hangup: trickles before the
 * answer are queued (core) and libjuice answers early checks (RFC 8445 7.3), learning the client
 * as peer-reflexive, or (our first offer's early packet gate, `early_packet_gate.ts`) drops
 * them until the answer is stored, and answers the retries. No run may end in "DTLS error",
 * the libdatachannel 0.24.5 race that gate closes (its `setRemoteDescription` gives the answer
 * to the ICE agent before storing it), nor in any other hangup, a 490, an ICE failure or a
 * timeout. Prints how long webrtcup took after the answer. Run inside the test network namespace:
 * `deno task test tests/media/rtp_offer_ice_race_test.ts`.
 */
import assert from "node:assert/strict";
import { RpcClient } from "../../core/media/rpc.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { openSignal, type Signal, txn } from "../plugins/_signal.ts";
import { openSession, startTextRoomGateway, TEXTROOM } from "../plugins/_textroom_peers.ts";
import type { RaceHostEvents, RaceHostMethods } from "./_offer_race_host.ts";

const RUNS = 20;
const HOST_URL = new URL("./_offer_race_host.ts", import.meta.url);
const CONFIG_URL = new URL("../../deno.json", import.meta.url);
const path = (url: URL) => decodeURIComponent(url.pathname);

/** The client process, with the channel-open and state events it pushed. */
class RaceHost {
  #child: Deno.ChildProcess;
  #rpc: RpcClient<RaceHostMethods, RaceHostEvents>;
  #ready = Promise.withResolvers<void>();
  readonly opened = new Set<number>();
  readonly states = new Map<number, string[]>();

  constructor() {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--config", path(CONFIG_URL), path(HOST_URL)],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#rpc = new RpcClient<RaceHostMethods, RaceHostEvents>(
      { readable: this.#child.stdout, writable: this.#child.stdin },
      (message) => {
        if (message.event === "ready") this.#ready.resolve();
        else if (message.event === "open") this.opened.add(message.params.id);
        else if (message.event === "state") {
          const list = this.states.get(message.params.id) ?? [];
          list.push(message.params.state);
          this.states.set(message.params.id, list);
        }
      },
    );
    this.#child.status.then((s) => this.#ready.reject(new Error(`host exited: ${s.code}`)));
  }

  get ready(): Promise<void> {
    return this.#ready.promise;
  }

  call<K extends keyof RaceHostMethods & string>(
    method: K,
    params: RaceHostMethods[K]["params"],
  ): Promise<RaceHostMethods[K]["result"]> {
    return this.#rpc.request(method, params);
  }

  async stop(): Promise<void> {
    await this.#rpc.close().catch(() => {});
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, 5000);
    try {
      await this.#child.status;
      await this.#rpc.done;
    } finally {
      clearTimeout(timer);
    }
  }
}

async function handleRequest(
  sig: Signal,
  session: number,
  handle: number,
  body: JsonObject,
): Promise<JsonObject> {
  return await sig.request({ ...body, session_id: session, handle_id: handle });
}

/** Polls `check` until true; fails with `what` (and `detail()`) after `ms`. */
async function until(what: string, check: () => boolean, ms: number, detail: () => string) {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}; ${detail()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One handle: setup, eager client answer, early trickles, `ack` after `delayMs`, up. */
async function oneRun(
  sig: Signal,
  session: number,
  host: RaceHost,
  id: number,
  options: { bind: boolean; delayMs: number },
): Promise<number> {
  const attach = await sig.request({
    janus: "attach",
    session_id: session,
    plugin: TEXTROOM,
    transaction: txn("attach"),
  });
  assert.equal(attach.janus, "success", JSON.stringify(attach));
  const handle = (attach.data as JsonObject).id as number;
  const setupTx = txn("setup");
  const setupAck = await handleRequest(sig, session, handle, {
    janus: "message",
    transaction: setupTx,
    body: { request: "setup" },
  });
  assert.equal(setupAck.janus, "ack", JSON.stringify(setupAck));
  const setup = await sig.take("setup", (m) => m.transaction === setupTx);
  const offer = setup.msg.jsep as { type: string; sdp: string };
  assert.equal(offer?.type, "offer");

  const { sdp, candidates } = await host.call("answer", { id, offer: offer.sdp, ...options });
  if (options.bind) assert.ok(candidates.length > 0, "the bound client has a host candidate");
  const trickle = await handleRequest(sig, session, handle, {
    janus: "trickle",
    transaction: txn("trickle"),
    candidates: [...candidates, { completed: true }],
  });
  assert.equal(trickle.janus, "ack", `trickle before the answer: ${JSON.stringify(trickle)}`);
  await new Promise((r) => setTimeout(r, options.delayMs));

  const ackTx = txn("ack");
  const sentAt = performance.now();
  const ack = await handleRequest(sig, session, handle, {
    janus: "message",
    transaction: ackTx,
    body: { request: "ack" },
    jsep: { type: "answer", sdp },
  });
  assert.equal(ack.janus, "ack", `ack with the answer: ${JSON.stringify(ack)}`);
  const detail = () =>
    `client states ${JSON.stringify(host.states.get(id) ?? [])}; events ${
      JSON.stringify(sig.events.filter((e) => e.msg.sender === handle).map((e) => e.msg))
    }`;
  await until(
    "the ack's event",
    () => sig.events.some((e) => e.msg.transaction === ackTx),
    5000,
    detail,
  );
  const event = sig.events.find((e) => e.msg.transaction === ackTx)!.msg;
  assert.deepEqual(
    (event.plugindata as JsonObject | undefined)?.data,
    { textroom: "event", result: "ok" },
    JSON.stringify(event),
  );
  const up = () => sig.events.some((e) => e.msg.janus === "webrtcup" && e.msg.sender === handle);
  const hangup = () =>
    sig.events.find((e) => e.msg.janus === "hangup" && e.msg.sender === handle)?.msg;
  await until(
    "webrtcup and the client's channel open",
    () => {
      if (hangup()) throw new Error(`hangup: ${detail()}`);
      return up() && host.opened.has(id);
    },
    15_000,
    detail,
  );
  const upAfter = performance.now() - sentAt;
  const detach = await sig.request({
    janus: "detach",
    session_id: session,
    handle_id: handle,
    transaction: txn("detach"),
  });
  assert.equal(detach.janus, "success", JSON.stringify(detach));
  await host.call("close", { id });
  return upAfter;
}

for (const bind of [true, false]) {
  for (const delayMs of [300, 1000]) {
    const who = bind ? "client with a host candidate" : "client known only from its checks";
    Deno.test(
      `rtp engine, our offer: ${who}, checks and trickles ${delayMs} ms before its answer, ` +
        `comes up ${RUNS} times out of ${RUNS}`,
      async () => {
        assertInsideNetns();
        const gw = await startTextRoomGateway();
        let sig: Signal | undefined;
        const host = new RaceHost();
        try {
          await host.ready;
          sig = await openSignal("http", gw);
          const session = await openSession(sig);
          const times: number[] = [];
          for (let i = 1; i <= RUNS; i++) {
            times.push(await oneRun(sig, session, host, i, { bind, delayMs }));
          }
          const sorted = [...times].sort((a, b) => a - b);
          // deno-lint-ignore no-console
          console.log(
            `webrtcup after the answer: median ${sorted[sorted.length >> 1]!.toFixed(0)} ms, ` +
              `max ${sorted[sorted.length - 1]!.toFixed(0)} ms`,
          );
          await sig.request({ janus: "destroy", session_id: session, transaction: "end" });
        } finally {
          await host.stop();
          await sig?.close();
          await gw.stop();
        }
      },
    );
  }
}
