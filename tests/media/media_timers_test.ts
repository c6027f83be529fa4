/**
 * The no-media timer and the slow-link threshold reach the media workers: from the engine's
 * options (`general.no_media_timer`, `general.slowlink_threshold`) and, at run time, from
 * `updateSettings` (admin `set_no_media_timer` / `set_slowlink_threshold`), for live peers,
 * new peers and new workers. Real wrtc clients inside the network namespace (`_client.ts`).
 *
 * Slow links come from real loss: a UDP relay between client and worker drops a share of the
 * client's RTP (`_lossy_relay.ts`; the namespace has no netem).
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../core/config.ts";
import { createMediaEngine } from "../../core/media/engine.ts";
import { startMediaEngine } from "../../core/media/start.ts";
import type {
  MediaSettings,
  MediaStateChange,
  Peer,
  SlowLinkReport,
} from "../../core/media/types.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { startTestGateway, testConfig } from "../_helpers/gateway.ts";
import {
  ADMIN_SECRET,
  attachEcho,
  createSession,
  echoMessage,
  trickle,
} from "../plugins/_echotest.ts";
import { openSignal, type Signal, txn } from "../plugins/_signal.ts";
import { ClientPeer, waitUntil, wrtcTest } from "./_client.ts";
import { LossyRelay } from "./_lossy_relay.ts";
import {
  assertSlowLinkStops,
  closeAll,
  connectPeer,
  connectThroughRelay,
  sleep,
} from "./_media_setup.ts";

/** Stats are sampled every 500 ms: an event may come that much after its moment. */
const POLL_SLACK_MS = 500;
/** Scheduling margin on a loaded machine. */
const MARGIN_MS = 1000;

/** `media` changes of one peer, with their arrival times. */
class MediaLog {
  changes: (MediaStateChange & { at: number })[] = [];
  connected = false;

  listener = {
    onConnected: () => void (this.connected = true),
    onMedia: (c: MediaStateChange) => void this.changes.push({ ...c, at: performance.now() }),
  };

  receiving(mid: string): boolean {
    return this.changes.findLast((c) => c.mid === mid)?.receiving ?? false;
  }
}

async function connect(client: ClientPeer, peer: Peer, log: MediaLog): Promise<void> {
  await connectPeer(client, peer, () => log.connected);
  await waitUntil("receiving", () => log.receiving("0"));
}

/** Stops the client's video; resolves how long the `receiving:false` event took, in ms. */
async function silence(client: ClientPeer, log: MediaLog, timeoutMs: number): Promise<number> {
  const from = log.changes.length;
  const stoppedAt = performance.now();
  client.stopFeeding();
  await waitUntil("receiving:false", () => !log.receiving("0"), timeoutMs);
  const change = log.changes.slice(from).find((c) => !c.receiving);
  assert.ok(change);
  return change.at - stoppedAt;
}

/** Asserts that `ms` is no sooner than `timerMs` and not much later. */
function assertAfter(ms: number, timerMs: number, what: string): void {
  assert.ok(ms >= timerMs - 100, `${what}: receiving:false after ${ms.toFixed(0)} ms`);
  assert.ok(
    ms < timerMs + POLL_SLACK_MS + MARGIN_MS,
    `${what}: receiving:false after ${ms.toFixed(0)} ms`,
  );
}

wrtcTest(
  "noMediaMs times receiving:false; updateSettings changes it for live peers, new peers and " +
    "new workers, and so the slow-link threshold",
  async (wrtc) => {
    const engine = await createMediaEngine({ workers: 1, noMediaMs: 1000, slowLinkThreshold: 4 });
    const clients: ClientPeer[] = [];
    try {
      assert.deepEqual(await engine.updateSettings?.({}), [
        { noMediaMs: 1000, slowLinkThreshold: 4 },
      ]);
      const log = new MediaLog();
      const peer = await engine.createPeer({ listener: log.listener });
      const client = new ClientPeer(wrtc, { video: true });
      clients.push(client);
      await connect(client, peer, log);
      const first = await silence(client, log, 5000);
      assertAfter(first, 1000, "1 s timer");
      assert.equal(log.changes.at(-1)?.seconds, undefined, "no seconds for a 1 s timer");

      // The live peer follows a new value.
      assert.deepEqual(await engine.updateSettings?.({ noMediaMs: 3000, slowLinkThreshold: 9 }), [
        { noMediaMs: 3000, slowLinkThreshold: 9 },
      ]);
      client.resumeFeeding();
      await waitUntil("receiving again", () => log.receiving("0"));
      const second = await silence(client, log, 8000);
      assertAfter(second, 3000, "3 s timer, live peer");
      assert.equal(log.changes.at(-1)?.seconds, 3);

      // A new peer on the same worker starts with it.
      const log2 = new MediaLog();
      const peer2 = await engine.createPeer({ listener: log2.listener });
      const client2 = new ClientPeer(wrtc, { video: true });
      clients.push(client2);
      await connect(client2, peer2, log2);
      await new Promise((resolve) => setTimeout(resolve, 2000)); // past the fast polls
      assertAfter(await silence(client2, log2, 8000), 3000, "3 s timer, new peer");
      // deno-lint-ignore no-console
      console.log(
        `receiving:false after ${first.toFixed(0)} ms (1 s timer), ${second.toFixed(0)} ms ` +
          `(3 s timer set on the live peer)`,
      );
      await peer.close();
      await peer2.close();

      // A worker started after the change gets it with its configuration.
      const [pid] = engine.workerPids?.() ?? [];
      assert.ok(pid !== undefined);
      Deno.kill(pid, "SIGKILL");
      await waitUntil("worker gone", () => !engine.workerPids?.().includes(pid));
      const fresh = await engine.createPeer({ listener: {} });
      assert.notEqual(engine.workerPidOf?.(fresh), pid);
      assert.deepEqual(await engine.updateSettings?.({}), [
        { noMediaMs: 3000, slowLinkThreshold: 9 },
      ]);
      await fresh.close();
    } finally {
      await closeAll(engine, clients);
    }
  },
);

/** An admin request over HTTP; returns the reply after checking `success`. */
async function admin(url: string, body: JsonObject): Promise<JsonObject> {
  const transaction = txn("admin");
  const res = await fetch(url, {
    method: "POST",
    body: JSON.stringify({ ...body, admin_secret: ADMIN_SECRET, transaction }),
  });
  const reply = await res.json() as JsonObject;
  assert.equal(reply.janus, "success", JSON.stringify(reply));
  return reply;
}

wrtcTest(
  "general.no_media_timer times the media receiving:false event of an EchoTest call (with " +
    "seconds, as Janus); admin " +
    "set_no_media_timer and set_slowlink_threshold reach the worker and the live call",
  async (wrtc) => {
    const media = { workers: 1 };
    // Not the defaults (1 s, off): the values must come from the configuration.
    const general = { no_media_timer: 2, slowlink_threshold: 5 };
    const engine = await startMediaEngine(parseConfig(testConfig({ media, general })));
    assert.ok(engine);
    let sig: Signal | undefined;
    const client = new ClientPeer(wrtc, { video: true });
    try {
      await using gw = await startTestGateway({ media, general }, { media: engine });
      const sg = await openSignal("ws", gw);
      sig = sg;
      const s = await createSession(sg);
      const h = await attachEcho(sg, s);
      const offer = await client.offer();
      client.trickleTo((c) => trickle(sg, s, h, { candidate: c ? { ...c } : { completed: true } }));
      const { event } = await echoMessage(sg, s, h, { audio: true, video: true }, {
        type: "offer",
        sdp: offer,
      });
      await client.answer(String((event.msg.jsep as JsonObject).sdp));
      const isMedia = (receiving: boolean) => (m: JsonObject) =>
        m.janus === "media" && m.sender === h && m.receiving === receiving;
      await sg.take("receiving:true", isMedia(true));

      /** Stops the client's video; the `media` event that follows and how long it took. */
      const silenceEvent = async (timeoutMs: number) => {
        const stoppedAt = performance.now();
        client.stopFeeding();
        const r = await sg.take("receiving:false", isMedia(false), timeoutMs);
        return { msg: r.msg, ms: r.at - stoppedAt };
      };
      // Janus's event for video stopping on the handle, after `seconds` of silence.
      const videoSilent = (seconds: number): JsonObject => ({
        janus: "media",
        session_id: s,
        sender: h,
        mid: "0",
        type: "video",
        receiving: false,
        seconds,
      });
      assertEveryWorker(await engine.updateSettings?.({}), {
        noMediaMs: 2000,
        slowLinkThreshold: 5,
      });
      const first = await silenceEvent(6000);
      // Janus adds `seconds` when the timer is over 1 s.
      assert.deepEqual(first.msg, videoSilent(2));
      assertAfter(first.ms, 2000, "no_media_timer 2");

      const set = await admin(gw.adminUrl, { janus: "set_no_media_timer", no_media_timer: 4 });
      assert.equal(set.no_media_timer, 4);
      const slow = await admin(gw.adminUrl, {
        janus: "set_slowlink_threshold",
        slowlink_threshold: 7,
      });
      assert.equal(slow.slowlink_threshold, 7);
      // What the worker itself now uses.
      assertEveryWorker(await engine.updateSettings?.({}), {
        noMediaMs: 4000,
        slowLinkThreshold: 7,
      });

      client.resumeFeeding();
      await sg.take("receiving:true again", isMedia(true));
      const second = await silenceEvent(9000);
      assert.deepEqual(second.msg, videoSilent(4));
      assertAfter(second.ms, 4000, "set_no_media_timer 4");
      // deno-lint-ignore no-console
      console.log(
        `media receiving:false ${first.ms.toFixed(0)} ms after the sender stopped ` +
          `(no_media_timer 2), ${second.ms.toFixed(0)} ms after set_no_media_timer 4`,
      );
      const status = await admin(gw.adminUrl, { janus: "get_status" });
      const st = status.status as JsonObject;
      assert.equal(st.no_media_timer, 4);
      assert.equal(st.slowlink_threshold, 7);
      await admin(gw.adminUrl, { janus: "set_no_media_timer", no_media_timer: 1 });
      await admin(gw.adminUrl, { janus: "set_slowlink_threshold", slowlink_threshold: 0 });
      assertEveryWorker(await engine.updateSettings?.({}), {
        noMediaMs: 1000,
        slowLinkThreshold: 0,
      });
      const reply = await sg.request({ janus: "destroy", session_id: s, transaction: txn("d") });
      assert.equal(reply.janus, "success");
    } finally {
      client.close();
      await sig?.close();
    }
    assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
  },
);

/** One report per worker (EchoTest's rtp engine and the wrtc one), each with `expected`. */
function assertEveryWorker(reports: MediaSettings[] | undefined, expected: MediaSettings): void {
  assert.ok(reports && reports.length > 0, "settings reports");
  for (const r of reports) assert.deepEqual(r, expected);
}

wrtcTest(
  "slowLinkThreshold: real loss of the client's RTP makes slowLink reports only while " +
    "updateSettings has set a threshold under it",
  async (wrtc) => {
    const engine = await createMediaEngine({ workers: 1, slowLinkThreshold: 0 });
    const relay = await LossyRelay.start(0.3);
    const client = new ClientPeer(wrtc, { audio: true });
    const slow: (SlowLinkReport & { at: number })[] = [];
    let connected = false;
    try {
      const peer = await engine.createPeer({
        listener: {
          onConnected: () => void (connected = true),
          onSlowLink: (r) => void slow.push({ ...r, at: performance.now() }),
        },
      });
      await connectThroughRelay(client, peer, relay);
      await peer.addRemoteCandidate(null);
      await waitUntil("connected through the relay", () => connected);

      // Loss, but no threshold: nothing reported.
      await sleep(3000);
      const mids = (await peer.info()).stats.mids as Record<string, { inboundLost: number }>;
      const lost = mids["0"]?.inboundLost ?? 0;
      assert.ok(relay.dropped > 30 && lost > 30, `dropped ${relay.dropped}, lost ${lost}`);
      assert.equal(slow.length, 0, "no threshold, no report");

      // A threshold under the loss rate (about 15 of 50 packets a second): reports come.
      const setAt = performance.now();
      await engine.updateSettings?.({ slowLinkThreshold: 3 });
      await waitUntil("slowLink", () => slow.length > 0, 5000);
      const [report] = slow;
      assert.ok(report);
      assert.deepEqual({ ...report, lost: 0, at: 0 }, {
        mid: "0",
        kind: "audio",
        uplink: false,
        lost: 0,
        at: 0,
      });
      assert.ok(report.lost >= 3, `lost ${report.lost}`);
      // deno-lint-ignore no-console
      console.log(
        `${relay.dropped} RTP packets dropped (${relay.forwarded} passed); slowLink ` +
          `${(report.at - setAt).toFixed(0)} ms after the threshold was set: lost ${report.lost}/s`,
      );

      await assertSlowLinkStops(engine, slow);
      await peer.close();
    } finally {
      client.close();
      relay.close();
      await engine.close();
    }
    assert.deepEqual(engine.counts(), { peers: 0, workers: 0 });
  },
);
