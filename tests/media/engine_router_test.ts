/**
 * Engine selection: `media.engines` is validated, and the router sends each plugin's peers to
 * its engine (others to wrtc) while counts, pids and settings span every engine. The engines
 * here are recording doubles: the router, not a media engine, is under test (the suites in
 * tests/plugins/echotest_*_test.ts run real calls on both engines).
 */
import assert from "node:assert/strict";
import { ConfigError, DEFAULT_MEDIA_ENGINES, parseConfig } from "../../core/config.ts";
import { createMediaEngine, RTP_WORKER_MAIN_URL } from "../../core/media/engine.ts";
import { type EngineName, EngineRouter } from "../../core/media/engine_router.ts";
import type { MediaEngine, MediaSettings, Peer } from "../../core/media/types.ts";

/** An engine that records what it is asked and makes inert peers. */
function recordingEngine(name: string, pids: number[]) {
  const created: { affinity?: string; plugin?: string }[] = [];
  const settings: Partial<MediaSettings>[] = [];
  let closed = false;
  const engine: MediaEngine = {
    createPeer: (options) => {
      created.push({
        ...(options.affinity !== undefined ? { affinity: options.affinity } : {}),
        ...(options.plugin !== undefined ? { plugin: options.plugin } : {}),
      });
      return Promise.resolve({ id: `${name}-${created.length}` } as unknown as Peer);
    },
    capabilities: () => ({
      codecs: { audio: ["opus"], video: ["vp8"] },
      decodes: name === "wrtc",
      rtp: name === "rtp",
    }),
    counts: () => ({ peers: created.length, workers: pids.length }),
    workerPids: () => pids,
    workerPidOf: (peer) => peer.id.startsWith(name) ? pids[0] : undefined,
    updateSettings: (s) => {
      settings.push(s);
      return Promise.resolve(pids.map(() => ({ noMediaMs: 1000, slowLinkThreshold: 0, ...s })));
    },
    close: () => {
      closed = true;
      return Promise.resolve();
    },
  };
  return { engine, created, settings, closed: () => closed };
}

Deno.test("media.engines: a plugin -> wrtc|rtp map over the defaults; other values refused", () => {
  assert.deepEqual(parseConfig({}).media.engines, {});
  // Under the configured ones: EchoTest and VideoRoom forward on the RTP engine unless told otherwise.
  assert.deepEqual(DEFAULT_MEDIA_ENGINES, {
    "janus.plugin.echotest": "rtp",
    "janus.plugin.videoroom": "rtp",
    "janus.plugin.textroom": "rtp",
    "janus.plugin.audiobridge": "rtp",
    "janus.plugin.videocall": "rtp",
    "janus.plugin.streaming": "rtp",
    "janus.plugin.recordplay": "rtp",
  });
  const config = parseConfig({ media: { engines: { "janus.plugin.echotest": "rtp" } } });
  assert.deepEqual(config.media.engines, { "janus.plugin.echotest": "rtp" });
  assert.throws(
    () => parseConfig({ media: { engines: { "janus.plugin.echotest": "gstreamer" } } }),
    (e: unknown) => e instanceof ConfigError && e.message.includes("media.engines"),
  );
});

Deno.test("EngineRouter: peers go to their plugin's engine, the rest to the fallback", async () => {
  const wrtc = recordingEngine("wrtc", [101]);
  const rtp = recordingEngine("rtp", [202, 203]);
  const router = new EngineRouter({
    engines: new Map<EngineName, MediaEngine>([["wrtc", wrtc.engine], ["rtp", rtp.engine]]),
    byPlugin: new Map<string, EngineName>([["janus.plugin.echotest", "rtp"]]),
    fallback: "wrtc",
  });
  const echo = await router.createPeer({ plugin: "janus.plugin.echotest", listener: {} });
  const room = await router.createPeer({
    plugin: "janus.plugin.videoroom",
    affinity: "room-1",
    listener: {},
  });
  await router.createPeer({ listener: {} });
  assert.deepEqual(rtp.created, [{ plugin: "janus.plugin.echotest" }]);
  assert.deepEqual(wrtc.created, [{ plugin: "janus.plugin.videoroom", affinity: "room-1" }, {}]);
  assert.equal(router.engineFor("janus.plugin.echotest"), "rtp");
  assert.equal(router.engineFor(undefined), "wrtc");
  assert.equal(router.capabilities("janus.plugin.echotest")?.rtp, true);
  assert.equal(router.capabilities("janus.plugin.videoroom")?.decodes, true);
  assert.deepEqual(router.counts(), { peers: 3, workers: 3 });
  assert.deepEqual(router.workerPids().sort(), [101, 202, 203]);
  assert.deepEqual(router.workerPidsOf("rtp"), [202, 203]);
  assert.equal(router.workerPidOf(echo), 202);
  assert.equal(router.workerPidOf(room), 101);
  const reports = await router.updateSettings({ noMediaMs: 3000 });
  assert.equal(reports.length, 3, "one report per worker of every engine");
  assert.deepEqual(wrtc.settings, [{ noMediaMs: 3000 }]);
  assert.deepEqual(rtp.settings, [{ noMediaMs: 3000 }]);
  await router.close();
  assert.ok(wrtc.closed() && rtp.closed());
});

Deno.test("EngineRouter: a plugin given an engine that is not running gets a clear error", async () => {
  const wrtc = recordingEngine("wrtc", [1]);
  const router = new EngineRouter({
    engines: new Map<EngineName, MediaEngine>([["wrtc", wrtc.engine]]),
    byPlugin: new Map<string, EngineName>([["janus.plugin.echotest", "rtp"]]),
    fallback: "wrtc",
  });
  await assert.rejects(
    router.createPeer({ plugin: "janus.plugin.echotest", listener: {} }),
    /Media engine rtp is not running/,
  );
  await router.close();
});

Deno.test({
  name: "rtp engine: what it cannot serve fails with an error naming the engine or the cause",
  sanitizeResources: false,
  async fn() {
    const engine = await createMediaEngine({ workerMain: RTP_WORKER_MAIN_URL });
    try {
      const a = await engine.createPeer({ listener: {} });
      const b = await engine.createPeer({ listener: {} });
      assert.deepEqual(engine.capabilities?.(), {
        codecs: {
          audio: ["opus", "pcmu", "pcma", "multiopus"],
          video: ["vp8", "vp9", "h264", "av1"],
        },
        decodes: false,
        rtp: true,
      });
      // A peer with no audio m-line received cannot join a mixer.
      await assert.rejects(
        a.mix({ op: "join", mixer: "m", mid: "0", sampleRate: 16000, gain: 1, muted: false }),
        /m-line 0 is not audio/,
      );
      await assert.rejects(
        a.createOffer({ iceRestart: true }),
        /ICE restart is not supported by the rtp media engine/,
      );
      await assert.rejects(a.forward({ to: b, fromMid: "0" }), /No received m-line 0/);
      await assert.rejects(a.acceptAnswer("v=0\r\n"), /No offer to answer/);
      await assert.rejects(a.requestKeyframe("0"), /No received m-line 0/);
      await a.setAudioLevels(true);
      await a.close();
      await b.close();
      assert.deepEqual(engine.counts(), { peers: 0, workers: 1 });
    } finally {
      await engine.close();
    }
  },
});
