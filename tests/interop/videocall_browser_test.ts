/**
 * The OFFICIAL VideoCall demo (`videocalltest.html` from Debian `janus-demos`, with its own
 * janus.js 1.1.2) in two headless Chromium contexts with fake media, over HTTP and WebSocket:
 * Alice and Bob register, Bob calls Alice, Alice answers in the demo's incoming-call dialog,
 * each page decodes the other's video and the data channel carries a line of text each way;
 * Alice hangs up and both pages return to "Call"; no error dialog shows at any step; both
 * stop and nothing is left on the gateway or in the plugin.
 *
 * @module
 */
import assert from "node:assert/strict";
import { launchChromium, pollUntil } from "../_helpers/browser.ts";
import { pluginCounts, videoCallGateway } from "../plugins/_videocall.ts";
import {
  DEMO_TRANSPORTS,
  type DemoParticipant,
  dialogText,
  framesDecoded,
  officialDemoUrl,
  openDemoPages,
  present,
  requireOfficialDemos,
  startAndRegister,
  untilNothingLeft,
} from "./official_demos.ts";

/** The demo's one PeerConnection. */
const CALL_PC = "return [globalThis.videocall && globalThis.videocall.webrtcStuff.pc];";

for (const transport of DEMO_TRANSPORTS) {
  Deno.test({
    name: `official videocalltest.html, two Chromium pages over ${transport}: register, call, ` +
      "answer, each decodes the other, data both ways, hang up, no error dialog",
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await requireOfficialDemos("videocalltest.html");
      await using gw = await videoCallGateway();
      const browser = await launchChromium();
      try {
        const demo = await openDemoPages(browser, ["alice", "bob"], {
          logPrefix: `videocall_${transport}`,
          state: () => `gateway: ${JSON.stringify(gw.counts())}`,
        });
        const { people, describe, noDialogs } = demo;
        await startAndRegister(
          demo,
          officialDemoUrl(gw, transport, "videocalltest.html"),
          "registered",
          async (page, name) =>
            (await page.locator("#youok").textContent()) === `Registered as '${name}'`,
        );
        await noDialogs("after registering");
        const [alice, bob] = people as [DemoParticipant, DemoParticipant];

        // Bob calls Alice: he waits in a dialog, she answers in hers.
        await bob.page.fill("#peer", "alice");
        await bob.page.click("#call");
        await pollUntil(
          "alice's incoming-call dialog",
          async () => (await dialogText(alice.page)).includes("Incoming call from bob!"),
          { describe },
        );
        assert.equal(await dialogText(bob.page), "Waiting for the peer to answer...");
        await alice.page.click(".bootbox .btn-success");
        for (const [me, other] of [[alice, bob], [bob, alice]] as const) {
          const frames = await pollUntil(
            `${me.name} decoding ${other.name}'s video`,
            async () => {
              const n = await framesDecoded(me.page, CALL_PC);
              return n > 10 ? n : undefined;
            },
            { describe, timeoutMs: 30_000 },
          );
          assert.ok(frames > 10, `${me.name} decoded ${frames} frames`);
        }
        // `accepted` closed Bob's waiting dialog.
        await noDialogs("in the call");
        assert.equal(pluginCounts(gw).calls, 1);
        assert.equal(gw.counts().peers, 2);

        // The data channel, each way (the demo shows the last text received).
        for (const [me, other] of [[alice, bob], [bob, alice]] as const) {
          const text = `hello from ${me.name}`;
          await pollUntil(
            `${me.name} can send data`,
            () => me.page.locator("#datasend").isEnabled(),
            { describe },
          );
          await me.page.fill("#datasend", text);
          await me.page.press("#datasend", "Enter");
          await pollUntil(
            `${other.name} receiving '${text}'`,
            async () => (await other.page.inputValue("#datarecv")) === text,
            { describe },
          );
        }

        // Alice hangs up: both pages are back to "Call", the gateway holds no peer.
        assert.equal((await alice.page.locator("#call").textContent())?.trim(), "Hangup");
        await alice.page.click("#call");
        for (const p of people) {
          await pollUntil(
            `${p.name} back to Call`,
            async () => (await p.page.locator("#call").textContent())?.trim() === "Call",
            { describe },
          );
        }
        await pollUntil(
          "the call's peers closed",
          () => Promise.resolve(gw.counts().peers === 0 && pluginCounts(gw).calls === 0),
          { describe },
        );
        await new Promise((r) => setTimeout(r, 1000));
        await noDialogs("after the hangup");
        assert.ok(await present(bob.page, "#phone"), "bob can call again");

        for (const { page } of people) await page.click("#start");
        await untilNothingLeft(gw, describe);
        assert.deepEqual(pluginCounts(gw), { sessions: 0, users: 0, calls: 0 });
      } finally {
        await browser.close();
      }
    },
  });
}
