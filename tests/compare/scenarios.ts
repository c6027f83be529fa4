/**
 * VideoRoom scenarios played on both servers: request checks without media, then real wrtc
 * publishers and subscribers (publish, subscribe, pause, switch, update, moderate, kick,
 * unpublish, leave, destroy). Each uses its own room and fixed participant ids, so the two
 * recordings can be compared line by line.
 *
 * @module
 */
import type { JsonObject } from "../../core/protocol.ts";
import type { Recorder } from "./recorder.ts";
import { type KnownDifference, probe, type Scenario } from "./probe.ts";
import { PLUGIN_KNOWN_DIFFERENCES, PLUGIN_SCENARIOS } from "./plugin_scenarios.ts";

export type { KnownDifference, Scenario };

const A = 1001;
const B = 1002;

/** `name` joins room `room` as a subscriber to every stream of `feeds` and answers. */
function joinSubscriber(r: Recorder, name: string, room: number, feeds: number[]) {
  const streams = feeds.map((feed) => ({ feed }));
  return r.subscribe(name, { request: "join", room, ptype: "subscriber", streams });
}

const SIGNALLING: Scenario = {
  name: "request checks (no media)",
  async run(r) {
    const R = 7100;
    await probe(r, "admin", [
      { request: "create", room: R, secret: "s", publishers: 4, audiocodec: "opus,pcmu" },
      { request: "create", room: R, audiocodec: "foo" },
      { request: "create", room: R + 1, videocodec: "vp8," },
      { request: "create", room: R + 1, allowed: [5] },
      { request: "exists", room: R },
      { request: "edit", room: R, secret: "s", new_description: "" },
      { request: "allowed", room: 999999, action: "bogus" },
      { request: "allowed", room: R, secret: "s", action: "add", allowed: ["a", 5] },
      { request: "kick", room: "x", id: 5 },
      { request: "moderate", room: R, secret: "s", id: 5, mute: "x" },
      { request: "enable_recording", room: "x", record: true },
      { request: "rtp_forward", room: "x", host: "h", publisher_id: "x" },
    ]);
    await probe(r, "alice", [
      { request: "join", room: R, ptype: "publisher", display: 5, audio: "x" },
      { request: "join", room: R, ptype: "publisher", id: A, display: "alice" },
      { request: "configure", descriptions: [{ mid: "0" }], streams: [{ mid: 5 }] },
      { request: "configure", audio_active_packets: -1 },
      { request: "configure", streams: [{ mid: "0", send: true }] },
      { request: "configure", streams: [{ send: true }, { mid: "3" }] },
      { request: "configure", metadata: 5, streams: [5] },
    ]);
    await probe(r, "bob", [
      { request: "join", room: R, ptype: "subscriber", feed: "x", offer_audio: "x" },
      { request: "join", room: R, ptype: "subscriber", streams: [{ feed: "x", mid: 5 }] },
      { request: "join", room: R, ptype: "subscriber", streams: [{ feed: A }, 5] },
      { request: "join", room: R, ptype: "subscriber", streams: [], feed: A },
    ]);
    await probe(r, "admin", [
      { request: "rtp_forward", room: R, secret: "s", publisher_id: 999, host: "127.0.0.1" },
      { request: "rtp_forward", room: R, secret: "s", publisher_id: A, host: "127.0.0.1" },
      {
        request: "rtp_forward",
        room: R,
        secret: "s",
        publisher_id: A,
        host: "127.0.0.1",
        streams: [{ mid: "0", port: 5000 }],
      },
      { request: "listforwarders", room: R, secret: "s" },
      { request: "stop_rtp_forward", room: R, secret: "s", publisher_id: A, stream_id: 5 },
      { request: "kick", room: R, secret: "s", id: A },
    ]);
    await probe(r, "alice", [{ request: "join", room: R, ptype: "publisher" }]);
    await probe(r, "admin", [{ request: "destroy", room: R, secret: "s" }]);
  },
};

const PUBLISH_SUBSCRIBE: Scenario = {
  name: "publish, subscribe, pause, update, unpublish",
  async run(r) {
    const R = 7200;
    await r.ask("admin", { request: "create", room: R, publishers: 6 });
    await r.ask("bob", { request: "join", room: R, ptype: "publisher", display: "bob", id: B });
    await r.settle("bob joined");
    await r.ask("alice", { request: "join", room: R, ptype: "publisher", display: "alice", id: A });
    await r.settle("alice joined");
    await r.handleInfo("admin");
    await r.handleInfo("bob");
    await r.publish("alice", { request: "configure", audio: true, video: true }, {
      audio: true,
      video: true,
    });
    const pc = await joinSubscriber(r, "carol", R, [A]);
    await r.handleInfo("alice");
    await r.handleInfo("carol");
    await probe(r, "carol", [
      { request: "configure", streams: [{ mid: "1", send: false }] },
      { request: "configure", streams: [{ mid: "9", send: false }] },
      { request: "pause" },
      { request: "start" },
      { request: "subscribe", streams: [] },
      { request: "unsubscribe", streams: [{ feed: 999 }] },
      { request: "switch", streams: [{ feed: A, mid: "1", sub_mid: "9" }] },
      { request: "switch" },
    ]);
    await r.subscribe("dave", { request: "join", room: R, ptype: "subscriber", feed: A });
    await r.subscribe("carol", { request: "update", unsubscribe: [{ feed: A, mid: "0" }] }, pc);
    await r.subscribe("carol", { request: "update", subscribe: [{ feed: A, mid: "0" }] }, pc);
    await probe(r, "alice", [
      { request: "publish", audio: "x" },
      { request: "configure", streams: [{ mid: "1", send: false }] },
      { request: "configure", display: "alicia" },
      { request: "configure", descriptions: [{ mid: "0", description: "mic" }] },
    ]);
    // An offer left unanswered while the feed goes: the update waits for the answer. (A
    // renegotiation, not an ICE restart: the rtp engine cannot restart ICE.)
    await r.ask("carol", { request: "update", unsubscribe: [{ feed: A, mid: "0" }] });
    await r.settle("carol update offer");
    await r.ask("alice", { request: "unpublish" });
    await r.settle("alice unpublished", 2500);
    await probe(r, "dave", [{ request: "leave" }]);
    await probe(r, "alice", [{ request: "leave" }]);
    await probe(r, "admin", [
      { request: "listparticipants", room: R },
      { request: "destroy", room: R },
    ]);
  },
};

const MODERATION: Scenario = {
  name: "two publishers, moderate, hangup, kick",
  async run(r) {
    const R = 7300;
    await r.ask("admin", { request: "create", room: R, publishers: 6, notify_joining: true });
    await r.ask("bob", { request: "join", room: R, ptype: "publisher", display: "bob", id: B });
    await r.settle("bob joined");
    await r.publish("alice", {
      request: "joinandconfigure",
      room: R,
      ptype: "publisher",
      display: "alice",
      id: A,
      descriptions: [{ mid: "1", description: "cam" }],
    }, { audio: true, video: true });
    await r.publish("bob", { request: "publish", display: "bobby" }, { audio: true });
    await joinSubscriber(r, "carol", R, [A, B]);
    await probe(r, "admin", [
      { request: "moderate", room: R, id: A, mid: "0", mute: true },
      { request: "moderate", room: R, id: A, mid: "0", mute: false },
    ]);
    await r.core("bob", "hangup");
    await r.settle("bob hung up", 2500);
    await probe(r, "admin", [{ request: "kick", room: R, id: A }]);
    await probe(r, "carol", [{ request: "leave" }]);
    await probe(r, "admin", [{ request: "destroy", room: R }]);
  },
};

const SWITCHING: Scenario = {
  name: "switch and update between two feeds",
  async run(r) {
    const R = 7400;
    await r.ask("admin", { request: "create", room: R, publishers: 6 });
    await r.ask("alice", { request: "join", room: R, ptype: "publisher", display: "alice", id: A });
    await r.publish("alice", { request: "publish" }, { audio: true, video: true });
    await r.ask("bob", { request: "join", room: R, ptype: "publisher", display: "bob", id: B });
    await r.publish("bob", { request: "publish" }, { audio: true, video: true });
    const pc = await joinSubscriber(r, "carol", R, [A]);
    await probe(r, "carol", [
      { request: "switch", streams: [{ feed: B, mid: "1", sub_mid: "1" }] },
      { request: "switch", streams: [{ feed: A, mid: "0", sub_mid: "1" }] },
      { request: "switch", streams: [{ feed: 999, mid: "0", sub_mid: "0" }] },
      { request: "switch", streams: [{ feed: A, mid: "9", sub_mid: "0" }] },
      { request: "switch", streams: [{ feed: A, mid: "0" }] },
      { request: "update", subscribe: [], unsubscribe: [{ feed: 999 }] },
      { request: "update", subscribe: [{ feed: 999 }] },
    ]);
    await r.subscribe("carol", { request: "subscribe", streams: [{ feed: B, mid: "0" }] }, pc);
    await r.subscribe("carol", { request: "unsubscribe", streams: [{ feed: B }] }, pc);
    await probe(r, "bob", [{ request: "unpublish" }]);
    await r.core("alice", "detach");
    await r.settle("alice detached", 2500);
    await probe(r, "admin", [{ request: "destroy", room: R }]);
  },
};

const ACCESS: Scenario = {
  name: "pins, private ids, the publishers limit, data channels",
  async run(r) {
    const R = 7500;
    await r.ask("admin", {
      request: "create",
      room: R,
      publishers: 1,
      pin: "p",
      require_pvtid: true,
      audiolevel_event: true,
    });
    await probe(r, "alice", [
      { request: "join", room: R, ptype: "publisher", id: A },
      { request: "join", room: R, ptype: "publisher", id: A, pin: "bad" },
    ]);
    await r.ask("alice", { request: "join", room: R, ptype: "publisher", id: A, pin: "p" });
    await r.settle("alice joined");
    await r.publish("alice", { request: "publish", data: true }, {
      audio: true,
      video: true,
      data: "chat",
    });
    await r.ask("bob", { request: "join", room: R, ptype: "publisher", id: B, pin: "p" });
    await r.settle("bob joined");
    await r.publish("bob", { request: "publish" }, { audio: true });
    await probe(r, "carol", [
      { request: "join", room: R, ptype: "subscriber", streams: [{ feed: A }] },
      { request: "join", room: R, ptype: "subscriber", pin: "p", streams: [{ feed: A }] },
      {
        request: "join",
        room: R,
        ptype: "subscriber",
        pin: "p",
        private_id: 5,
        streams: [{ feed: A }],
      },
    ]);
    await probe(r, "admin", [
      { request: "listparticipants", room: R },
      { request: "edit", room: R, new_publishers: 2 },
      { request: "destroy", room: R },
    ]);
  },
};

/**
 * How a publisher's departure reaches another participant's session, in order: its
 * subscription (`bobsub`) first gets `updated` with an offer, then its publisher handle (`bob`)
 * `unpublished` / `leaving`. The demos detach the subscription on `unpublished`, so the other
 * order sends an offer to a handle they have let go.
 */
const DEPARTURES: Scenario = {
  name: "a publisher leaves a room with subscribers (event order)",
  async run(r) {
    const R = 7600;
    const order = ["bobsub", "bob"];
    await r.ask("admin", { request: "create", room: R, publishers: 6 });
    await r.ask("bob", { request: "join", room: R, ptype: "publisher", display: "bob", id: B });
    await r.settle("bob joined");
    const media = { audio: true, video: true };
    const publish = async (name: string) => {
      await r.publish(name, {
        request: "joinandconfigure",
        room: R,
        ptype: "publisher",
        display: name,
        id: A,
      }, media);
    };
    await publish("alice");
    const pc = await joinSubscriber(r, "bobsub", R, [A]);
    await r.ask("alice", { request: "unpublish" });
    await r.settle("alice unpublished", 2500, order);
    await r.answerOffer("bobsub", pc);
    await r.publish("alice", { request: "publish" }, media);
    await r.subscribe("bobsub", { request: "update", subscribe: [{ feed: A }] }, pc);
    await r.core("alice", "hangup");
    await r.settle("alice hung up", 2500, order);
    await r.answerOffer("bobsub", pc);
    await r.publish("alice", { request: "publish" }, media);
    await r.subscribe("bobsub", { request: "update", subscribe: [{ feed: A }] }, pc);
    await r.core("alice", "detach");
    await r.settle("alice detached", 2500, order);
    await r.answerOffer("bobsub", pc);
    await publish("alice2");
    await r.subscribe("bobsub", { request: "update", subscribe: [{ feed: A }] }, pc);
    await r.ask("alice2", { request: "leave" });
    await r.settle("alice left while publishing", 2500, order);
    await r.core("alice2", "hangup");
    await r.settle("alice hung up after leaving", 2500, order);
    // The skipped update comes with the next one, even one that changes nothing.
    await r.subscribe("bobsub", { request: "update", unsubscribe: [{ feed: 999 }] }, pc);
    await probe(r, "admin", [{ request: "destroy", room: R }]);
  },
};

const ECHOTEST: Scenario = {
  name: "echotest call",
  async run(r) {
    const echo = "janus.plugin.echotest";
    await r.handle("caller", echo);
    await probe(r, "caller", [{}, { audio: "x" }, { fallback: "x", temporal: "x" }]);
    await r.publish("caller", { audio: true, video: true }, { audio: true, video: true }, true);
    await r.handleInfo("caller");
    await probe(r, "caller", [
      { audio: false },
      { video: false, bitrate: 128000 },
      { audio: true, video: true, record: false },
      { substream: 1, temporal: 3 },
    ]);
    await r.core("caller", "hangup");
    await r.settle("caller hung up", 1500);
    await r.detach("caller");
  },
};

/** TextRoom over the Janus API and over data channels (wrtc clients, as janus.js). */
const TEXTROOM: Scenario = {
  name: "textroom chat",
  async run(r) {
    const R = 7700;
    await r.handle("tradmin", "janus.plugin.textroom");
    await probe(r, "tradmin", [
      { request: "list" },
      { textroom: "list" },
      { request: "join", room: 1234 },
      { request: "create", room: R, secret: "s", history: 2, description: "Chat" },
      { request: "create", room: R },
      { request: "create", room: R + 1, allowed: [5] },
      { request: "create", history: -1 },
      { request: "exists", room: R },
      { request: "edit", room: R, secret: "x" },
      { request: "edit", room: R, secret: "s", new_pin: "p" },
      { request: "allowed", room: R, secret: "s", action: "bogus" },
      { request: "kick", room: R, secret: "s", username: "nobody" },
      { request: "announcement", room: R, secret: "s" },
      { request: "listparticipants", room: R },
      { request: "destroy", room: 999 },
    ]);
    await r.handleInfo("tradmin");
    await r.textroom("alice");
    await r.textroom("bob");
    const steps: [string, JsonObject | string | Uint8Array][] = [
      ["alice", { textroom: "join", room: R, username: "alice", display: "Alice" }],
      ["alice", { textroom: "join", room: R, username: "alice", pin: "p", display: "Alice" }],
      ["alice", { textroom: "message", room: R, text: "one" }],
      ["alice", { textroom: "announcement", room: R, secret: "s", text: "two" }],
      ["alice", { textroom: "message", room: R, text: "psst", to: "nobody" }],
      ["bob", { textroom: "join", room: R, username: "alice", pin: "p" }],
      ["bob", { textroom: "join", room: R, username: "bob", pin: "p" }],
      ["bob", { textroom: "message", room: R, text: "hi", tos: ["alice", "zed"] }],
      ["bob", { textroom: "message", room: R, text: "quiet", ack: false }],
      ["bob", { textroom: "message", room: R, text: "x", to: "a", tos: [] }],
      ["bob", { textroom: "listparticipants", room: R }],
      ["bob", { textroom: "list" }],
      ["bob", { textroom: "foo" }],
      ["bob", '{"textroom":"list"}'],
      ["bob", "[1]"],
      ["bob", "not json"],
      ["bob", new TextEncoder().encode('{"textroom":"list","transaction":"b"}')],
      ["alice", { textroom: "kick", room: R, secret: "s", username: "bob" }],
      ["bob", { textroom: "leave", room: R }],
      ["bob", { textroom: "join", room: R, username: "bob", pin: "p", history: false }],
      ["bob", { textroom: "leave", room: R }],
      ["alice", { textroom: "create", room: R + 2, history: 0 }],
      ["alice", { textroom: "destroy", room: R, secret: "s" }],
      ["alice", { textroom: "destroy", room: R + 2 }],
    ];
    for (const [who, body] of steps) {
      r.dc(who, body);
      await r.settle(`${who} data`, 400);
      // Where a participant is in rooms, as the admin API shows it.
      if (who === "bob" && typeof body === "object" && "textroom" in body) {
        if (body.textroom === "listparticipants") await r.handleInfo("bob");
      }
    }
    await r.handleInfo("alice");
    await r.detach("bob");
  },
};

/** Every scenario, in order. */
export const SCENARIOS: readonly Scenario[] = [
  SIGNALLING,
  PUBLISH_SUBSCRIBE,
  MODERATION,
  SWITCHING,
  ACCESS,
  DEPARTURES,
  ECHOTEST,
  TEXTROOM,
  ...PLUGIN_SCENARIOS,
];

/** Differences kept on purpose. */
export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  {
    scenario: "pins, private ids, the publishers limit, data channels",
    match: 'bob: {"janus":"hangup","reason":"Close PC"}',
    why: "an offer the plugin refuses (432) leaves no PeerConnection here; the reference keeps " +
      "a half-open one and hangs it up when the room goes",
  },
  {
    scenario: "",
    match: '"videoroom":"participants"',
    why: "the reference lists participants in hash-table order",
  },
  {
    scenario: "textroom chat",
    match: '\\"list\\": [',
    why: "the reference lists rooms in hash-table order",
  },
  {
    scenario: "",
    match: '"reason":"Detach"',
    why: "the reference sometimes also sends hangup 'Detach' for a detached handle with a live " +
      "PeerConnection (a race in Janus); this gateway sends detached only",
  },
  ...PLUGIN_KNOWN_DIFFERENCES,
];
