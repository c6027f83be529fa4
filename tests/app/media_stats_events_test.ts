/**
 * Periodic media `stats` events (type 32, subtype 3, `events.stats_period`): an EchoTest call
 * on the rtp engine with a real peer reaches an HTTP receiver as one event per m-line every
 * period, with the keys (and their order) of the reference's events
 * (`tests/schema/fixtures/events.json`), counters that grow between events, and none once the
 * call is over.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type EventReceiver, eventReceiver } from "../_helpers/event_receiver.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { echoCallUp, expectSuccess, sleep, startEchoGateway } from "../plugins/_echotest.ts";
import { type PeerHost, peerTest, until } from "../plugins/_peers.ts";
import { openSignal } from "../plugins/_signal.ts";

const REFERENCE_EVENTS = new URL("../schema/fixtures/events.json", import.meta.url);

/** The keys, in order, of the reference's stats event of an audio or video m-line. */
async function referenceKeys(media: string): Promise<string[]> {
  const reference = JSON.parse(await Deno.readTextFile(REFERENCE_EVENTS)) as JsonObject[];
  const event = reference.find((e) => {
    const body = e.event as JsonObject;
    return e.type === 32 && e.subtype === 3 && body.media === media && "codec" in body;
  });
  assert.ok(event, `a reference stats event for ${media}`);
  return Object.keys(event.event as JsonObject);
}

peerTest(
  "media stats events: every stats_period, one per m-line of a live EchoTest call (rtp), in " +
    "the reference's shape, counters growing; none after the hangup",
  async (host) => {
    const rx = eventReceiver();
    try {
      await call(host, rx);
    } finally {
      // After the gateway: its shutdown may still post.
      await rx.stop();
    }
  },
);

async function call(host: PeerHost, rx: EventReceiver): Promise<void> {
  await using gw = await startEchoGateway("rtp", {
    events: {
      enabled: true,
      stats_period: 1,
      handlers: [{ kind: "http", backend: rx.url, events: "media", max_nev: 10 }],
    },
  });
  const sig = await openSignal("http", gw);
  const client = await host.peer({ audio: true, video: true });
  try {
    const { s, h } = await echoCallUp(sig, client, 5);
    const stats = (mid: string) =>
      rx.events.filter((e) => e.type === 32 && e.subtype === 3 && e.handle_id === h)
        .map((e) => e.event as JsonObject).filter((b) => b.mid === mid);
    await until(
      "three stats events per m-line",
      () => Promise.resolve(stats("0").length >= 3 && stats("1").length >= 3),
      8000,
    );
    const first = rx.events.find((e) => e.type === 32 && e.subtype === 3);
    assert.ok(first);
    assert.equal(first.emitter, gw.app.gateway.config.general.server_name);
    assert.equal(first.session_id, s);
    assert.equal(first.handle_id, h);
    assert.equal(first.opaque_id, "echotest-test");
    for (
      const [mid, media, codec, base] of [
        ["0", "audio", "opus", 48000],
        ["1", "video", "vp8", 90000],
      ] as const
    ) {
      const events = stats(mid);
      const last = events.at(-1)!;
      const earlier = events.at(-3)!;
      assert.deepEqual(Object.keys(last), await referenceKeys(media), `${media} keys`);
      assert.equal(last.mindex, Number(mid));
      assert.equal(last.media, media);
      assert.equal(last.codec, codec);
      assert.equal(last.base, base);
      for (const key of ["packets-received", "packets-sent", "bytes-received", "bytes-sent"]) {
        const [a, b] = [earlier[key] as number, last[key] as number];
        assert.ok(a > 0 && b > a, `${media} ${key}: ${a} then ${b}`);
      }
      assert.ok((last["bytes-received"] as number) > (last["packets-received"] as number));
      // Bytes per second over the last period: about what a second of the call brings.
      const rate = last["bytes-received-lastsec"] as number;
      const perSecond = (last["bytes-received"] as number) - (earlier["bytes-received"] as number);
      assert.ok(rate > 0 && rate < perSecond * 2, `${media} rate ${rate} (${perSecond} in 2 s)`);
      assert.ok((last["bytes-sent-lastsec"] as number) > 0);
      assert.equal(last["in-link-quality"], 100);
      for (const key of ["nacks-received", "nacks-sent", "retransmissions-received", "rtt"]) {
        assert.equal(typeof last[key], "number", key);
      }
    }
    // A data-channel-less echo on the rtp engine reports its two RTP m-lines only.
    const mids = new Set(
      rx.events.filter((e) => e.type === 32 && e.subtype === 3)
        .map((e) => (e.event as JsonObject).mid),
    );
    assert.deepEqual([...mids].sort(), ["0", "1"]);

    await expectSuccess(sig, { janus: "destroy", session_id: s });
    await until("no peer left", () => Promise.resolve(gw.counts().peers === 0));
    const after = rx.events.length;
    await sleep(1500);
    const late = rx.events.slice(after).filter((e) => e.type === 32 && e.subtype === 3);
    assert.deepEqual(late, [], "no stats once the PeerConnection is gone");
  } finally {
    await client.close();
    await sig.close();
  }
}
