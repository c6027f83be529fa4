/**
 * The OFFICIAL VideoRoom demo (`videoroomtest.html` from Debian `janus-demos`, with its own
 * janus.js 1.1.2) in two headless Chromium contexts with fake media: both join room 1234 and
 * publish, each sees the other's video decoding; one unpublishes, publishes again and
 * leaves (Stop), the other dropping and taking its feed each time with no error dialog; both
 * stop; nothing is left on the gateway.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { parseConfig } from "../../core/config.ts";
import { startMediaEngine } from "../../core/media/start.ts";
import { launchChromium, pollUntil } from "../_helpers/browser.ts";
import { startTestGateway, testConfig } from "../_helpers/gateway.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import {
  clickPastDialogs,
  DEMO_TRANSPORTS,
  type DemoParticipant,
  framesDecoded,
  officialDemoUrl,
  openDemoPages,
  present,
  requireOfficialDemos,
  startAndRegister,
  untilNothingLeft,
} from "./official_demos.ts";

/** The subscriber PeerConnections of the demo (`feeds[1..5]` are its remote-feed handles). */
const SUBSCRIBER_PCS =
  "return (globalThis.feeds || []).filter(Boolean).map((f) => f.webrtcStuff && f.webrtcStuff.pc);";

/** Display names of the remote feeds the page subscribes to. */
function remoteFeeds(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    type Feed = { rfdisplay?: string } | null | undefined;
    const feeds = (globalThis as { feeds?: Feed[] }).feeds ?? [];
    return feeds.filter((f) => f).map((f) => f?.rfdisplay ?? "");
  });
}

for (
  const { transport, engine } of (["wrtc", "rtp"] as const).flatMap((engine) =>
    DEMO_TRANSPORTS.map((transport) => ({ transport, engine }))
  )
) {
  Deno.test({
    name: `official videoroomtest.html, two Chromium publishers on ${engine} over ${transport}: ` +
      "each decodes the other, unpublish, publish again, leave, no error dialog",
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      assertInsideNetns();
      await requireOfficialDemos("videoroomtest.html");
      // VideoRoom on the engine under test (the rtp one forwards without decoding).
      const config = { media: { workers: 1, engines: { "janus.plugin.videoroom": engine } } };
      const media = await startMediaEngine(parseConfig(testConfig(config)));
      assert.ok(media, "media engine");
      await using gw = await startTestGateway(config, { media });
      const browser = await launchChromium();
      try {
        const demo = await openDemoPages(browser, ["alice", "bob"], {
          logPrefix: `videoroom_${transport}`,
          state: () => `gateway: ${JSON.stringify(gw.counts())}`,
        });
        const { people, describe, noDialogs } = demo;
        // Published: the local video shows and the bitrate control appears on webrtcup.
        await startAndRegister(
          demo,
          officialDemoUrl(gw, transport, "videoroomtest.html"),
          "publishing",
          (page) => present(page, "#videolocal video"),
        );
        const [alice, bob] = people as [DemoParticipant, DemoParticipant];
        for (const [me, other] of [[alice, bob], [bob, alice]] as const) {
          await pollUntil(
            `${me.name} subscribed to ${other.name}`,
            async () => (await remoteFeeds(me.page)).includes(other.name),
            { describe },
          );
          const frames = await pollUntil(
            `${me.name} decoding ${other.name}'s video`,
            async () => {
              const n = await framesDecoded(me.page, SUBSCRIBER_PCS);
              return n > 10 ? n : undefined;
            },
            { describe, timeoutMs: 30_000 },
          );
          assert.ok(frames > 10, `${me.name} decoded ${frames} frames`);
        }
        assert.equal(gw.counts().sockets, transport === "ws" ? 2 : 0, "Janus WebSockets open");
        assert.deepEqual(await remoteFeeds(alice.page), ["bob"]);
        assert.deepEqual(await remoteFeeds(bob.page), ["alice"]);

        // No error dialog may show on either page at any step (noDialogs): when a publisher
        // goes, the reference pushes the subscription's `updated` offer before `unpublished` /
        // `leaving`, on which the demo detaches that subscription (videoroom_departure_test.ts).
        const decoding = async (me: DemoParticipant, other: DemoParticipant) => {
          await pollUntil(
            `${me.name} subscribed to ${other.name} again`,
            async () => (await remoteFeeds(me.page)).includes(other.name),
            { describe },
          );
          await pollUntil(
            `${me.name} decoding ${other.name}'s video again`,
            async () => (await framesDecoded(me.page, SUBSCRIBER_PCS)) > 10,
            { describe, timeoutMs: 30_000 },
          );
        };
        const settle = () => new Promise((r) => setTimeout(r, 1_500));

        // Alice unpublishes: Bob gets `unpublished` and detaches his subscription.
        await alice.page.click("#unpublish");
        await pollUntil(
          "bob dropping alice's feed",
          async () => (await remoteFeeds(bob.page)).length === 0,
          { describe },
        );
        await pollUntil(
          "alice's publisher PeerConnection closed",
          () => present(alice.page, "#videolocal #publish"),
          { describe },
        );
        await settle();
        await noDialogs("after alice unpublished");

        // Alice publishes again; Bob subscribes again.
        await alice.page.click("#videolocal #publish");
        await decoding(bob, alice);
        await noDialogs("after alice published again");

        // Alice leaves while publishing (Stop: janus.destroy() detaches her handles): Bob drops
        // her feed, with no dialog; then Bob stops too. The page reloads once its session is gone.
        for (const [i, { name, page }] of people.entries()) {
          const dialogs = await clickPastDialogs(page, "#start").catch(async (e) => {
            throw new Error(`${name}: cannot click Stop (${e}):\n${await describe()}`);
          });
          if (dialogs.length > 0) {
            assert.fail(`${name}: dialogs before Stop: ${dialogs.join("; ")}\n${await describe()}`);
          }
          const left = people.length - 1 - i;
          await pollUntil(
            `${name}'s session destroyed`,
            () => Promise.resolve(gw.counts().sessions === left),
            { describe },
          );
          if (left > 0) {
            await pollUntil(
              "bob dropping alice's feed as she left",
              async () => (await remoteFeeds(bob.page)).length === 0,
              { describe },
            );
            await settle();
            await noDialogs("after alice left");
          }
        }
        await untilNothingLeft(gw, describe);
      } finally {
        await browser.close();
      }
    },
  });
}
