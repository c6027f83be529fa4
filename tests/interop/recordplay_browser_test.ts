/**
 * The OFFICIAL Record&Play demo (`recordplaytest.html` from Debian `janus-demos`, with its own
 * janus.js 1.1.2) in headless Chromium over HTTP and WebSockets: the page records its fake
 * camera and microphone under a name typed into its prompt, its Pause/Resume button leaves a
 * gap with nothing written in the video file, Stop shows "Recording completed!",
 * the refreshed list shows the recording, Play decodes it back, and at the end of the files the
 * page is ready for the next round; nothing is left on the gateway.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { capturePageLog, launchChromium, pollUntil } from "../_helpers/browser.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { longestGapMs, mjrFrames, recordPlayGateway } from "../plugins/_recordplay.ts";
import {
  clickPastDialogs,
  DEMO_TRANSPORTS,
  dialogText,
  dismissDialogs,
  framesDecoded,
  officialDemoUrl,
  requireOfficialDemos,
  startDemo,
} from "./official_demos.ts";

/** How long the demo's recording is paused. */
const PAUSE_MS = 2000;
const RECORDPLAY_PC = "return [globalThis.recordplay && globalThis.recordplay.webrtcStuff.pc];";

for (const transport of DEMO_TRANSPORTS) {
  Deno.test({
    name: `official recordplaytest.html in Chromium over ${transport}: record, list, play back`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      assertInsideNetns();
      await requireOfficialDemos("recordplaytest.html");
      const dir = await Deno.makeTempDir({ prefix: "rp-demo-" });
      await using gw = await recordPlayGateway(dir, true);
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const log = capturePageLog(page, "recordplaytest");
        const describe = async () => {
          const dialog = await dialogText(page).catch(() => "");
          return `gateway: ${JSON.stringify(gw.counts())}; dialog: ${dialog || "none"}\n` +
            log.tail(80);
        };
        await startDemo(page, officialDemoUrl(gw, transport, "recordplaytest.html"));
        await page.locator("#record:not([disabled])").waitFor({ timeout: 15_000 });
        // Record under a name typed into the demo's prompt.
        await page.click("#record");
        await page.locator(".bootbox-input").waitFor({ state: "visible", timeout: 5_000 });
        await page.fill(".bootbox-input", "Chromium says hello");
        await page.click(".bootbox .bootbox-accept");
        await pollUntil(
          "recording",
          async () => (await page.locator("#videotitle").textContent()) === "Recording...",
          { describe, timeoutMs: 15_000 },
        );
        await new Promise((resolve) => setTimeout(resolve, 1500));
        // The demo's Pause button, then Resume: nothing is written in between.
        const pauseButton = page.locator("#pause-resume");
        await pauseButton.click();
        await pollUntil(
          "Resume shown",
          async () => (await pauseButton.textContent()) === "Resume",
          {
            describe,
          },
        );
        await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
        await pauseButton.click();
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const before = await dialogText(page).catch(() => "");
        assert.equal(before, "", "no dialog while recording");
        await page.click("#stop");
        const texts = await pollUntil("the completed dialog", async () => {
          const t = await dialogText(page).catch(() => "");
          return t.includes("Recording completed") ? t : undefined;
        }, { describe, timeoutMs: 10_000 });
        assert.match(texts, /Recording completed!/);
        // Its OK button once the dialog has faded in.
        await page.locator(".bootbox .bootbox-accept").waitFor({ state: "visible" });
        await dismissDialogs(page);
        const nfo = [...Deno.readDirSync(dir)].find((e) => e.name.endsWith(".nfo"));
        assert.ok(nfo, "a .nfo written");
        const video = /video = (\S+)/.exec(Deno.readTextFileSync(join(dir, nfo.name)))?.[1];
        assert.ok(video, "a video file");
        const gap = longestGapMs(mjrFrames(Deno.readFileSync(join(dir, video))));
        assert.ok(gap > PAUSE_MS - 300, `${gap} ms without video written, paused ${PAUSE_MS} ms`);
        // The refreshed list has it; play it.
        const entry = page.locator("#recslist a", { hasText: "Chromium says hello" });
        await pollUntil("the recording listed", async () => {
          await page.click("#list").catch(() => {});
          return (await entry.count()) > 0;
        }, { describe, timeoutMs: 10_000 });
        const seen = await clickPastDialogs(page, "#recset");
        await entry.first().click();
        seen.push(...await clickPastDialogs(page, "#play"));
        assert.deepEqual(seen, [], "no dialog before playing");
        const frames = await pollUntil(
          "decoded playback frames",
          async () => {
            const n = await framesDecoded(page, RECORDPLAY_PC);
            return n > 20 ? n : undefined;
          },
          { describe, timeoutMs: 20_000 },
        );
        assert.ok(frames > 20, `frames decoded: ${frames}`);
        // At the end of the files the plugin hangs up and the page can record again.
        await pollUntil(
          "the playout over",
          async () =>
            gw.counts().peers === 0 && (await page.locator("#record:not([disabled])").count()) > 0,
          { describe, timeoutMs: 20_000 },
        );
        assert.equal(await dialogText(page).catch(() => ""), "", "no error dialog");
      } finally {
        await browser.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
