/**
 * How a publisher's departure reaches another participant, in the reference's order (asked of
 * Janus 1.1.2 with `deno task compare`, scenario "a publisher leaves a room with
 * subscribers"): bob's session holds his publisher handle and his subscription to alice, as
 * the official demo's does. When alice unpublishes, hangs up or detaches, bob's subscription
 * gets its `updated` offer BEFORE his publisher handle hears `unpublished` / `leaving`; the
 * demo detaches the subscription on `unpublished`, so the other order pushes an offer to a
 * handle it has let go ("WebRTC error... Invalid handle").
 *
 * @module
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { type ClientPeer, waitUntil, wrtcTest } from "../media/_client.ts";
import {
  answerOf,
  gateway,
  publish,
  sendonlyOffer,
  subscribe,
  VIDEOROOM_ENGINES,
} from "./_videoroom_media.ts";
import { dataOf, jsepOf, VideoRoomClient } from "./videoroom_client.ts";

/** Events of `handles` as `name: what` lines, in arrival order (media and webrtcup left out). */
function seen(c: VideoRoomClient, names: Map<number, string>): string[] {
  return c.events
    .filter((e) => names.has(e.sender as number) && e.janus === "event")
    .map((e) => {
      const d = dataOf(e);
      const what = d.videoroom === "updated"
        ? `updated${e.jsep ? ` + ${(e.jsep as JsonObject).type}` : ""}`
        : Object.keys(d).filter((k) => k !== "videoroom" && k !== "room").join(",");
      return `${names.get(e.sender as number)}: ${what}`;
    });
}

for (const engine of VIDEOROOM_ENGINES) {
  wrtcTest(
    `videoroom: a departing publisher's subscribers get \`updated\` before \`unpublished\` / \`leaving\` (${engine})`,
    async (wrtc) => {
      await using gw = await gateway(engine);
      await using bobs = await VideoRoomClient.open(gw.httpUrl);
      await using alices = await VideoRoomClient.open(gw.httpUrl);
      const peers: ClientPeer[] = [];
      try {
        const R = 1234;
        const bob = await bobs.attach();
        await bobs.ask(bob, { request: "join", ptype: "publisher", room: R, display: "bob" });
        const alice = await publish(wrtc, alices, R, "alice");
        peers.push(alice.peer);
        const sub = await subscribe(wrtc, bobs, R, [alice.id]);
        peers.push(sub.peer);
        const names = new Map([[bob, "bob"], [sub.handle, "bobsub"]]);
        await bobs.takeData(bob, (d) => "publishers" in d);
        assert.deepEqual(seen(bobs, names), []);

        /** Waits for `expected` on bob's session, checks the order, answers the new offer. */
        const expect = async (step: string, expected: string[]) => {
          await waitUntil(
            `${step}: ${expected.length} events`,
            () => seen(bobs, names).length >= expected.length,
          );
          await new Promise((r) => setTimeout(r, 300));
          assert.deepEqual(seen(bobs, names), expected, step);
          const update = bobs.events.find((e) =>
            e.sender === sub.handle && dataOf(e).videoroom === "updated"
          );
          assert.ok(update, step);
          assert.deepEqual(
            (dataOf(update).streams as JsonObject[]).map((s) => s.active),
            [false, false],
          );
          bobs.events.splice(0);
          const answer = await answerOf(sub.peer, jsepOf(update));
          assert.equal((await bobs.ask(sub.handle, { request: "start" }, answer)).started, "ok");
        };
        /** Alice publishes again and bob's subscription takes her new feed. */
        const republish = async () => {
          const { peer, offer } = await sendonlyOffer(wrtc, { audio: true, video: true });
          peers.push(peer);
          const event = await alices.request(alice.handle, { request: "publish" }, offer);
          await peer.answer(jsepOf(event).sdp);
          await bobs.takeData(bob, (d) => "publishers" in d);
          const update = await bobs.request(sub.handle, {
            request: "update",
            subscribe: [{ feed: alice.id }],
          });
          const answer = await answerOf(sub.peer, jsepOf(update));
          assert.equal((await bobs.ask(sub.handle, { request: "start" }, answer)).started, "ok");
          bobs.events.splice(0);
        };

        await alices.ask(alice.handle, { request: "unpublish" });
        await expect("unpublish", [
          "bobsub: updated + offer",
          "bob: unpublished",
          "bob: unpublished",
        ]);
        await republish();
        await alices.send({ janus: "hangup" }, alice.handle);
        await expect("hangup", ["bobsub: updated + offer", "bob: unpublished"]);
        await republish();
        await alices.send({ janus: "detach" }, alice.handle);
        await expect("detach", [
          "bobsub: updated + offer",
          "bob: unpublished",
          "bob: unpublished",
          "bob: leaving",
        ]);
      } finally {
        for (const p of peers) p.close();
      }
    },
  );
}

for (const engine of VIDEOROOM_ENGINES) {
  wrtcTest(
    `videoroom: two publishers watching each other leave at once: nothing is left behind (${engine})`,
    async (wrtc) => {
      await using gw = await gateway(engine);
      const peers: ClientPeer[] = [];
      try {
        for (let round = 0; round < 3; round++) {
          const a = await VideoRoomClient.open(gw.httpUrl);
          const b = await VideoRoomClient.open(gw.httpUrl);
          const pa = await publish(wrtc, a, 1234, "ann");
          const pb = await publish(wrtc, b, 1234, "ben");
          const sa = await subscribe(wrtc, a, 1234, [pb.id]);
          const sb = await subscribe(wrtc, b, 1234, [pa.id]);
          peers.push(pa.peer, pb.peer, sa.peer, sb.peer);
          // Each departure renegotiates the other's subscription while it is being detached.
          await Promise.all([a.close(), b.close()]);
          await waitUntil(`round ${round}: sessions, handles and peers released`, () => {
            const c = gw.counts();
            return c.sessions === 0 && c.handles === 0 && c.peers === 0;
          });
        }
      } finally {
        for (const p of peers) p.close();
      }
    },
  );
}
