/**
 * The OFFICIAL EchoTest demo (`echotest.html` from Debian `janus-demos`, with its own janus.js
 * 1.1.2) in headless Chromium with fake media: echoed video decodes, a data channel message
 * comes back, Stop destroys the session; nothing is left on the gateway.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../core/config.ts";
import { startMediaEngine } from "../../core/media/start.ts";
import { ECHOTEST_DATA_PREFIX } from "../../plugins/echotest/mod.ts";
import { capturePageLog, launchChromium, pollUntil } from "../_helpers/browser.ts";
import { startTestGateway, testConfig } from "../_helpers/gateway.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import {
  clickPastDialogs,
  DEMO_TRANSPORTS,
  dialogText,
  framesDecoded,
  officialDemoUrl,
  requireOfficialDemos,
  startDemo,
  untilNothingLeft,
} from "./official_demos.ts";

const ECHO_PC = "return [globalThis.echotest && globalThis.echotest.webrtcStuff.pc];";

/** Each transport under its prefix, plus WebSockets picked by `?transport=ws` (Referer). */
const VARIANTS = [
  ...DEMO_TRANSPORTS.map((transport) => ({ transport, how: "" })),
  { transport: "ws", how: " (unprefixed page, ?transport=ws)" },
] as const;

for (
  const { transport, how, engine } of (["wrtc", "rtp"] as const).flatMap((engine) =>
    VARIANTS.map((v) => ({ ...v, engine }))
  )
) {
  Deno.test({
    name: `official echotest.html in Chromium on ${engine} over ${transport}${how}: ` +
      "echoed frames, data, stop",
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      assertInsideNetns();
      await requireOfficialDemos("echotest.html");
      // EchoTest on the engine under test (the rtp one forwards without decoding).
      const config = { media: { workers: 1, engines: { "janus.plugin.echotest": engine } } };
      const media = await startMediaEngine(parseConfig(testConfig(config)));
      assert.ok(media, "media engine");
      await using gw = await startTestGateway(config, { media });
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const log = capturePageLog(page, "echotest");
        const describe = async () => {
          const dialog = await dialogText(page).catch(() => "");
          return `gateway: ${JSON.stringify(gw.counts())}; dialog: ${dialog || "none"}\n` +
            log.tail(80);
        };
        await startDemo(
          page,
          how === ""
            ? officialDemoUrl(gw, transport, "echotest.html")
            : `http://127.0.0.1:${gw.app.ports.http}/demos/echotest.html?transport=ws`,
        );
        const frames = await pollUntil(
          "decoded echoed frames",
          async () => {
            const n = await framesDecoded(page, ECHO_PC);
            return n > 10 ? n : undefined;
          },
          { describe, timeoutMs: 30_000 },
        );
        assert.ok(frames > 10, `frames decoded: ${frames}`);
        assert.equal(gw.counts().sockets, transport === "ws" ? 1 : 0, "Janus WebSockets open");
        await page.locator("#datasend:enabled").waitFor({ timeout: 20_000 }).catch(async (e) => {
          throw new Error(`data channel never opened (${e}):\n${await describe()}`);
        });
        await page.fill("#datasend", "ping from chromium");
        await page.press("#datasend", "Enter");
        const echo = await pollUntil(
          "data channel echo",
          async () => (await page.inputValue("#datarecv")) || undefined,
          { describe },
        );
        assert.equal(echo, `${ECHOTEST_DATA_PREFIX}ping from chromium`);
        const dialogs = await clickPastDialogs(page, "#start");
        assert.deepEqual(dialogs, [], `dialogs: ${dialogs.join(" | ")}`);
        await untilNothingLeft(gw, describe);
      } finally {
        await browser.close();
      }
    },
  });
}
