/**
 * The RTP engine spike (issue 10): a node-datachannel worker process answers a wrtc client's
 * audio+video offer and echoes the RTP back without decoding (SSRC/seq/ts rewritten, RTX
 * negotiated, a PLI upstream at start, RR and REMB every 500 ms). The client must decode the
 * echoed frames and hear its tone, and the worker must exit 0 after closing everything.
 *
 * Set RTP_ECHO_SECONDS to hold the call that long and print the worker's CPU share (read from
 * /proc/<pid>/stat); the figure is for reports, nothing asserts on it.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  allLoopback,
  ClientPeer,
  goertzel,
  sdpCandidateAddresses,
  waitUntil,
  wrtcTest,
} from "./_client.ts";
import { loopbackUdpPort, LossyRelay, withOnlyCandidate } from "./_lossy_relay.ts";

const WORKER = new URL("../../core/media/rtp/echo_worker.ts", import.meta.url).pathname;

type Reply = Record<string, unknown> & { op: string };

/** The echo worker child and its line-JSON replies. */
class EchoWorker {
  readonly child: Deno.ChildProcess;
  readonly replies: Reply[] = [];
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #reading: Promise<void>;

  constructor() {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", WORKER],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.child.stdin.getWriter();
    this.#reading = this.#read();
  }

  async #read(): Promise<void> {
    let pending = "";
    for await (const chunk of this.child.stdout.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        this.replies.push(JSON.parse(pending.slice(0, nl)) as Reply);
        pending = pending.slice(nl + 1);
      }
    }
  }

  async request(message: Record<string, unknown>, op: string, timeoutMs = 10000): Promise<Reply> {
    const from = this.replies.length;
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(message) + "\n"));
    let found: Reply | undefined;
    await waitUntil(`worker ${op}`, () => {
      found = this.replies.slice(from).find((r) => r.op === op || r.op === "error");
      return found !== undefined;
    }, timeoutMs);
    assert.equal(found?.op, op, JSON.stringify(found));
    return found!;
  }

  /** Asks the worker to close; returns its exit code. */
  async close(): Promise<number> {
    await this.request({ op: "close" }, "closed");
    await this.#writer.close().catch(() => {});
    const { code } = await this.child.status;
    await this.#reading;
    return code;
  }

  /** CPU seconds (user + system) the worker has used so far. */
  async cpuSeconds(): Promise<number> {
    const stat = await Deno.readTextFile(`/proc/${this.child.pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }
}

wrtcTest(
  "RTP engine spike: node-datachannel worker echoes wrtc audio+video without decoding",
  async (wrtc) => {
    const worker = new EchoWorker();
    const client = new ClientPeer(wrtc, { audio: true, video: true });
    try {
      await client.offer();
      await waitUntil("client gathering", () => client.pc.iceGatheringState === "complete");
      const offer = client.pc.localDescription?.sdp ?? "";
      const { sdp } = await worker.request({ op: "offer", sdp: offer }, "answer");
      assert.equal(typeof sdp, "string");
      const answer = String(sdp);
      const addresses = sdpCandidateAddresses(answer);
      assert.ok(
        addresses.length > 0 && allLoopback(addresses),
        `candidates ${addresses.join(",")}`,
      );
      assert.match(answer, /a=rtpmap:\d+ rtx\/90000/i, "RTX negotiated");
      assert.doesNotMatch(answer, /a=extmap/, "no header extensions to rewrite");
      assert.equal(answer.match(/a=sendrecv/g)?.length, 2);
      await client.answer(answer);

      await waitUntil("echoed video frames", () => client.videoFrames >= 20, 15000);
      assert.equal(client.luma.width, 320);
      assert.ok(client.luma.left > 150 && client.luma.right < 100, JSON.stringify(client.luma));
      await waitUntil("echoed audio", () => client.audio.length >= client.audioRate, 15000);
      const tail = client.audio.slice(-client.audioRate / 2);
      const tone = goertzel(tail, client.audioRate, 440);
      const other = goertzel(tail, client.audioRate, 1000);
      assert.ok(tone > 50 * other && tone > 1000, `440 Hz ${tone} vs 1 kHz ${other}`);

      // Our SSRC, not the client's own, comes back: the echo went through the rewriter.
      const answerSsrcs = [...answer.matchAll(/a=ssrc:(\d+) /g)].map((m) => m[1]);
      const offerSsrcs = new Set([...offer.matchAll(/a=ssrc:(\d+) /g)].map((m) => m[1]));
      assert.ok(answerSsrcs.length > 0 && answerSsrcs.every((s) => !offerSsrcs.has(s)));
      const inbound: number[] = [];
      (await client.pc.getStats()).forEach((v) => {
        const r = v as { type: string; ssrc?: number };
        if (r.type === "inbound-rtp" && r.ssrc !== undefined) inbound.push(r.ssrc);
      });
      assert.ok(inbound.length === 2 && inbound.every((s) => answerSsrcs.includes(String(s))));

      await new Promise((resolve) => setTimeout(resolve, 1200));
      const seconds = Number(Deno.env.get("RTP_ECHO_SECONDS") ?? "0");
      if (seconds > 0) {
        const cpu0 = await worker.cpuSeconds();
        const t0 = performance.now();
        const frames0 = client.videoFrames;
        await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
        const cpu = (await worker.cpuSeconds()) - cpu0;
        const wall = (performance.now() - t0) / 1000;
        // deno-lint-ignore no-console
        console.log(
          `rtp echo worker: ${(100 * cpu / wall).toFixed(2)}% of a core over ${
            wall.toFixed(1)
          } s, ` +
            `${((client.videoFrames - frames0) / wall).toFixed(1)} decoded fps at the client`,
        );
      }
      const stats = await worker.request({ op: "stats" }, "stats");
      // deno-lint-ignore no-console
      if (seconds > 0) console.log(`worker counters ${JSON.stringify(stats)}`);
      assert.ok(Number(stats.plisSent) >= 1, `PLI upstream ${JSON.stringify(stats)}`);
      assert.ok(Number(stats.rrSent) >= 2 && Number(stats.rembSent) >= 1, JSON.stringify(stats));
      assert.ok(Number(stats.rtpOut) > 100, JSON.stringify(stats));
    } finally {
      client.close();
      const code = await worker.close();
      assert.equal(code, 0, "worker exit code");
    }
  },
);

wrtcTest(
  "RTP engine spike: 30% of the client's video lost on the way in comes back over RTX",
  async (wrtc) => {
    const worker = new EchoWorker();
    const relay = await LossyRelay.start(0.3);
    const client = new ClientPeer(wrtc, { video: true });
    try {
      await client.offer();
      await waitUntil("client gathering", () => client.pc.iceGatheringState === "complete");
      const offer = client.pc.localDescription?.sdp ?? "";
      const clientPort = loopbackUdpPort(offer);
      assert.ok(clientPort !== undefined, "a UDP 127.0.0.1 candidate in the offer");
      // Each side knows only the relay's socket facing it.
      const { sdp } = await worker.request(
        { op: "offer", sdp: withOnlyCandidate(offer, relay.serverFacingPort) },
        "answer",
      );
      const answer = String(sdp);
      const serverPort = loopbackUdpPort(answer);
      assert.ok(serverPort !== undefined, "a UDP 127.0.0.1 candidate in the answer");
      relay.connect(clientPort, serverPort);
      await client.answer(withOnlyCandidate(answer, relay.clientFacingPort));

      await waitUntil("echoed video frames", () => client.videoFrames >= 20, 15000);
      const frames = client.videoFrames;
      await new Promise((resolve) => setTimeout(resolve, 3000));
      const stats = await worker.request({ op: "stats" }, "stats");
      assert.ok(relay.dropped > 20, `relay dropped ${relay.dropped}`);
      assert.ok(Number(stats.nacksSent) > 0, `NACKs upstream ${JSON.stringify(stats)}`);
      assert.ok(Number(stats.rtxUnwrapped) > 0, `RTX unwrapped ${JSON.stringify(stats)}`);
      // Without the resends a third of the frames would be missing and VP8 would stall on them.
      const fps = (client.videoFrames - frames) / 3;
      assert.ok(fps > 20, `${fps} decoded fps under 30% loss; ${JSON.stringify(stats)}`);
      assert.ok(client.luma.left > 150 && client.luma.right < 100, JSON.stringify(client.luma));
    } finally {
      client.close();
      relay.close();
      const code = await worker.close();
      assert.equal(code, 0, "worker exit code");
    }
  },
);
