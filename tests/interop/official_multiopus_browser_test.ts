/**
 * The OFFICIAL multiopus demo (`multiopus.html` from Debian `janus-demos`): Chromium offers
 * surround Opus (`multiopus/48000/6` with its channel mapping) to EchoTest on the RTP engine,
 * which answers it and echoes the packets as they come; the page decodes the echoed audio (and
 * video) as it does with the reference. Then Stop, and nothing is left on the gateway.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../core/config.ts";
import { startMediaEngine } from "../../core/media/start.ts";
import { capturePageLog, launchChromium, pollUntil } from "../_helpers/browser.ts";
import { startTestGateway, testConfig } from "../_helpers/gateway.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import {
  clickPastDialogs,
  DEMO_TRANSPORTS,
  dialogText,
  framesDecoded,
  inboundAudio,
  officialDemoUrl,
  requireOfficialDemos,
  startDemo,
  untilNothingLeft,
} from "./official_demos.ts";

const ECHO_PC = "return [globalThis.echotest && globalThis.echotest.webrtcStuff.pc];";

for (const transport of DEMO_TRANSPORTS) {
  Deno.test({
    name: `official multiopus.html in Chromium over ${transport}: surround Opus echoed and heard`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      assertInsideNetns();
      await requireOfficialDemos("multiopus.html");
      const config = {
        media: { workers: 1, engines: { "janus.plugin.echotest": "rtp" as const } },
      };
      const media = await startMediaEngine(parseConfig(testConfig(config)));
      assert.ok(media, "media engine");
      await using gw = await startTestGateway(config, { media });
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const log = capturePageLog(page, "multiopus");
        const describe = async () => {
          const dialog = await dialogText(page).catch(() => "");
          return `gateway: ${JSON.stringify(gw.counts())}; dialog: ${dialog || "none"}\n` +
            log.tail(80);
        };
        await startDemo(page, officialDemoUrl(gw, transport, "multiopus.html"));
        await pollUntil(
          "echoed audio and video",
          async () => {
            const audio = await inboundAudio(page, ECHO_PC);
            const frames = await framesDecoded(page, ECHO_PC);
            return audio.packets > 100 && audio.energy > 0 && frames > 10 ? true : undefined;
          },
          { describe, timeoutMs: 30_000 },
        );
        // What was negotiated is surround Opus, six channels.
        const codecs = await page.evaluate(async () => {
          const pc = (globalThis as unknown as {
            echotest: { webrtcStuff: { pc: { getStats(): Promise<Map<string, unknown>> } } };
          }).echotest.webrtcStuff.pc;
          const out: string[] = [];
          (await pc.getStats()).forEach((value) => {
            const r = value as { type: string; mimeType?: string; channels?: number };
            if (r.type === "codec" && r.mimeType?.startsWith("audio/")) {
              out.push(`${r.mimeType}/${r.channels}`);
            }
          });
          return out;
        });
        assert.ok(codecs.includes("audio/multiopus/6"), `codecs: ${codecs.join(", ")}`);
        const dialogs = await clickPastDialogs(page, "#start");
        assert.deepEqual(dialogs, [], `dialogs: ${dialogs.join(" | ")}`);
        await untilNothingLeft(gw, describe);
      } finally {
        await browser.close();
      }
    },
  });
}
