/**
 * VideoRoom relays publishers' data-channel messages to subscribers, as Janus 1.1.2 does
 * (measured on it with these peers): a subscription that takes a publisher's data stream has
 * one m=application line (one `data` entry listing its `sources` and `source_ids`), and each
 * publisher's text and binary messages arrive on a channel the gateway opens named after the
 * publisher's id. Nothing reaches a subscriber that took only audio, nor one whose data
 * m-line is `send: false`, nor one that is paused, nor one that unsubscribed that publisher,
 * nor anyone while the publisher's data is `send: false` or moderated. Audio added to a
 * data-only subscription gets a mid of its own; a legacy `feed` join takes the data unless
 * `offer_data` is false.
 * A data-only subscriber is the sync point: when it has a message, the others had their
 * chance too.
 *
 * Run: `deno task test tests/plugins/videoroom_data_relay_test.ts`
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import type { WrtcDataChannel } from "../../core/media/wrtc.ts";
import { ClientPeer, waitUntil, type Wrtc, wrtcTest } from "../media/_client.ts";
import { gateway, gathered, sendonlyOffer, VIDEOROOM_ENGINES } from "./_videoroom_media.ts";
import { dataOf, jsepOf, type TestJsep, VideoRoomClient } from "./videoroom_client.ts";

/** A message as a subscriber got it: the channel's label, then the text or `bin:<bytes>`. */
type Received = string;

/** A subscriber peer that answers with its own data channel (as janus.js does). */
class DataSubscriber {
  readonly peer: ClientPeer;
  readonly received: Received[] = [];

  constructor(wrtc: Wrtc) {
    this.peer = new ClientPeer(wrtc, {});
    this.peer.pc.addEventListener("datachannel", ({ channel }) => this.#listen(channel));
  }

  /** Our answer to `offer`, with a channel of ours when it has a data m-line. */
  async answer(offer: TestJsep): Promise<TestJsep> {
    const pc = this.peer.pc;
    await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
    if (/^m=application /m.test(offer.sdp) && !this.#own) {
      this.#own = true;
      this.#listen(pc.createDataChannel("JanusDataChannel"));
    }
    await pc.setLocalDescription(await pc.createAnswer());
    return { type: "answer", sdp: await gathered(this.peer) };
  }

  #own = false;

  #listen(channel: WrtcDataChannel): void {
    channel.binaryType = "arraybuffer";
    channel.onmessage = ({ data }) => {
      const text = typeof data === "string" ? data : `bin:${[...new Uint8Array(data)]}`;
      this.received.push(`${channel.label}:${text}`);
    };
  }
}

/** The m-line kinds of an SDP, in order. */
function kinds(sdp: string): string[] {
  return [...sdp.matchAll(/^m=(\S+)/gm)].map((m) => m[1] ?? "");
}

for (const engine of VIDEOROOM_ENGINES) {
  wrtcTest(
    `videoroom: publishers' data-channel text and binary reach the subscribers of their data (${engine})`,
    async (wrtc) => {
      await using gw = await gateway(engine);
      await using c = await VideoRoomClient.open(gw.httpUrl);
      const peers: ClientPeer[] = [];
      try {
        const admin = await c.attach();
        const R = 4402;
        await c.sync(admin, { request: "create", room: R, secret: "s" });

        /** A publisher of audio and a data channel (or audio only). */
        const publish = async (display: string, data: boolean) => {
          const handle = await c.attach();
          const joined = await c.ask(handle, {
            request: "join",
            ptype: "publisher",
            room: R,
            display,
          });
          const { peer, offer } = await sendonlyOffer(wrtc, {
            audio: true,
            ...(data ? { data: "chat" } : {}),
          });
          peers.push(peer);
          const event = await c.request(handle, { request: "configure", audio: true }, offer);
          assert.equal(dataOf(event).configured, "ok");
          await peer.answer(jsepOf(event).sdp);
          await c.take((e) => e.sender === handle && e.janus === "webrtcup");
          if (data) {
            await waitUntil("the publisher's channel open", () => {
              return peer.channel?.readyState === "open";
            });
          }
          return { handle, id: joined.id as number, peer };
        };
        /** A subscription to `streams`, answered and started. */
        const subscribe = async (streams: JsonObject[]) => {
          const handle = await c.attach();
          const event = await c.request(handle, {
            request: "join",
            ptype: "subscriber",
            room: R,
            streams,
          });
          const sub = new DataSubscriber(wrtc);
          peers.push(sub.peer);
          const offer = jsepOf(event);
          const answer = await sub.answer(offer);
          assert.deepEqual(await c.ask(handle, { request: "start", room: R }, answer), {
            videoroom: "event",
            room: R,
            started: "ok",
          });
          await c.take((e) => e.sender === handle && e.janus === "webrtcup");
          return { handle, sub, attached: dataOf(event), offer };
        };

        const alice = await publish("alice", true);
        const bob = await publish("bob", true);
        const carol = await publish("carol", false);
        const both = await subscribe([{ feed: alice.id }, { feed: carol.id }, { feed: bob.id }]);
        // One data m-line for both publishers' data. The reference puts it where the first
        // data stream came (mindex 1 here); ours follows the audio ones, as the engine adds it
        // with the offer (clients go by mid).
        const offered = kinds(both.offer.sdp);
        assert.deepEqual([...offered].sort(), ["application", "audio", "audio", "audio"]);
        const dataIndex = offered.indexOf("application");
        const streams = both.attached.streams as JsonObject[];
        const dataEntry = streams.find((s) => s.type === "data");
        assert.deepEqual(dataEntry, {
          type: "data",
          active: true,
          mindex: dataIndex,
          mid: /^a=mid:(\S+)/m.exec(both.offer.sdp.split(/^m=/m)[dataIndex + 1] ?? "")?.[1],
          ready: false,
          send: true,
          sources: 2,
          source_ids: [alice.id, bob.id],
        });
        assert.deepEqual(
          streams.filter((s) => s.type === "audio").map((s) => s.feed_id),
          [alice.id, carol.id, bob.id],
        );
        assert.deepEqual(streams.map((s) => s.mindex), [0, 1, 2, 3], "in m-line order");
        assert.equal(new Set(streams.map((s) => s.mid)).size, 4, "mids are unique");
        const audioOnly = await subscribe([{ feed: alice.id, mid: "0" }, {
          feed: bob.id,
          mid: "0",
        }]);
        assert.deepEqual(kinds(audioOnly.offer.sdp), ["audio", "audio"]);
        assert.equal((audioOnly.attached.streams as JsonObject[]).length, 2);
        const dataOnly = await subscribe([{ feed: alice.id, mid: "1" }, {
          feed: bob.id,
          mid: "1",
        }]);
        assert.deepEqual(kinds(dataOnly.offer.sdp), ["application"]);
        assert.deepEqual(dataOnly.attached.streams, [{
          type: "data",
          active: true,
          mindex: 0,
          mid: "0",
          ready: false,
          send: true,
          sources: 2,
          source_ids: [alice.id, bob.id],
        }]);

        const a = String(alice.id);
        const b = String(bob.id);
        /** `text` from `from`, then waits until the data-only subscriber has it. */
        const send = async (from: typeof alice, text: string | Uint8Array) => {
          const label = String(from.id);
          const want = `${label}:${typeof text === "string" ? text : `bin:${[...text]}`}`;
          from.peer.channel!.send(text);
          await waitUntil(`${want} at the data-only subscriber`, () => {
            return dataOnly.sub.received.includes(want);
          });
        };
        await send(alice, "hello");
        await send(alice, new Uint8Array([1, 2, 3]));
        await send(bob, "from bob");
        await waitUntil("three messages at the full subscriber", () => {
          return both.sub.received.length >= 3;
        });
        assert.deepEqual(both.sub.received, [`${a}:hello`, `${a}:bin:1,2,3`, `${b}:from bob`]);
        assert.deepEqual(dataOnly.sub.received, [
          `${a}:hello`,
          `${a}:bin:1,2,3`,
          `${b}:from bob`,
        ]);

        // `send: false` on the data m-line, then back.
        const dataMid = dataEntry?.mid as string;
        await c.ask(both.handle, {
          request: "configure",
          streams: [{ mid: dataMid, send: false }],
        });
        await send(alice, "not for both");
        await c.ask(both.handle, { request: "configure", streams: [{ mid: dataMid, send: true }] });
        await send(alice, "for both again");
        // Paused, then started again.
        await c.ask(both.handle, { request: "pause" });
        await send(bob, "while paused");
        await c.ask(both.handle, { request: "start" });
        await send(bob, "after start");
        // Bob's feed unsubscribed: his data stops at once, Alice's goes on.
        const unsubscribed = await c.request(both.handle, {
          request: "unsubscribe",
          streams: [{ feed: bob.id }],
        });
        const updated = dataOf(unsubscribed);
        assert.deepEqual((updated.streams as JsonObject[]).find((s) => s.type === "data"), {
          type: "data",
          active: true,
          mindex: dataIndex,
          mid: dataMid,
          ready: true,
          send: true,
          sources: 1,
          source_ids: [alice.id],
        });
        await send(bob, "after unsubscribe");
        await send(alice, "alice still");
        await waitUntil("alice's last message at the full subscriber", () => {
          return both.sub.received.includes(`${a}:alice still`);
        });
        assert.deepEqual(both.sub.received, [
          `${a}:hello`,
          `${a}:bin:1,2,3`,
          `${b}:from bob`,
          `${a}:for both again`,
          `${b}:after start`,
          `${a}:alice still`,
        ]);
        assert.deepEqual(audioOnly.sub.received, [], "no data to an audio-only subscription");

        // Audio added to the data-only subscription takes the next mid, not the data m-line's.
        const added = await c.request(dataOnly.handle, {
          request: "subscribe",
          streams: [{ feed: alice.id, mid: "0" }],
        });
        assert.deepEqual(
          (dataOf(added).streams as JsonObject[]).map((s) => [s.type, s.mindex, s.mid]),
          [["data", 0, "0"], ["audio", 1, "1"]],
        );
        const again = await dataOnly.sub.answer(jsepOf(added));
        await c.ask(dataOnly.handle, { request: "start", room: R }, again);
        await send(bob, "after the renegotiation");

        // The legacy `feed` join takes the data too, unless `offer_data` is false.
        const legacyCases: [JsonObject, string[]][] = [
          [{}, ["audio", "data"]],
          [{ offer_data: false }, ["audio"]],
        ];
        for (const [extra, want] of legacyCases) {
          const handle = await c.attach();
          const event = await c.request(handle, {
            request: "join",
            ptype: "subscriber",
            room: R,
            feed: alice.id,
            ...extra,
          });
          const types = (dataOf(event).streams as JsonObject[]).map((s) => s.type);
          assert.deepEqual(types, want, JSON.stringify(extra));
          assert.equal(/^m=application /m.test(jsepOf(event).sdp), want.includes("data"));
          await c.send({ janus: "detach" }, handle);
        }

        // Alice's data off by her own `send: false`, then by `moderate`: relayed to nobody
        // (nor forwarded: the reference's). Nothing shows a message was dropped, so each is
        // given time to arrive before her data is on again.
        const settle = () => new Promise((resolve) => setTimeout(resolve, 500));
        const aliceData = (send: boolean) =>
          c.ask(alice.handle, { request: "configure", streams: [{ mid: "1", send }] });
        const moderate = (mute: boolean) =>
          c.sync(admin, {
            request: "moderate",
            room: R,
            secret: "s",
            id: alice.id,
            mid: "1",
            mute,
          });
        await aliceData(false);
        alice.peer.channel!.send("not sent by alice");
        await settle();
        await aliceData(true);
        await moderate(true);
        alice.peer.channel!.send("moderated");
        await settle();
        await moderate(false);
        await send(alice, "alice back");
        await waitUntil("alice back at the full subscriber", () => {
          return both.sub.received.includes(`${a}:alice back`);
        });
        for (const sub of [both.sub, dataOnly.sub]) {
          const fromAlice = sub.received.filter((m) => m.startsWith(`${a}:`));
          assert.deepEqual(fromAlice.slice(-2), [`${a}:alice still`, `${a}:alice back`]);
        }

        // Bob unpublishes: the audio subscription gets a new offer, the one that took only his
        // data none (its data m-line stays, as on the reference), and he is no source of it.
        await c.ask(bob.handle, { request: "unpublish" });
        await c.takeData(audioOnly.handle, (d) => d.videoroom === "updated");
        await c.none(dataOnly.handle, (d) => d.videoroom === "updated");
        const later = await c.ask(dataOnly.handle, {
          request: "subscribe",
          streams: [{ feed: carol.id }],
        });
        const laterData = (later.streams as JsonObject[]).find((s) => s.type === "data");
        assert.deepEqual([laterData?.sources, laterData?.source_ids], [1, [alice.id]]);
      } finally {
        for (const p of peers) p.close();
      }
    },
  );
}
