/**
 * The OFFICIAL Streaming demo (`streamingtest.html` from Debian `janus-demos`, with its own
 * janus.js 1.1.2) in headless Chromium over HTTP and WebSockets: the page lists the stock
 * mountpoints, watches mountpoint 1 (`rtp-sample`, fed by ffmpeg on its ports 5002/5004 as the
 * demo's gstreamer script would) and decodes its video; Stop ends the viewer; then the on-demand
 * file mountpoint 3 (Debian's `music.mulaw`) plays its audio; nothing is left.
 *
 * @module
 */
import assert from "node:assert/strict";
import { capturePageLog, launchChromium, pollUntil } from "../_helpers/browser.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { ffmpegSource, startStreamingGateway, streamingCounts } from "../plugins/_streaming.ts";
import {
  DEMO_TRANSPORTS,
  dialogText,
  framesDecoded,
  inboundAudio,
  officialDemoUrl,
  requireOfficialDemos,
  startDemo,
  stopWatching,
} from "./official_demos.ts";

const STREAMING_PC = "return [globalThis.streaming && globalThis.streaming.webrtcStuff.pc];";

for (const transport of DEMO_TRANSPORTS) {
  Deno.test({
    name: `official streamingtest.html in Chromium over ${transport}: list, watch mountpoint 1, ` +
      "frames, stop; the on-demand file mountpoint 3's audio",
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      assertInsideNetns();
      await requireOfficialDemos("streamingtest.html");
      // The stock mountpoints (1 and 123), as the reference's configuration has them.
      await using gw = await startStreamingGateway({
        plugins: { "janus.plugin.streaming": { mountpoints: undefined } },
      });
      const ffmpeg = ffmpegSource(5004, 5002);
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const log = capturePageLog(page, "streamingtest");
        const describe = async () => {
          const dialog = await dialogText(page).catch(() => "");
          return `gateway: ${JSON.stringify(gw.counts())} ${
            JSON.stringify(streamingCounts(gw))
          }; dialog: ${dialog || "none"}\n` + log.tail(80);
        };
        await startDemo(page, officialDemoUrl(gw, transport, "streamingtest.html"));
        await page.locator("#streamslist a[id='1']").waitFor({ state: "attached" });
        await page.click("#streamset");
        await page.click("#streamslist a[id='1']");
        await page.click("#watch");
        const frames = await pollUntil(
          "decoded frames of mountpoint 1",
          async () => {
            const n = await framesDecoded(page, STREAMING_PC);
            return n > 30 ? n : undefined;
          },
          { describe, timeoutMs: 30_000 },
        );
        assert.ok(frames > 30, `frames decoded: ${frames}`);
        assert.equal(streamingCounts(gw).viewers, 1);
        // The page's metadata box shows what `info` returned.
        assert.match(await page.locator("#metadata").textContent() ?? "", /metadata section/);
        await stopWatching(page, gw, describe);

        // The on-demand file mountpoint 3 (Debian's music.mulaw): its audio plays, from the
        // start, on a source of this viewer's own.
        const sources = streamingCounts(gw).sources;
        await page.click("#streamset");
        await page.click("#streamslist a[id='3']");
        await page.click("#watch");
        const audio = await pollUntil(
          "audio of mountpoint 3",
          async () => {
            const a = await inboundAudio(page, STREAMING_PC);
            return a.packets > 100 && a.energy > 0 ? a : undefined;
          },
          { describe, timeoutMs: 30_000 },
        );
        assert.ok(audio.level > 0, `audio level ${audio.level}`);
        assert.equal(streamingCounts(gw).sources, sources + 1, "the viewer's own source");
        await page.click("#watch");
        await pollUntil(
          "the on-demand viewer and its source gone",
          () =>
            Promise.resolve(
              streamingCounts(gw).viewers === 0 && gw.counts().peers === 0 &&
                streamingCounts(gw).sources === sources,
            ),
          { describe },
        );
        assert.equal(await dialogText(page).catch(() => ""), "", "no error dialog");
      } finally {
        await browser.close();
        try {
          ffmpeg.kill("SIGTERM");
        } catch {
          // Already gone.
        }
        await ffmpeg.status;
        await ffmpeg.stderr.cancel();
      }
    },
  });
}
