/**
 * VP9, H.264 and AV1 video on the RTP engine, which forwards them without decoding, in
 * headless Chromium with the OFFICIAL demos (their `vcodec` parameter forces the codec):
 * - `echotest.html?vcodec=X`: the echo decodes, in codec X both ways;
 * - `videoroomtest.html?vcodec=X` in a room allowing every codec: Alice publishes X, Bob
 *   publishes VP8, and each decodes the other's feed at the resolution it is sent, in its
 *   codec; nothing is left once both stop;
 * - `streamingtest.html`: mountpoints fed H.264 and VP9 RTP by ffmpeg (whose VP9 packets carry
 *   no scalability structure) play in their codec at ffmpeg's 640x480.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { type ConfigInput, parseConfig } from "../../core/config.ts";
import { startMediaEngine } from "../../core/media/start.ts";
import { capturePageLog, launchChromium, pollUntil } from "../_helpers/browser.ts";
import { startTestGateway, testConfig } from "../_helpers/gateway.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { freeEvenUdpPort } from "../_helpers/udp_port.ts";
import { startStreamingGateway, stopFfmpeg, streamingCounts } from "../plugins/_streaming.ts";
import {
  clickPastDialogs,
  dialogText,
  officialDemoUrl,
  requireOfficialDemos,
  startDemo,
  stopWatching,
  untilNothingLeft,
  videoStreams,
} from "./official_demos.ts";
import {
  attachProbe,
  DEMO_ROOM,
  openDemo,
  probeRequest,
  publisherId,
  qualityConfig,
} from "./videoroom_quality.ts";

/** The codecs besides VP8 (which every other browser test uses). */
const CODECS = ["vp9", "h264", "av1"] as const;

const ECHO_PC = "return [globalThis.echotest && globalThis.echotest.webrtcStuff.pc];";
const FEEDS_PC = "return (globalThis.feeds || []).map((f) => f && f.webrtcStuff.pc);";
const PUBLISHER_PC = "return [globalThis.sfutest && globalThis.sfutest.webrtcStuff.pc];";

Deno.test({
  name: "official echotest.html in Chromium on rtp: VP9, H.264 and AV1 echoed (?vcodec=...), " +
    "decoded in the codec forced",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assertInsideNetns();
    await requireOfficialDemos("echotest.html");
    const config: ConfigInput = {
      media: { workers: 1, engines: { "janus.plugin.echotest": "rtp" } },
    };
    const media = await startMediaEngine(parseConfig(testConfig(config)));
    assert.ok(media, "media engine");
    await using gw = await startTestGateway(config, { media });
    const browser = await launchChromium();
    try {
      for (const codec of CODECS) {
        const page = await (await browser.newContext()).newPage();
        const log = capturePageLog(page, `echotest-${codec}`);
        const describe = async () => {
          const dialog = await dialogText(page).catch(() => "");
          const streams = await videoStreams(page, ECHO_PC, "in").catch(() => []);
          return `${codec}: gateway ${JSON.stringify(gw.counts())}; dialog: ${
            dialog || "none"
          }; inbound ${JSON.stringify(streams)}\n${log.tail(80)}`;
        };
        await startDemo(page, `${officialDemoUrl(gw, "http", "echotest.html")}?vcodec=${codec}`);
        const mime = `video/${codec.toUpperCase()}`;
        const echoed = await pollUntil(
          `${codec} echoed frames decoded`,
          async () => {
            const [s] = await videoStreams(page, ECHO_PC, "in");
            return s && s.frames > 30 ? s : undefined;
          },
          { describe, timeoutMs: 30_000 },
        );
        assert.equal(echoed.mimeType, mime, await describe());
        assert.ok(echoed.width > 0, await describe());
        const [sent] = await videoStreams(page, ECHO_PC, "out");
        assert.equal(sent?.mimeType, mime, "the page sends the codec forced");
        const dialogs = await clickPastDialogs(page, "#start");
        assert.deepEqual(dialogs, [], `dialogs: ${dialogs.join(" | ")}`);
        await untilNothingLeft(gw, describe);
        await page.context().close();
      }
    } finally {
      await browser.close();
    }
  },
});

/** The demo room allowing every codec the RTP engine forwards, VP8 first. */
function everyCodecRoom(): ConfigInput {
  const config = qualityConfig();
  const videoroom = config.plugins?.["janus.plugin.videoroom"] as {
    rooms: Record<string, unknown>[];
  };
  videoroom.rooms[0]!.videocodec = "vp8,vp9,h264,av1";
  return config;
}

/** The plugin's events to the probe subscriber (`attachProbe`) so far. */
function probeEvents(page: Page): Promise<Record<string, unknown>[]> {
  return page.evaluate(() =>
    ((globalThis as { vrProbe?: { events: { event: Record<string, unknown> }[] } }).vrProbe
      ?.events ?? []).map((e) => e.event)
  );
}

/** The probe's PeerConnection has no offer pending (it answered the last one). */
function probeStable(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    type Pc = { signalingState: string };
    const g = globalThis as { vrProbe?: { handle: { webrtcStuff: { pc?: Pc } } } };
    return g.vrProbe?.handle.webrtcStuff.pc?.signalingState === "stable";
  });
}

const PROBE_PC = "return [globalThis.vrProbe && globalThis.vrProbe.handle.webrtcStuff.pc];";

/**
 * On `page` (Bob's, both feeds published): a probe subscriber of Alice's `codec` video; a
 * `switch` of its video m-line to Bob's VP8 is skipped (`changes: 0`), as the reference skips
 * another codec; unsubscribed from Alice and subscribed to Bob, it gets a new m-line (the
 * other codec's is not reused) and decodes VP8 on it.
 */
async function switchAndResubscribe(
  page: Page,
  codec: string,
  describe: () => Promise<string>,
): Promise<void> {
  const aliceId = await pollUntil("Alice's feed id", async () => {
    const ids = await page.evaluate(() =>
      ((globalThis as { feeds?: ({ rfid?: number } | null)[] }).feeds ?? [])
        .map((f) => f?.rfid).filter((id) => typeof id === "number")
    );
    return ids[0];
  });
  const bobId = await publisherId(page);
  const joined = await attachProbe(page, aliceId);
  assert.notEqual(joined.frameMs, null, `the probe decodes Alice's ${codec}:\n${await describe()}`);
  const attached = (await probeEvents(page)).find((e) => e.videoroom === "attached");
  const videoMid = (attached?.streams as { type: string; mid: string }[] | undefined)
    ?.find((s) => s.type === "video")?.mid;
  assert.ok(videoMid !== undefined, `the probe's video m-line: ${JSON.stringify(attached)}`);
  await probeRequest(page, {
    request: "switch",
    streams: [{ feed: bobId, mid: "1", sub_mid: videoMid }],
  }, { awaitFrame: false });
  const switched = (await probeEvents(page)).findLast((e) => e.switched === "ok");
  assert.equal(switched?.changes, 0, `switch to another codec: ${JSON.stringify(switched)}`);

  await probeRequest(page, { request: "unsubscribe", streams: [{ feed: aliceId }] }, {
    awaitFrame: false,
  });
  await pollUntil("the probe's renegotiation done", () => probeStable(page), { describe });
  const resubscribed = await probeRequest(page, {
    request: "subscribe",
    streams: [{ feed: bobId }],
  }, {
    awaitFrame: true,
    timeoutMs: 10_000,
  });
  assert.notEqual(resubscribed.frameMs, null, `no VP8 frame after subscribe:\n${await describe()}`);
  const updated = (await probeEvents(page)).findLast((e) => e.videoroom === "updated");
  const mids = (updated?.streams as { type: string; mid: string; feed_id?: number }[])
    .filter((s) => s.type === "video" && s.feed_id === bobId).map((s) => s.mid);
  assert.equal(mids.length, 1, JSON.stringify(updated));
  assert.notEqual(mids[0], videoMid, `the ${codec} m-line was reused for VP8`);
  const streams = await videoStreams(page, PROBE_PC, "in");
  assert.ok(
    streams.some((s) => s.mimeType === "video/VP8" && s.frames > 0),
    `the probe decodes VP8: ${JSON.stringify(streams)}`,
  );
}

for (const codec of CODECS) {
  Deno.test({
    name: `official videoroomtest.html in Chromium on rtp: Alice publishes ${codec} ` +
      "(?vcodec=), Bob VP8, each decodes the other in its codec at the width it is sent; " +
      "a switch across codecs is skipped, a resubscription gets its own m-line",
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      assertInsideNetns();
      await requireOfficialDemos("videoroomtest.html");
      const config = everyCodecRoom();
      const media = await startMediaEngine(parseConfig(testConfig(config)));
      assert.ok(media, "media engine");
      await using gw = await startTestGateway(config, { media });
      const browser = await launchChromium();
      try {
        const alice = await openDemo(browser, gw, "alice", {
          publish: true,
          query: `room=${DEMO_ROOM}&vcodec=${codec}`,
        });
        const bob = await openDemo(browser, gw, "bob", { publish: true });
        // The demo shows the preview before the answer: a refused offer shows as a dialog.
        for (const p of [alice, bob]) {
          await pollUntil(`${p.name} published`, async () => {
            const dialog = await dialogText(p.page);
            if (dialog !== "") throw new Error(`${p.name} shows '${dialog}'`);
            return (await videoStreams(p.page, PUBLISHER_PC, "out")).length > 0;
          });
        }
        const describe = async () => {
          const parts = [`${codec}: gateway ${JSON.stringify(gw.counts())}`];
          for (const p of [alice, bob]) {
            const inbound = await videoStreams(p.page, FEEDS_PC, "in").catch(() => []);
            const outbound = await videoStreams(p.page, PUBLISHER_PC, "out").catch(() => []);
            parts.push(
              `--- ${p.name}: in ${JSON.stringify(inbound)} out ${JSON.stringify(outbound)}\n` +
                p.log.tail(40),
            );
          }
          return parts.join("\n");
        };
        for (
          const [viewer, sender, mime] of [
            [bob, alice, `video/${codec.toUpperCase()}`],
            [alice, bob, "video/VP8"],
          ] as const
        ) {
          const seen = await pollUntil(
            `${viewer.name} decoding ${sender.name}'s ${mime}`,
            async () => {
              const [s] = await videoStreams(viewer.page, FEEDS_PC, "in");
              return s && s.frames > 30 ? s : undefined;
            },
            { describe, timeoutMs: 30_000 },
          );
          assert.equal(seen.mimeType, mime, await describe());
          // What the publisher sends now and what its viewer decodes: one size (the encoder
          // may adapt meanwhile, so both are read again until they agree).
          await pollUntil(`${viewer.name} at ${sender.name}'s width`, async () => {
            const [sent] = await videoStreams(sender.page, PUBLISHER_PC, "out");
            const [got] = await videoStreams(viewer.page, FEEDS_PC, "in");
            return sent && got && sent.mimeType === mime && sent.width > 0 &&
              sent.width === got.width;
          }, { describe });
        }
        await switchAndResubscribe(bob.page, codec, describe);
        for (const p of [alice, bob]) {
          const dialogs = await clickPastDialogs(p.page, "#start");
          assert.deepEqual(dialogs, [], `${p.name} dialogs: ${dialogs.join(" | ")}`);
        }
        await untilNothingLeft(gw, describe);
      } finally {
        await browser.close();
      }
    },
  });
}

/** ffmpeg's test pattern, 640x480 at 30 fps, as RTP of each codec to a Streaming port. */
const FFMPEG_VIDEO = {
  h264: {
    pt: 126,
    fmtp: "profile-level-id=42e01f;packetization-mode=1",
    args: ["-c:v", "libx264", "-profile:v", "baseline", "-preset", "ultrafast"]
      .concat(["-tune", "zerolatency", "-pix_fmt", "yuv420p"]),
  },
  vp9: {
    pt: 98,
    fmtp: "profile-id=0",
    // ffmpeg calls its VP9 packetizer experimental.
    args: ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M"]
      .concat(["-strict", "experimental"]),
  },
} as const;

Deno.test({
  name: "official streamingtest.html in Chromium: mountpoints fed H.264 and VP9 RTP by ffmpeg " +
    "play in their codec at 640x480",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assertInsideNetns();
    await requireOfficialDemos("streamingtest.html");
    const entries = Object.entries(FFMPEG_VIDEO);
    const ports = await Promise.all(entries.map(() => freeEvenUdpPort()));
    await using gw = await startStreamingGateway({
      plugins: {
        "janus.plugin.streaming": {
          mountpoints: entries.map(([codec, v], i) => ({
            type: "rtp",
            id: 11 + i,
            description: `${codec} from ffmpeg`,
            media: [{ type: "video", mid: "v", port: ports[i], pt: v.pt, codec, fmtp: v.fmtp }],
          })),
        },
      },
    });
    const ffmpegs = entries.map(([, v], i) =>
      new Deno.Command("ffmpeg", {
        args: [
          ...["-hide_banner", "-loglevel", "error", "-re"],
          ...["-f", "lavfi", "-i", "testsrc=size=640x480:rate=30"],
          ...v.args,
          ...["-g", "30", "-payload_type", String(v.pt), "-f", "rtp"],
          `rtp://127.0.0.1:${ports[i]}`,
        ],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).spawn()
    );
    const browser = await launchChromium();
    try {
      for (const [i, [codec]] of entries.entries()) {
        const page = await (await browser.newContext()).newPage();
        const log = capturePageLog(page, `streaming-${codec}`);
        const pcs = "return [globalThis.streaming && globalThis.streaming.webrtcStuff.pc];";
        const describe = async () => {
          const dialog = await dialogText(page).catch(() => "");
          const streams = await videoStreams(page, pcs, "in").catch(() => []);
          return `${codec}: gateway ${JSON.stringify(gw.counts())} ${
            JSON.stringify(streamingCounts(gw))
          }; dialog: ${dialog || "none"}; inbound ${JSON.stringify(streams)}\n${log.tail(80)}`;
        };
        await startDemo(page, officialDemoUrl(gw, "http", "streamingtest.html"));
        const id = String(11 + i);
        await page.locator(`#streamslist a[id='${id}']`).waitFor({ state: "attached" });
        await page.click("#streamset");
        await page.click(`#streamslist a[id='${id}']`);
        await page.click("#watch");
        const seen = await pollUntil(
          `${codec} frames decoded from mountpoint ${id}`,
          async () => {
            const [s] = await videoStreams(page, pcs, "in");
            return s && s.frames > 30 ? s : undefined;
          },
          { describe, timeoutMs: 30_000 },
        );
        assert.equal(seen.mimeType, `video/${codec.toUpperCase()}`, await describe());
        assert.equal(seen.width, 640, await describe());
        await stopWatching(page, gw, describe);
        await page.context().close();
      }
    } finally {
      await browser.close();
      for (const ffmpeg of ffmpegs) await stopFfmpeg(ffmpeg);
    }
  },
});
