/**
 * End-to-end quality of the VideoRoom on the rtp engine (issue 10), on the OFFICIAL
 * `videoroomtest.html` over HTTP in headless Chromium: two pages publish the fake camera
 * (640x480 at 30 fps) and each decodes the other's full 640x480 at 20 fps or more for 60 s,
 * with no freeze after the first second and audio flowing. A third page's probe subscriber
 * then sees video again after `pause` + `start`, `switch`, and `start` right after a switch.
 * The time each takes is a bench figure (`deno task bench --only=browser`), not asserted here
 * beyond a generous 5 s.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../core/config.ts";
import { startMediaEngine } from "../../core/media/start.ts";
import { launchChromium, pollUntil } from "../_helpers/browser.ts";
import { startTestGateway, testConfig } from "../_helpers/gateway.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { clickPastDialogs, requireOfficialDemos, untilNothingLeft } from "./official_demos.ts";
import {
  attachProbe,
  type DemoPage,
  detachProbe,
  FAKE_CAMERA_30FPS,
  formatTiming,
  loadAverage,
  openDemo,
  probeRequest,
  probeStopped,
  publisherId,
  qualityConfig,
  type QualitySample,
  qualityWindow,
  sampleQuality,
} from "./videoroom_quality.ts";

const WINDOW_MS = 60_000;
const SAMPLE_EVERY_MS = 5_000;
/** Generous: video must come back, how fast is the bench's business. */
const VIDEO_BACK_MS = 5_000;

Deno.test({
  name: "official videoroomtest.html, two Chromium publishers on rtp over http for 60 s: " +
    "each decodes the other's 640x480 at >= 20 fps, no freeze, audio flows; a probe " +
    "subscriber sees video again after pause/start, switch and start right after a switch",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    assertInsideNetns();
    await requireOfficialDemos("videoroomtest.html");
    const config = qualityConfig();
    const media = await startMediaEngine(parseConfig(testConfig(config)));
    assert.ok(media, "media engine");
    await using gw = await startTestGateway(config, { media });
    const browser = await launchChromium(FAKE_CAMERA_30FPS);
    const pages: DemoPage[] = [];
    const describe = () =>
      [`gateway: ${JSON.stringify(gw.counts())}`, ...pages.map((p) => p.log.tail(30))]
        .join("\n");
    try {
      for (const name of ["alice", "bob"]) {
        pages.push(await openDemo(browser, gw, name, { publish: true }));
      }
      const [alice, bob] = pages as [DemoPage, DemoPage];
      // Each decodes the other at the camera's full size (the encoder starts there when no
      // bitrate cap holds it back).
      for (const p of pages) {
        await pollUntil(`${p.name} decoding 640x480`, async () => {
          const s = await sampleQuality(p.page);
          return s.video.frameWidth === 640 && s.video.frameHeight === 480;
        }, { timeoutMs: 30_000, describe });
      }
      // Freezes in the first second are allowed; the window starts after it.
      await new Promise((r) => setTimeout(r, 1_000));
      const first = await Promise.all(pages.map((p) => sampleQuality(p.page)));
      const samples: QualitySample[][] = first.map((s) => [s]);
      const loads = [loadAverage()];
      for (let waited = 0; waited < WINDOW_MS; waited += SAMPLE_EVERY_MS) {
        await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
        const now = await Promise.all(pages.map((p) => sampleQuality(p.page)));
        now.forEach((s, i) => samples[i]!.push(s));
        loads.push(loadAverage());
      }
      for (const [i, p] of pages.entries()) {
        const other = pages[1 - i]!;
        const mine = samples[i]!;
        const theirs = samples[1 - i]!;
        const w = qualityWindow(mine[0]!, mine[mine.length - 1]!);
        const sent = theirs[theirs.length - 1]!.sent;
        const detail = `${p.name} over ${w.seconds.toFixed(1)} s: ${JSON.stringify(w)}; ` +
          `${other.name} sends ${sent.frameWidth}x${sent.frameHeight} at ` +
          `${sent.framesPerSecond} fps from a ${sent.sourceWidth}x${sent.sourceHeight} ` +
          `${sent.sourceFramesPerSecond} fps camera, quality limited by ` +
          `'${sent.qualityLimitationReason}' ${JSON.stringify(sent.qualityLimitationDurations)}; ` +
          `freezes per ${SAMPLE_EVERY_MS / 1000} s: ` +
          `${mine.slice(1).map((s, j) => s.video.freezeCount - mine[j]!.video.freezeCount)}; ` +
          `load average: ${loads.map((l) => l?.toFixed(1) ?? "?")}`;
        assert.deepEqual(
          [sent.sourceWidth, sent.sourceHeight],
          [640, 480],
          `the fake camera: ${detail}`,
        );
        const sizes = mine.map((s) => `${s.video.frameWidth}x${s.video.frameHeight}`);
        assert.deepEqual(sizes, sizes.map(() => "640x480"), `decoded sizes: ${detail}`);
        assert.ok(w.fps >= 20, `decoded fps: ${detail}`);
        assert.equal(w.freezes, 0, `freezes: ${detail}`);
        assert.ok(w.audioPackets > 0 && w.audioBytes > 0, `audio: ${detail}`);
        // Audio kept flowing through the window, not only at its start.
        const mid = mine[Math.floor(mine.length / 2)]!;
        assert.ok(
          qualityWindow(mid, mine[mine.length - 1]!).audioPackets > 0,
          `audio in the second half: ${detail}`,
        );
      }

      // The probe: a subscriber handle on a third page, through the page's own janus.js.
      const viewer = await openDemo(browser, gw, "viewer", { publish: false });
      pages.push(viewer);
      const [aliceId, bobId] = [await publisherId(alice.page), await publisherId(bob.page)];
      const back = (what: string, t: { frameMs: number | null }, line: string) =>
        assert.ok(t.frameMs !== null && t.frameMs <= VIDEO_BACK_MS, `${what}: ${line}`);
      const join = await attachProbe(viewer.page, bobId, VIDEO_BACK_MS);
      back("video after join", join, `${formatTiming(join)}\n${describe()}`);
      const pause = async () => {
        const t = await probeRequest(viewer.page, { request: "pause" }, { awaitFrame: false });
        assert.notEqual(t.eventMs, null, `paused event: ${formatTiming(t)}`);
      };
      const step = async (what: string, message: Record<string, unknown>) => {
        const t = await probeRequest(viewer.page, message, {
          awaitFrame: true,
          timeoutMs: VIDEO_BACK_MS,
        });
        back(what, t, `${formatTiming(t)}\n${describe()}`);
      };
      await pause();
      await probeStopped(viewer.page);
      await step("video after start (resume)", { request: "start" });
      await new Promise((r) => setTimeout(r, 1_000));
      await step("video after switch", { request: "switch", feed: aliceId });
      // Right after the switch's keyframe: the publisher's keyframe limiter is still in its
      // interval.
      await pause();
      await step("video after start right after a switch", { request: "start" });
      await detachProbe(viewer.page);

      // Stop on every page destroys its session; nothing is left on the gateway.
      for (const { name, page } of pages) {
        const dialogs = await clickPastDialogs(page, "#start");
        assert.deepEqual(dialogs, [], `${name}: dialogs before Stop:\n${describe()}`);
      }
      await untilNothingLeft(gw, describe);
    } finally {
      await browser.close();
    }
  },
});
