/**
 * Our offers answered by Chromium on a loaded machine: the libdatachannel 0.24.5 race that
 * `early_packet_gate.ts` closes. Its `PeerConnection::setRemoteDescription` gives the answer to
 * the ICE agent before storing it; a browser has checked us since it got our offer, so ICE
 * connects at once and its DTLS handshake can reach the fingerprint check while the caller is
 * still inside that call (preempted): "DTLS error", the peer gone.
 *
 * {@link RUNS} TextRoom `setup`s (our offer, a data channel) answered by one Chromium page,
 * {@link PARALLEL} at a time, while {@link BUSY_LOOPS} shell loops keep every CPU busy. Each
 * must end in `webrtcup`. Measured on 2 CPUs without the gate: 21 of 1000 ended in the race
 * (and 1 of 300 with idle CPUs); with it, none. Prints how long webrtcup took after the answer.
 * Run inside the test network namespace:
 * `deno task test tests/media/rtp_offer_dtls_race_browser_test.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { launchChromium } from "../_helpers/browser.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { startTextRoomGateway } from "../plugins/_textroom_peers.ts";

const RUNS = 1000;
const PARALLEL = 6;
/** Setups per page. */
const PER_PAGE = 200;
/** One busy loop per CPU. */
const BUSY_LOOPS = navigator.hardwareConcurrency;

/** How one setup ended, as the page saw it: "up <ms after the answer>", "hangup <reason>", "timeout". */
type Outcome = string;

/** What the page code uses of the browser's RTCPeerConnection (no DOM types here). */
interface PageSdp {
  type: string;
  sdp: string;
}
interface PagePc {
  onicecandidate: ((event: { candidate: unknown }) => void) | null;
  localDescription: PageSdp | null;
  setRemoteDescription(description: PageSdp): Promise<void>;
  createAnswer(): Promise<PageSdp>;
  setLocalDescription(description: PageSdp): Promise<void>;
  close(): void;
}

/** In the page: `runs` TextRoom setups over the Janus HTTP API at `base`, `parallel` at once. */
async function setups(
  { base, runs, parallel }: { base: string; runs: number; parallel: number },
): Promise<Outcome[]> {
  type Reply = { janus?: string; data?: { id: number }; jsep?: PageSdp };
  type Event = Reply & { reason?: string };
  const post = async (path: string, body: unknown): Promise<Reply> =>
    await (await fetch(base + path, { method: "POST", body: JSON.stringify(body) })).json();
  const once = async (): Promise<Outcome> => {
    const session = (await post("", { janus: "create", transaction: "c" })).data!.id;
    const attached = await post(`/${session}`, {
      janus: "attach",
      plugin: "janus.plugin.textroom",
      transaction: "a",
    });
    const handle = `/${session}/${attached.data!.id}`;
    const poll = async (): Promise<Event[]> => {
      const reply = await (await fetch(`${base}/${session}?maxev=10`)).json();
      return Array.isArray(reply) ? reply : [reply];
    };
    await post(handle, { janus: "message", body: { request: "setup" }, transaction: "s" });
    let offer: PageSdp | undefined;
    while (!offer) for (const e of await poll()) offer ??= e.jsep;
    const pc = new (globalThis as unknown as { RTCPeerConnection: new () => PagePc })
      .RTCPeerConnection();
    pc.onicecandidate = (e) =>
      void post(handle, {
        janus: "trickle",
        candidate: e.candidate ?? { completed: true },
        transaction: "t",
      });
    await pc.setRemoteDescription(offer);
    await pc.setLocalDescription(await pc.createAnswer());
    const answeredAt = performance.now();
    await post(handle, {
      janus: "message",
      body: { request: "ack" },
      jsep: pc.localDescription,
      transaction: "k",
    });
    let outcome: Outcome | undefined;
    const deadline = Date.now() + 10_000;
    while (!outcome && Date.now() < deadline) {
      for (const e of await poll()) {
        if (e.janus === "webrtcup") outcome ??= `up ${Math.round(performance.now() - answeredAt)}`;
        if (e.janus === "hangup") outcome ??= `hangup ${e.reason}`;
      }
    }
    pc.close();
    await post(`/${session}`, { janus: "destroy", transaction: "d" });
    return outcome ?? "timeout";
  };
  const outcomes: Outcome[] = [];
  let started = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (started < runs) {
      started++;
      outcomes.push(await once());
    }
  }));
  return outcomes;
}

Deno.test(
  `rtp engine, our offer answered by Chromium ${RUNS} times on busy CPUs: every one comes up, ` +
    `none ends in the library's DTLS race`,
  async () => {
    assertInsideNetns();
    await using gw = await startTextRoomGateway();
    const browser = await launchChromium();
    const loops = Array.from(
      { length: BUSY_LOOPS },
      () => new Deno.Command("sh", { args: ["-c", "while :; do :; done"] }).spawn(),
    );
    try {
      // Chromium refuses new PeerConnections once a page holds a few hundred not yet
      // collected: a fresh page (same origin as the API, no CORS) for every batch.
      const outcomes: Outcome[] = [];
      for (let done = 0; done < RUNS; done += PER_PAGE) {
        const page = await browser.newPage();
        await page.goto(`${gw.httpUrl}/info`);
        const runs = Math.min(PER_PAGE, RUNS - done);
        outcomes.push(
          ...await page.evaluate(setups, { base: gw.httpUrl, runs, parallel: PARALLEL }),
        );
        await page.close();
      }
      const ups = outcomes.filter((o) => o.startsWith("up ")).map((o) => Number(o.slice(3)));
      ups.sort((a, b) => a - b);
      const tally: Record<string, number> = {};
      for (const o of outcomes) {
        const kind = o.startsWith("up ") ? "up" : o;
        tally[kind] = (tally[kind] ?? 0) + 1;
      }
      // deno-lint-ignore no-console
      console.log(
        `${RUNS} connects: ${JSON.stringify(tally)}; webrtcup after the answer p50 ` +
          `${ups[ups.length >> 1]} ms, p90 ${ups[Math.floor(ups.length * 0.9)]} ms, max ${
            ups[ups.length - 1]
          } ms`,
      );
      assert.equal(outcomes.length, RUNS);
      assert.deepEqual(tally, { up: RUNS }, "every connect comes up");
    } finally {
      for (const loop of loops) {
        loop.kill("SIGKILL");
        await loop.status;
      }
      await browser.close();
    }
  },
);
