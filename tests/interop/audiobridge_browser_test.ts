/**
 * The OFFICIAL AudioBridge demo (`audiobridgetest.html` from Debian `janus-demos`, with its own
 * janus.js 1.1.2) in two headless Chromium contexts with fake media (a beeping microphone),
 * over HTTP and WebSocket: both join the stock room 1234, each lists the other as a set-up
 * participant, and each decodes NON-SILENT audio from the room's mix (inbound audio energy
 * grows); no error dialog shows at any step; both stop and nothing is left.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchChromium, pollUntil } from "../_helpers/browser.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { audioBridgeCounts, startAudioBridgeGateway } from "../plugins/_audiobridge.ts";
import {
  DEMO_TRANSPORTS,
  type DemoParticipant,
  inboundAudio,
  officialDemoUrl,
  openDemoPages,
  requireOfficialDemos,
  startAndRegister,
  untilNothingLeft,
} from "./official_demos.ts";

/** The demo's inbound audio: energy, packets and level over its PeerConnection. */
function mixerAudio(page: Page): Promise<{ energy: number; packets: number; level: number }> {
  return inboundAudio(
    page,
    "return [globalThis.mixertest && globalThis.mixertest.webrtcStuff.pc];",
  );
}

/** Display names in the demo's participant list (the others; it never lists itself). */
async function listed(page: Page): Promise<string[]> {
  return (await page.locator("#list li").allTextContents()).map((t) => t.trim());
}

for (const transport of DEMO_TRANSPORTS) {
  Deno.test({
    name: `official audiobridgetest.html, two Chromium pages over ${transport}: both join room ` +
      "1234, each lists the other, each hears the other's beep in the mix, no error dialog",
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      assertInsideNetns();
      await requireOfficialDemos("audiobridgetest.html");
      await using gw = await startAudioBridgeGateway();
      const browser = await launchChromium();
      try {
        const demo = await openDemoPages(browser, ["alice", "bob"], {
          logPrefix: `audiobridge_${transport}`,
          state: () =>
            `gateway: ${JSON.stringify(gw.counts())} plugin: ${
              JSON.stringify(audioBridgeCounts(gw))
            }`,
        });
        const { people, describe, noDialogs } = demo;
        await startAndRegister(
          demo,
          officialDemoUrl(gw, transport, "audiobridgetest.html"),
          "in the room",
          async (page, name) => (await page.locator("#participant").textContent()) === name,
        );
        await noDialogs("after joining");

        const [alice, bob] = people as [DemoParticipant, DemoParticipant];
        for (const [me, other] of [[alice, bob], [bob, alice]] as const) {
          await pollUntil(
            `${me.name} listing ${other.name} as set up`,
            async () => {
              const names = await listed(me.page);
              // A participant not set up yet shows the demo's "absetup" icon.
              const pending = await me.page.locator("#list li i.absetup:visible").count();
              return names.length === 1 && names[0]!.startsWith(other.name) && pending === 0;
            },
            { describe },
          );
        }

        // The fake microphone beeps: the other's beep in the mix makes the energy grow.
        for (const me of people) {
          const first = await pollUntil(
            `${me.name} receiving the mix`,
            async () => {
              const a = await mixerAudio(me.page);
              return a.packets > 50 ? a : undefined;
            },
            { describe, timeoutMs: 20_000 },
          );
          const later = await pollUntil(
            `${me.name} hearing sound in the mix`,
            async () => {
              const a = await mixerAudio(me.page);
              return a.energy > first.energy + 0.05 && a.packets > first.packets + 100
                ? a
                : undefined;
            },
            { describe, timeoutMs: 20_000 },
          );
          assert.ok(later.energy > first.energy, `${me.name}: ${JSON.stringify({ first, later })}`);
        }
        await noDialogs("in the room");
        const c = audioBridgeCounts(gw);
        assert.equal(c.participants, 2);
        assert.equal(gw.counts().peers, 2);

        for (const { page } of people) await page.click("#start");
        await untilNothingLeft(gw, describe);
        assert.deepEqual(audioBridgeCounts(gw), { rooms: 1, participants: 0, sessions: 0 });
      } finally {
        await browser.close();
      }
    },
  });
}
