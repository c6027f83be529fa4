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
import { capturePageLog, launchChromium, type PageLog, pollUntil } from "../_helpers/browser.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { audioBridgeCounts, startAudioBridgeGateway } from "../plugins/_audiobridge.ts";
import {
  DEMO_TRANSPORTS,
  dialogText,
  officialDemoUrl,
  requireOfficialDemos,
} from "./official_demos.ts";

interface Participant {
  name: string;
  page: Page;
  log: PageLog;
}

/** The demo's inbound audio: energy, packets and level summed over its PeerConnection. */
function inboundAudio(page: Page): Promise<{ energy: number; packets: number; level: number }> {
  return page.evaluate(async () => {
    type StatsPc = { getStats(): Promise<Map<string, unknown>> };
    const g = globalThis as unknown as { mixertest?: { webrtcStuff?: { pc?: StatsPc } } };
    const pc = g.mixertest?.webrtcStuff?.pc;
    const out = { energy: 0, packets: 0, level: 0 };
    if (!pc) return out;
    (await pc.getStats()).forEach((value) => {
      const r = value as {
        type: string;
        kind?: string;
        totalAudioEnergy?: number;
        packetsReceived?: number;
        audioLevel?: number;
      };
      if (r.type !== "inbound-rtp" || r.kind !== "audio") return;
      out.energy += r.totalAudioEnergy ?? 0;
      out.packets += r.packetsReceived ?? 0;
      out.level = Math.max(out.level, r.audioLevel ?? 0);
    });
    return out;
  });
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
      const people: Participant[] = [];
      const describe = async () => {
        const full = await Deno.makeTempFile({
          prefix: `audiobridge_${transport}_`,
          suffix: ".log",
        });
        await Deno.writeTextFile(full, people.map((p) => p.log.lines.join("\n")).join("\n"));
        const parts = [
          `gateway: ${JSON.stringify(gw.counts())} plugin: ${
            JSON.stringify(audioBridgeCounts(gw))
          }; full page logs: ${full}`,
        ];
        for (const p of people) {
          const dialog = await dialogText(p.page).catch(() => "");
          parts.push(`--- ${p.name} (dialog: ${dialog || "none"})\n${p.log.tail(60)}`);
        }
        return parts.join("\n");
      };
      const noDialogs = async (step: string) => {
        for (const p of people) {
          const text = await dialogText(p.page);
          assert.equal(text, "", `${step}: ${p.name} shows '${text}':\n${await describe()}`);
        }
      };
      try {
        const url = officialDemoUrl(gw, transport, "audiobridgetest.html");
        for (const name of ["alice", "bob"]) {
          const page = await (await browser.newContext()).newPage();
          people.push({ name, page, log: capturePageLog(page, name) });
        }
        for (const { name, page } of people) {
          await page.goto(url);
          await page.click("#start");
          await page.waitForSelector("#username", { state: "visible", timeout: 20_000 })
            .catch(async (e) => {
              throw new Error(`${name}: no username field (${e}):\n${await describe()}`);
            });
          await page.fill("#username", name);
          await page.click("#register");
          await pollUntil(
            `${name} in the room`,
            async () => (await page.locator("#participant").textContent()) === name,
            { describe },
          );
        }
        await noDialogs("after joining");

        const [alice, bob] = people as [Participant, Participant];
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
              const a = await inboundAudio(me.page);
              return a.packets > 50 ? a : undefined;
            },
            { describe, timeoutMs: 20_000 },
          );
          const later = await pollUntil(
            `${me.name} hearing sound in the mix`,
            async () => {
              const a = await inboundAudio(me.page);
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
        await pollUntil(
          "no sessions, handles or peers left",
          () => {
            const c = gw.counts();
            return Promise.resolve(c.sessions === 0 && c.handles === 0 && c.peers === 0);
          },
          { describe },
        );
        assert.deepEqual(audioBridgeCounts(gw), { rooms: 1, participants: 0, sessions: 0 });
      } finally {
        await browser.close();
      }
    },
  });
}
