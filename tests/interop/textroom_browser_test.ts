/**
 * The OFFICIAL TextRoom demo (`textroomtest.html` from Debian `janus-demos`, with its own
 * janus.js 1.1.2) in two headless Chromium contexts, over HTTP and WebSocket: Alice and Bob
 * join the stock room 1234 under their display names, each lists the other, a public message
 * from each shows on the other's chat, a whisper (the demo's prompt after clicking a
 * participant) shows only as a whisper on its addressee's chat, Alice stops and Bob sees her
 * leave; no error dialog shows at any step; both stop and nothing is left. Three rounds each.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { launchChromium, pollUntil } from "../_helpers/browser.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { startTextRoomGateway, type TextRoomGateway } from "../plugins/_textroom_peers.ts";
import {
  DEMO_TRANSPORTS,
  type DemoParticipant,
  officialDemoUrl,
  openDemoPages,
  requireOfficialDemos,
  startAndRegister,
  untilNothingLeft,
} from "./official_demos.ts";

/** Rounds per transport: the demo's join raced ICE once; a repeat shows it is not luck. */
const ROUNDS = 3;

/** Display names in the demo's participant list (the others; it never lists itself). */
async function listed(page: Page): Promise<string[]> {
  return (await page.locator("#list li").allTextContents()).map((t) => t.trim());
}

/** The lines of the demo's chat pane. */
async function chatLines(page: Page): Promise<string[]> {
  return (await page.locator("#chatroom p").allTextContents()).map((t) => t.trim());
}

/** One round: two pages join, talk publicly and privately, Alice leaves, both stop. */
async function round(gw: TextRoomGateway, transport: "http" | "ws", n: number): Promise<void> {
  const browser = await launchChromium();
  try {
    const demo = await openDemoPages(browser, ["alice", "bob"], {
      logPrefix: `textroom_${transport}`,
      state: () =>
        `round ${n}; gateway: ${JSON.stringify(gw.counts())} plugin: ${
          JSON.stringify(gw.textroom())
        }`,
      extra: async (p) => `; chat: ${JSON.stringify(await chatLines(p.page).catch(() => []))}`,
    });
    const { people, describe, noDialogs } = demo;
    // The join form shows once the demo's data channel is open.
    await startAndRegister(
      demo,
      officialDemoUrl(gw, transport, "textroomtest.html"),
      "in the room",
      async (page, name) => (await page.locator("#participant").textContent()) === name,
    );
    await noDialogs("after joining");
    assert.equal(gw.textroom().participants, 2);

    const [alice, bob] = people as [DemoParticipant, DemoParticipant];
    for (const [me, other] of [[alice, bob], [bob, alice]] as const) {
      await pollUntil(
        `${me.name} listing ${other.name}`,
        async () => JSON.stringify(await listed(me.page)) === JSON.stringify([other.name]),
        { describe },
      );
    }

    // Public messages, each way: shown on the other's chat as "<display>: <text>".
    for (const [me, other] of [[alice, bob], [bob, alice]] as const) {
      const text = `hello from ${me.name} ${n}`;
      await me.page.fill("#datasend", text);
      await me.page.press("#datasend", "Enter");
      await pollUntil(
        `${other.name} showing '${text}'`,
        async () => (await chatLines(other.page)).some((l) => l.endsWith(`${me.name}: ${text}`)),
        { describe },
      );
      // Cleared on the acknowledgement (the demo's success callback).
      await pollUntil(
        `${me.name}'s field cleared`,
        async () => (await me.page.inputValue("#datasend")) === "",
        { describe },
      );
    }
    await noDialogs("after public messages");

    // A whisper from Bob to Alice: click her in the list, type in the demo's prompt.
    const secret = `psst alice ${n}`;
    await openWhisperPrompt(bob.page, "alice");
    await bob.page.fill(".bootbox-input", secret);
    await bob.page.click(".bootbox .bootbox-accept");
    await bob.page.locator(".bootbox").first().waitFor({ state: "detached", timeout: 5_000 });
    await pollUntil(
      `alice showing the whisper`,
      async () =>
        (await chatLines(alice.page)).some((l) => l.endsWith(`[whisper from bob] ${secret}`)),
      { describe },
    );
    await pollUntil(
      `bob showing his whisper as sent`,
      async () =>
        (await chatLines(bob.page)).some((l) => l.endsWith(`[whisper to alice] ${secret}`)),
      { describe },
    );
    // A whisper is never shown as a public line.
    for (const p of people) {
      if ((await chatLines(p.page)).some((l) => l.endsWith(`bob: ${secret}`))) {
        assert.fail(`${p.name} shows the whisper as public:\n${await describe()}`);
      }
    }
    await noDialogs("after the whisper");

    // Alice stops (destroys her session): Bob sees her leave and no longer lists her.
    await alice.page.click("#start");
    await pollUntil(
      "bob seeing alice leave",
      async () =>
        (await listed(bob.page)).length === 0 &&
        (await chatLines(bob.page)).some((l) => l.endsWith("alice left")),
      { describe },
    );
    await pollUntil(
      "one participant left",
      () => Promise.resolve(gw.textroom().participants === 1),
      { describe },
    );
    // Alice's page reloads once her session is destroyed (the demo's `destroyed` callback).
    await noDialogs("after alice left", [bob]);

    await bob.page.click("#start");
    await untilNothingLeft(gw, describe);
    assert.deepEqual(gw.textroom(), { rooms: 1, participants: 0, sessions: 0, posts: 0 });
  } finally {
    await browser.close();
  }
}

/**
 * Clicks `name` in the demo's participant list until its whisper prompt shows: the demo
 * rebuilds a list entry (and binds its click) when the room's events arrive, so a click that
 * lands on an entry being replaced opens nothing.
 */
async function openWhisperPrompt(page: Page, name: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    await page.locator("#list li", { hasText: name }).click();
    try {
      await page.locator(".bootbox-input").waitFor({ state: "visible", timeout: 3_000 });
      return;
    } catch (e) {
      if (attempt === 3) throw e;
    }
  }
}

for (const transport of DEMO_TRANSPORTS) {
  Deno.test({
    name: `official textroomtest.html, two Chromium pages over ${transport} (${ROUNDS} rounds): ` +
      "join room 1234, each lists the other, public messages both ways, a whisper, leave, " +
      "no error dialog",
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      assertInsideNetns();
      await requireOfficialDemos("textroomtest.html");
      await using gw = await startTextRoomGateway();
      for (let n = 1; n <= ROUNDS; n++) await round(gw, transport, n);
    },
  });
}
