/**
 * Signalling scenarios of the Streaming, AudioBridge, Record&Play and VideoCall plugins played
 * on both servers: the requests a client sends without media (list, create, edit, join,
 * moderate, errors of every kind) and the events they cause. Each uses its own ids.
 *
 * @module
 */
import { type KnownDifference, probe, type Scenario } from "./probe.ts";

const STREAMING: Scenario = {
  name: "streaming requests",
  async run(r) {
    await r.handle("viewer", "janus.plugin.streaming");
    const M = 7800;
    await probe(r, "viewer", [
      {},
      { request: "bogus" },
      // No stock mountpoint and no list: the reference's stock mountpoints hold their ports in
      // the namespace both servers share, so only the reference has them.
      { request: "info", id: 999999 },
      { request: "info", id: "x" },
      {
        request: "create",
        type: "rtp",
        id: M,
        description: "compare",
        secret: "s",
        pin: "p",
        audio: true,
        audioport: 0,
        audiopt: 111,
        audiortpmap: "opus/48000/2",
        video: true,
        videoport: 0,
        videopt: 100,
        videortpmap: "VP8/90000",
      },
      { request: "create", type: "rtp", id: M, audio: true, audioport: 0 },
      // The reference keeps the id of a create with an unknown type: one of its own.
      { request: "create", type: "bogus", id: M + 9 },
      { request: "create", type: "rtp", id: M + 1 },
      { request: "create", type: "rtp", id: M + 1, audio: true, audioport: 0, audiopt: "x" },
      { request: "info", id: M },
      { request: "info", id: M, secret: "s" },
      { request: "edit", id: M, secret: "x", new_description: "d" },
      { request: "edit", id: M, secret: "s", new_description: "d", new_pin: "q" },
      { request: "disable", id: M, secret: "s" },
      { request: "watch", id: M, pin: "q" },
      { request: "enable", id: M, secret: "s" },
      { request: "watch", id: M },
      { request: "watch", id: M, pin: "x" },
      { request: "watch", id: 999999 },
      { request: "start" },
      { request: "pause" },
      { request: "switch", id: 999999 },
      { request: "kick", id: M, secret: "s", session_id: 5 },
      { request: "recording", id: M, secret: "s", action: "bogus" },
      { request: "destroy", id: M, secret: "x" },
      { request: "destroy", id: M, secret: "s" },
      { request: "destroy", id: M, secret: "s" },
      { request: "stop" },
    ]);
    await r.detach("viewer");
  },
};

const AUDIOBRIDGE: Scenario = {
  name: "audiobridge requests",
  async run(r) {
    const R = 7900;
    await r.handle("abadmin", "janus.plugin.audiobridge");
    await probe(r, "abadmin", [
      {},
      { request: "bogus" },
      { request: "exists", room: R },
      { request: "create", room: R, secret: "s", description: "AB", sampling_rate: 16000 },
      { request: "create", room: R },
      { request: "create", room: R + 1, sampling_rate: 12345 },
      { request: "create", room: "x" },
      { request: "exists", room: R },
      { request: "edit", room: R, secret: "x", new_description: "d" },
      { request: "edit", room: R, secret: "s", new_description: "d", new_pin: "p" },
      { request: "listparticipants", room: R },
      { request: "listparticipants", room: 999999 },
    ]);
    await r.handle("alice", "janus.plugin.audiobridge");
    await probe(r, "alice", [
      { request: "join", room: 999999 },
      { request: "join", room: R, display: "Alice" },
      { request: "join", room: R, pin: "p", id: 1001, display: "Alice" },
      { request: "join", room: R, pin: "p", id: 1001, display: "Alice" },
      { request: "configure", muted: true, display: "Al" },
      { request: "configure", volume: "x" },
    ]);
    await r.handleInfo("alice");
    await r.handleInfo("abadmin");
    await probe(r, "abadmin", [
      { request: "listparticipants", room: R },
      { request: "mute", room: R, secret: "s", id: 1001 },
      { request: "unmute", room: R, secret: "s", id: 1001 },
      { request: "mute", room: R, secret: "s", id: 999 },
      { request: "mute_room", room: R, secret: "s" },
      { request: "unmute_room", room: R, secret: "s" },
      { request: "play_file", room: R, secret: "s" },
      { request: "stop_file", room: R, secret: "s", file_id: "x" },
      { request: "is_playing", room: R, file_id: "x" },
      { request: "rtp_forward", room: R, secret: "s", host: "127.0.0.1" },
      { request: "listforwarders", room: R, secret: "s" },
    ]);
    await probe(r, "alice", [
      { request: "changeroom", room: 999999 },
      { request: "leave" },
      { request: "leave" },
    ]);
    await probe(r, "abadmin", [
      { request: "kick", room: R, secret: "s", id: 1001 },
      { request: "destroy", room: R, secret: "x" },
      { request: "destroy", room: R, secret: "s" },
      { request: "destroy", room: R, secret: "s" },
    ]);
    await r.detach("alice");
  },
};

const RECORDPLAY: Scenario = {
  name: "recordplay requests",
  async run(r) {
    await r.handle("rec", "janus.plugin.recordplay");
    await probe(r, "rec", [
      {},
      { request: "bogus" },
      { request: "update" },
      { request: "play", id: 999999 },
      { request: "play", id: "x" },
      { request: "record", name: "x" },
      { request: "record" },
      { request: "configure", "video-bitrate-max": "x" },
      { request: "configure", "video-bitrate-max": 128000, "video-keyframe-interval": 5000 },
      { request: "start" },
      { request: "stop" },
    ]);
    await r.handleInfo("rec");
    await r.detach("rec");
  },
};

const VIDEOCALL: Scenario = {
  name: "videocall requests",
  async run(r) {
    const plugin = "janus.plugin.videocall";
    await r.handle("alice", plugin);
    await r.handle("bob", plugin);
    await probe(r, "alice", [
      {},
      { request: "bogus" },
      { request: "list" },
      { request: "call", username: "bob" },
      { request: "register" },
      { request: "register", username: 5 },
      { request: "register", username: "cmp-alice" },
      { request: "register", username: "cmp-alice2" },
      { request: "list" },
    ]);
    await r.handleInfo("alice");
    await probe(r, "bob", [
      { request: "register", username: "cmp-alice" },
      { request: "register", username: "cmp-bob" },
      { request: "call", username: "cmp-nobody" },
      { request: "call", username: "cmp-alice" },
      { request: "accept" },
      { request: "set", bitrate: 1000 },
      { request: "set", bitrate: "x" },
      { request: "hangup" },
    ]);
    await r.detach("alice");
    await probe(r, "bob", [{ request: "list" }]);
    await r.detach("bob");
  },
};

/** A Streaming viewer with a real peer: watch, start, pause, switch, stop (no RTP fed). */
const STREAMING_VIEWER: Scenario = {
  name: "streaming viewer",
  async run(r) {
    const M = 7810;
    const rtp = (id: number, description: string) => ({
      request: "create",
      type: "rtp",
      id,
      description,
      media: [
        { type: "audio", mid: "a", port: 0, pt: 111, codec: "opus" },
        { type: "video", mid: "v", port: 0, pt: 100, codec: "vp8" },
      ],
    });
    await r.handle("mpadmin", "janus.plugin.streaming");
    await probe(r, "mpadmin", [rtp(M, "one"), rtp(M + 1, "two")]);
    await r.handle("viewer", "janus.plugin.streaming");
    const peer = await r.subscribe("viewer", { request: "watch", id: M });
    await r.handleInfo("viewer");
    await probe(r, "viewer", [
      { request: "pause" },
      { request: "start" },
      { request: "configure", audio: false },
      { request: "configure", streams: [{ mid: "a", send: true }] },
      { request: "switch", id: M + 1 },
      { request: "switch", id: M + 1 },
      { request: "watch", id: M },
    ]);
    await probe(r, "mpadmin", [{ request: "info", id: M + 1 }]);
    await probe(r, "viewer", [{ request: "stop" }]);
    // Watching again after a stop: a new offer, answered by a new peer.
    peer.close();
    await r.subscribe("viewer", { request: "watch", id: M });
    await probe(r, "mpadmin", [
      { request: "kick", id: M },
      { request: "destroy", id: M },
      { request: "destroy", id: M + 1 },
    ]);
    await r.detach("viewer");
  },
};

/** Two AudioBridge participants with real peers: join with an offer, mute, leave. */
const AUDIOBRIDGE_PEERS: Scenario = {
  name: "audiobridge participants",
  async run(r) {
    const R = 7910;
    await r.handle("abadmin", "janus.plugin.audiobridge");
    await probe(r, "abadmin", [{ request: "create", room: R, secret: "s" }]);
    const join = (id: number, display: string) => ({ request: "join", room: R, id, display });
    await r.handle("alice", "janus.plugin.audiobridge");
    await r.publish("alice", join(1001, "Alice"), { audio: true }, true);
    await r.handle("bob", "janus.plugin.audiobridge");
    await r.publish("bob", join(1002, "Bob"), { audio: true }, true);
    await r.handleInfo("alice");
    await probe(r, "alice", [
      { request: "configure", muted: true },
      { request: "configure", display: "Alice B." },
      { request: "configure", muted: false, record: false },
    ]);
    await probe(r, "abadmin", [
      { request: "listparticipants", room: R },
      { request: "mute", room: R, secret: "s", id: 1002 },
      { request: "kick", room: R, secret: "s", id: 1002 },
    ]);
    await probe(r, "alice", [{ request: "leave" }]);
    await r.core("bob", "hangup");
    await r.settle("bob hung up", 1500);
    await probe(r, "abadmin", [{ request: "destroy", room: R, secret: "s" }]);
    await r.detach("alice", "bob");
  },
};

/** A VideoCall between two real peers: call, accept, set, hangup. */
const VIDEOCALL_CALL: Scenario = {
  name: "videocall call",
  async run(r) {
    const plugin = "janus.plugin.videocall";
    await r.handle("alice", plugin);
    await r.handle("bob", plugin);
    await probe(r, "alice", [{ request: "register", username: "cmp-call-a" }]);
    await probe(r, "bob", [{ request: "register", username: "cmp-call-b" }]);
    const media = { audio: true, video: true };
    const alice = await r.publish(
      "alice",
      { request: "call", username: "cmp-call-b" },
      media,
      true,
    );
    await r.answerOffer("bob", undefined, { request: "accept" }, media);
    await r.applyAnswer("alice", alice);
    await r.settle("call up", 1500);
    await r.handleInfo("alice");
    await r.handleInfo("bob");
    await probe(r, "alice", [
      { request: "set", audio: false },
      { request: "set", bitrate: 128000 },
      { request: "set", video: "x" },
    ]);
    await probe(r, "bob", [{ request: "call", username: "cmp-call-a" }, { request: "hangup" }]);
    await r.settle("after the hangup", 1500);
    await probe(r, "alice", [{ request: "hangup" }]);
    await r.detach("alice", "bob");
  },
};

/** The plugins' signalling scenarios, in order. */
export const PLUGIN_SCENARIOS: readonly Scenario[] = [
  STREAMING,
  AUDIOBRIDGE,
  RECORDPLAY,
  VIDEOCALL,
  STREAMING_VIEWER,
  AUDIOBRIDGE_PEERS,
  VIDEOCALL_CALL,
];

/** Differences kept on purpose in these scenarios. */
export const PLUGIN_KNOWN_DIFFERENCES: readonly KnownDifference[] = [{
  scenario: "videocall call",
  // Both sides' handle info in the call (the reference's alone says "audio_red":true).
  match: '"slowlink_count":0,"incall":1',
  why: "the RTP engine answers plain Opus, not Opus RED (redundancy), so no call has audio_red",
}];
