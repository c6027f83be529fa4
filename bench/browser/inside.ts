/**
 * The browser phase, run inside a private network namespace by `run_browser.ts`: our gateway
 * (VideoRoom on the rtp engine), two Chromium pages publishing on the official
 * `videoroomtest.html` over HTTP, and a third page whose probe subscriber (through the page's
 * janus.js) times `join`, `start` after `pause`, `switch`, and `start` right after a switch.
 * Prints progress, then one result line.
 *
 * @module
 */
import { parseConfig } from "../../core/config.ts";
import { startMediaEngine } from "../../core/media/start.ts";
import { launchChromium } from "../../tests/_helpers/browser.ts";
import { startTestGateway, testConfig } from "../../tests/_helpers/gateway.ts";
import { clickPastDialogs, requireOfficialDemos } from "../../tests/interop/official_demos.ts";
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
  sampleQuality,
} from "../../tests/interop/videoroom_quality.ts";
import { readFlags } from "../flags.ts";
import { print } from "../print.ts";
import {
  BROWSER_RESULT_PREFIX,
  type BrowserBenchOptions,
  type BrowserBenchResult,
} from "./results.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(options: BrowserBenchOptions): Promise<BrowserBenchResult> {
  await requireOfficialDemos("videoroomtest.html");
  const config = qualityConfig(options.workers);
  const media = await startMediaEngine(parseConfig(testConfig(config)));
  if (!media) throw new Error("no media engine");
  await using gw = await startTestGateway(config, { media });
  const browser = await launchChromium(FAKE_CAMERA_30FPS);
  const result: BrowserBenchResult = {
    joinMs: [],
    resumeMs: [],
    switchMs: [],
    resumeAfterSwitchMs: [],
    sent: "",
    loadAverage: [loadAverage()],
  };
  const pages: DemoPage[] = [];
  try {
    for (const name of ["alice", "bob"]) {
      pages.push(await openDemo(browser, gw, name, { publish: true }));
    }
    const viewer = await openDemo(browser, gw, "viewer", { publish: false });
    pages.push(viewer);
    const ids = [await publisherId(pages[0]!.page), await publisherId(pages[1]!.page)];
    await sleep(3_000);
    const join = await attachProbe(viewer.page, ids[1]!);
    print(`    join: ${formatTiming(join)}`);
    result.joinMs.push(join.frameMs);
    const frame = async (message: Record<string, unknown>) =>
      await probeRequest(viewer.page, message, { awaitFrame: true });
    for (let round = 0; round < options.rounds; round++) {
      await sleep(1_500);
      await probeRequest(viewer.page, { request: "pause" }, { awaitFrame: false });
      await probeStopped(viewer.page);
      await sleep(1_000);
      const resume = await frame({ request: "start" });
      result.resumeMs.push(resume.frameMs);
      await sleep(1_500);
      const target = ids[round % 2]!;
      const sw = await frame({ request: "switch", feed: target });
      result.switchMs.push(sw.frameMs);
      await probeRequest(viewer.page, { request: "pause" }, { awaitFrame: false });
      const quick = await frame({ request: "start" });
      result.resumeAfterSwitchMs.push(quick.frameMs);
      print(
        `    round ${round + 1}/${options.rounds}: start ${formatTiming(resume)}; ` +
          `switch ${formatTiming(sw)}; start after switch ${formatTiming(quick)}`,
      );
    }
    await detachProbe(viewer.page);
    const sent = await Promise.all(pages.slice(0, 2).map((p) => sampleQuality(p.page)));
    result.sent = sent.map((s, i) =>
      `${pages[i]!.name} sends ${s.sent.frameWidth}x${s.sent.frameHeight} at ` +
      `${s.sent.framesPerSecond} fps (limited by '${s.sent.qualityLimitationReason}'), ` +
      `decodes ${s.video.frameWidth}x${s.video.frameHeight}`
    ).join("; ");
    result.loadAverage.push(loadAverage());
    for (const { page } of pages) await clickPastDialogs(page, "#start").catch(() => []);
    for (let i = 0; i < 100 && (gw.counts().sessions ?? 0) > 0; i++) await sleep(100);
  } finally {
    await browser.close();
  }
  return result;
}

if (import.meta.main) {
  const options: BrowserBenchOptions = { rounds: 5, workers: 1 };
  for (const { name, value } of readFlags(Deno.args, new Set())) {
    if (name === "options") Object.assign(options, JSON.parse(value) as BrowserBenchOptions);
  }
  const result = await run(options);
  print(BROWSER_RESULT_PREFIX + JSON.stringify(result));
  Deno.exit(0);
}
