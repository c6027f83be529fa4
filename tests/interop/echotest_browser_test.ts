import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { startMediaEngine } from "../../core/media/start.ts";
import { parseConfig } from "../../core/config.ts";
import { launchChromium } from "../_helpers/browser.ts";
import { startTestGateway, testConfig } from "../_helpers/gateway.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { ECHOTEST_DATA_PREFIX } from "../../plugins/echotest/mod.ts";

async function waitFor<T>(
  page: Page,
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) {
      const state = await page.evaluate(() =>
        JSON.stringify((globalThis as { demo?: unknown }).demo)
      );
      throw new Error(`Timed out waiting for ${what}; page state: ${state}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Inbound video frames decoded by the page's PeerConnection. */
function framesDecoded(page: Page): Promise<number> {
  return page.evaluate(async () => {
    type StatsPc = { getStats(): Promise<Map<string, unknown>> };
    type Demo = { handle?: { webrtcStuff?: { pc?: StatsPc } } };
    const pc = (globalThis as { demo?: Demo }).demo?.handle?.webrtcStuff?.pc;
    if (!pc) return 0;
    let frames = 0;
    (await pc.getStats()).forEach((value) => {
      const r = value as { type: string; kind?: string; framesDecoded?: number };
      if (r.type === "inbound-rtp" && r.kind === "video") frames += r.framesDecoded ?? 0;
    });
    return frames;
  });
}

for (
  const [transport, engine] of (["wrtc", "rtp"] as const).flatMap((e) =>
    [["http", e], ["ws", e]] as const
  )
) {
  Deno.test({
    name: `janus.js EchoTest demo in Chromium on ${engine} over ${transport}: ` +
      "webrtcup, echoed frames, data",
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      assertInsideNetns();
      // EchoTest on the engine under test (the rtp one forwards without decoding).
      const config = { media: { workers: 1, engines: { "janus.plugin.echotest": engine } } };
      const media = await startMediaEngine(parseConfig(testConfig(config)));
      assert.ok(media, "media engine");
      await using gw = await startTestGateway(config, { media });
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const url = `http://127.0.0.1:${gw.app.ports.http}/demo/?transport=${transport}`;
        await page.goto(url);
        await waitFor(
          page,
          "webrtcup",
          () =>
            page.evaluate(() => (globalThis as { demo?: { webrtcup?: boolean } }).demo?.webrtcup),
        );
        const frames = await waitFor(page, "decoded echoed frames", async () => {
          const n = await framesDecoded(page);
          return n > 10 ? n : undefined;
        });
        assert.ok(frames > 10, `frames decoded: ${frames}`);
        await waitFor(
          page,
          "data channel open",
          () =>
            page.evaluate(() => (globalThis as { demo?: { dataOpen?: boolean } }).demo?.dataOpen),
        );
        await page.fill("#text", "ping from chromium");
        await page.click("#send");
        const echo = await waitFor(
          page,
          "data echo",
          () =>
            page.evaluate(() => (globalThis as { demo?: { dataEcho?: string } }).demo?.dataEcho),
        );
        assert.equal(echo, `${ECHOTEST_DATA_PREFIX}ping from chromium`);
        await page.click("#hangup");
        await waitFor(
          page,
          "result done",
          () =>
            page.evaluate(() =>
              (globalThis as { demo?: { events: string[] } }).demo?.events.includes("done")
            ),
        );
        await page.close();
      } finally {
        await browser.close();
      }
    },
  });
}
