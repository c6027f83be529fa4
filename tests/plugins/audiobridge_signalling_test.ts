/**
 * AudioBridge over the Janus API: one case list run over HTTP and over WebSocket (a fresh
 * gateway each), with the reply and event shapes, their order and the error codes measured on
 * Janus 1.1.2 (docs/plugins/audiobridge.md). The case with `media` answers a hand-made offer in
 * a media worker (no connection comes of it) and must run in the test network namespace. Each
 * test ends with the plugin's sessions and participants back at zero.
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { startTestGateway, type TestGateway } from "../_helpers/gateway.ts";
import { httpClient, type JanusClient, wsClient } from "../_helpers/janus_client.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import {
  abErr,
  AbHandle,
  audioBridgeCounts,
  handleInfo,
  ROOM_1234,
  same,
  startAudioBridgeGateway,
} from "./_audiobridge.ts";

interface Case {
  name: string;
  media?: boolean;
  run(c: JanusClient, gw: TestGateway): Promise<void>;
}

/** A client's audio offer (Opus, audio levels) that no connection follows. */
function audioOffer(video = false): JsonObject {
  const fingerprint = Array.from(
    { length: 32 },
    (_, i) => (i * 7 % 256).toString(16).padStart(2, "0"),
  )
    .join(":").toUpperCase();
  const section = (kind: string, mid: string, pt: string, rtpmap: string) => [
    `m=${kind} 9 UDP/TLS/RTP/SAVPF ${pt}`,
    "c=IN IP4 0.0.0.0",
    "a=rtcp:9 IN IP4 0.0.0.0",
    "a=ice-ufrag:abcd",
    "a=ice-pwd:abcdefghijklmnopqrstuvwx",
    `a=fingerprint:sha-256 ${fingerprint}`,
    "a=setup:actpass",
    `a=mid:${mid}`,
    ...(kind === "audio" ? ["a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level"] : []),
    "a=sendrecv",
    "a=rtcp-mux",
    `a=rtpmap:${pt} ${rtpmap}`,
    `a=ssrc:${kind === "audio" ? 1111 : 2222} cname:test`,
  ];
  const sdp = [
    "v=0",
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
    "s=-",
    "t=0 0",
    `a=group:BUNDLE 0${video ? " 1" : ""}`,
    "a=msid-semantic: WMS",
    ...section("audio", "0", "111", "opus/48000/2"),
    ...(video ? section("video", "1", "96", "VP8/90000") : []),
    "",
  ].join("\r\n");
  return { type: "offer", sdp };
}

const CASES: Case[] = [
  {
    name: "room management: list, create, exists, edit, allowed, destroy and their errors",
    async run(c) {
      const h = await AbHandle.open(c);
      same(await h.sync({ request: "list" }), { audiobridge: "success", list: [ROOM_1234] });
      same(await h.sync({ request: "create", room: 777, audiolevel_event: true }), {
        audiobridge: "created",
        room: 777,
        permanent: false,
      });
      same(await h.sync({ request: "create", room: 777 }), abErr(486, "Room 777 already exists"));
      same(
        await h.sync({ request: "create", room: 778, sampling_rate: 12345 }),
        abErr(499, "Unsupported sampling rate 12345"),
      );
      same(
        await h.sync({ request: "create", room: "x" }),
        abErr(484, "Invalid element type (room should be a positive integer)"),
      );
      same(await h.sync({ request: "exists", room: 777 }), {
        audiobridge: "success",
        room: 777,
        exists: true,
      });
      same(await h.sync({ request: "exists", room: 779 }), {
        audiobridge: "success",
        room: 779,
        exists: false,
      });
      same(
        await h.sync({ request: "edit", room: 1234, new_description: "x" }),
        abErr(483, "Missing mandatory element (secret)"),
      );
      same(
        await h.sync({ request: "edit", room: 1234, secret: "no", new_description: "x" }),
        abErr(489, "Unauthorized (wrong secret)"),
      );
      same(
        await h.sync({ request: "edit", room: 777, new_description: "Seven", new_pin: "p" }),
        { audiobridge: "edited", room: 777, permanent: false },
      );
      same(await h.sync({ request: "allowed", room: 777, action: "add", allowed: ["t1"] }), {
        audiobridge: "success",
        room: 777,
        allowed: ["t1"],
      });
      same(
        await h.sync({ request: "allowed", room: 777, action: "nope" }),
        abErr(484, "Unsupported action 'nope' (allowed)"),
      );
      const list = (await h.sync({ request: "list" })).list as JsonObject[];
      same(list[1], {
        room: 777,
        description: "Seven",
        sampling_rate: 16000,
        spatial_audio: false,
        pin_required: true,
        record: false,
        muted: false,
        num_participants: 0,
      });
      same(await h.sync({ request: "destroy", room: 777 }), {
        audiobridge: "destroyed",
        room: 777,
        permanent: false,
      });
      same(await h.sync({ request: "destroy", room: 777 }), abErr(485, "No such room (777)"));
      same(await h.sync({ request: "foo" }), abErr(482, "Unknown request 'foo'"));
      same(await h.sync({}), abErr(483, "Missing mandatory element (request)"));
      same(await h.sync({ request: "resetdecoder" }), abErr(487, "Can't reset (not in a room)"));
      await h.close();
    },
  },
  {
    name: "MJR recordings: enable_mjrs, create's mjrs fields, edit new_mjrs_dir, join/configure " +
      "record and filename: replies and errors",
    async run(c) {
      const h = await AbHandle.open(c);
      same(
        await h.sync({ request: "create", room: 782, mjrs: "x" }),
        abErr(484, "Invalid element type (mjrs should be a boolean)"),
      );
      same(
        await h.sync({ request: "create", room: 782, mjrs_dir: 1 }),
        abErr(484, "Invalid element type (mjrs_dir should be a string)"),
      );
      await h.sync({ request: "create", room: 782, secret: "s" });
      const mjrs = (body: JsonObject) => h.sync({ request: "enable_mjrs", ...body });
      // `mjrs` and `mjrs_dir` first, then the room (missing or not an integer: room 0), then
      // the secret (as measured on Janus 1.1.2).
      same(await mjrs({ room: 782 }), abErr(483, "Missing mandatory element (mjrs)"));
      same(
        await mjrs({ room: 782, mjrs: "yes" }),
        abErr(484, "Invalid element type (mjrs should be a boolean)"),
      );
      same(
        await mjrs({ room: 782, mjrs: true, secret: "s", mjrs_dir: 5 }),
        abErr(484, "Invalid element type (mjrs_dir should be a string)"),
      );
      same(await mjrs({ mjrs: true, secret: "s" }), abErr(485, "No such room (0)"));
      same(await mjrs({ room: "x", mjrs: true }), abErr(485, "No such room (0)"));
      same(await mjrs({ room: 783, mjrs: true }), abErr(485, "No such room (783)"));
      same(await mjrs({ room: 782, mjrs: true }), abErr(483, "Missing mandatory element (secret)"));
      same(
        await mjrs({ room: 782, mjrs: true, secret: "x" }),
        abErr(489, "Unauthorized (wrong secret)"),
      );
      same(await mjrs({ room: 782, mjrs: true, secret: "s" }), {
        audiobridge: "success",
        mjrs: true,
      });
      same(await mjrs({ room: 782, mjrs: false, secret: "s", mjrs_dir: "d" }), {
        audiobridge: "success",
        mjrs: false,
      });
      same(
        await h.sync({ request: "edit", room: 782, secret: "s", new_mjrs_dir: 3 }),
        abErr(484, "Invalid element type (new_mjrs_dir should be a string)"),
      );
      same(await h.sync({ request: "edit", room: 782, secret: "s", new_mjrs_dir: "d" }), {
        audiobridge: "edited",
        room: 782,
        permanent: false,
      });
      // The list shows nothing of it.
      const list = (await h.sync({ request: "list" })).list as JsonObject[];
      assert.deepEqual(Object.keys(list[1]!), Object.keys(ROOM_1234));
      same(
        (await h.ask({ request: "join", room: 782, record: "x" })).data,
        abErr(484, "Invalid element type (record should be a boolean)"),
      );
      same(
        (await h.ask({ request: "join", room: 782, filename: 1 })).data,
        abErr(484, "Invalid element type (filename should be a string)"),
      );
      // Without a PeerConnection nothing is recorded yet (no file, none in handle_info).
      same((await h.ask({ request: "join", room: 782, id: 5, record: true, filename: "q" })).data, {
        audiobridge: "joined",
        room: 782,
        id: 5,
        participants: [],
      });
      same(
        (await h.ask({ request: "configure", record: "x" })).data,
        abErr(484, "Invalid element type (record should be a boolean)"),
      );
      same(
        (await h.ask({ request: "configure", filename: 2 })).data,
        abErr(484, "Invalid element type (filename should be a string)"),
      );
      same((await h.ask({ request: "configure", record: false })).data, {
        audiobridge: "event",
        result: "ok",
      });
      same((await h.ask({ request: "leave" })).data, { audiobridge: "left", room: 782, id: 5 });
      await h.sync({ request: "destroy", room: 782, secret: "s" });
      await h.close();
    },
  },
  {
    name: "join, joined to the others, listparticipants, configure, leave",
    async run(c) {
      const a = await AbHandle.open(c);
      const b = await AbHandle.open(c);
      await a.sync({ request: "create", room: 777 });
      same((await a.ask({ request: "join", room: 777, id: 11, display: "a" })).data, {
        audiobridge: "joined",
        room: 777,
        id: 11,
        participants: [],
      });
      same((await b.ask({ request: "join", room: 777, id: 12, display: "b", muted: true })).data, {
        audiobridge: "joined",
        room: 777,
        id: 12,
        participants: [{ id: 11, display: "a", setup: false, muted: false }],
      });
      same(await a.next(), {
        audiobridge: "joined",
        room: 777,
        participants: [{ id: 12, display: "b", setup: false, muted: true }],
      });
      same(await a.sync({ request: "listparticipants", room: 777 }), {
        audiobridge: "participants",
        room: 777,
        participants: [
          { id: 11, display: "a", setup: false, muted: false },
          { id: 12, display: "b", setup: false, muted: true },
        ],
      });
      // The others hear of a display or mute change; the requester gets `ok`.
      same((await a.ask({ request: "configure", volume: 50, display: "aa" })).data, {
        audiobridge: "event",
        result: "ok",
      });
      same(await b.next(), {
        audiobridge: "event",
        room: 777,
        participants: [{ id: 11, display: "aa", setup: false, muted: false }],
      });
      same((await a.ask({ request: "configure", volume: 80 })).data, {
        audiobridge: "event",
        result: "ok",
      });
      same(
        (await a.ask({ request: "configure", quality: 11 })).data,
        abErr(484, "Invalid element (quality should be a positive integer between 1 and 10)"),
      );
      same(
        (await a.ask({ request: "join", room: 777 })).data,
        abErr(
          491,
          "Already in a room (use changeroom to join another one)",
        ),
      );
      same((await a.ask({ request: "leave" })).data, { audiobridge: "left", room: 777, id: 11 });
      same(await b.next(), { audiobridge: "event", room: 777, leaving: 11 });
      same((await a.ask({ request: "leave" })).data, abErr(487, "Can't leave (not in a room)"));
      assert.equal(await b.any(), undefined, "no other event");
      await a.sync({ request: "destroy", room: 777 });
      same(await b.next(), { audiobridge: "destroyed", room: 777 });
      await a.close();
      await b.close();
    },
  },
  {
    name: "moderation: mute, unmute, mute_room, kick, kick_all",
    async run(c) {
      const a = await AbHandle.open(c);
      const b = await AbHandle.open(c);
      await a.sync({ request: "create", room: 777, secret: "s" });
      await a.ask({ request: "join", room: 777, id: 11, display: "a" });
      await b.ask({ request: "join", room: 777, id: 12 });
      await a.next(); // b joined
      same(
        await b.sync({ request: "mute", room: 777, id: 11 }),
        abErr(483, "Missing mandatory element (secret)"),
      );
      same(
        await b.sync({ request: "mute", room: 777, secret: "s", id: 13 }),
        abErr(492, "No such user 13 in room 777"),
      );
      same(await b.sync({ request: "mute", room: 777, secret: "s", id: 11 }), {
        audiobridge: "success",
        room: 777,
      });
      // The target hears it too.
      const muted = {
        audiobridge: "event",
        room: 777,
        participants: [{ id: 11, display: "a", setup: false, muted: true }],
      };
      same(await a.next(), muted);
      same(await b.next(), muted);
      // Nothing to change: success without the room, and no event.
      same(await b.sync({ request: "mute", room: 777, secret: "s", id: 11 }), {
        audiobridge: "success",
      });
      same(await b.sync({ request: "unmute", room: 777, secret: "s", id: 11 }), {
        audiobridge: "success",
        room: 777,
      });
      assert.deepEqual((await a.next()).participants, [
        { id: 11, display: "a", setup: false, muted: false },
      ]);
      await b.next();
      same(await b.sync({ request: "mute_room", room: 777, secret: "s" }), {
        audiobridge: "success",
        room: 777,
      });
      same(await a.next(), { audiobridge: "event", room: 777, muted: true });
      same(await b.next(), { audiobridge: "event", room: 777, muted: true });
      // Already muted: the reference's reply names no room, and nobody is told.
      same(await b.sync({ request: "mute_room", room: 777, secret: "s" }), {
        audiobridge: "success",
      });
      assert.equal(
        ((await a.sync({ request: "list" })).list as JsonObject[])[1]?.muted,
        true,
      );
      same(await b.sync({ request: "kick", room: 777, secret: "s", id: 11 }), {
        audiobridge: "success",
      });
      same(await a.next(), { audiobridge: "event", room: 777, kicked: 11 });
      same(await b.next(), { audiobridge: "event", room: 777, kicked: 11 });
      same(await b.next(), { audiobridge: "event", room: 777, leaving: 11 });
      same(
        (await a.ask({ request: "configure", muted: false })).data,
        abErr(
          487,
          "Can't configure (not in a room)",
        ),
      );
      same(await a.sync({ request: "kick_all", room: 777, secret: "s" }), {
        audiobridge: "success",
      });
      same(await b.next(), { audiobridge: "event", room: 777, kicked_all: 12 });
      same(await a.sync({ request: "listparticipants", room: 777 }), {
        audiobridge: "participants",
        room: 777,
        participants: [],
      });
      await a.sync({ request: "destroy", room: 777, secret: "s" });
      await a.close();
      await b.close();
    },
  },
  {
    name: "join checks: no such room, pin, token, taken id; changeroom gets a new id",
    async run(c) {
      const a = await AbHandle.open(c);
      const b = await AbHandle.open(c);
      same((await a.ask({ request: "join", room: 999 })).data, abErr(485, "No such room (999)"));
      same(
        (await a.ask({ request: "configure" })).data,
        abErr(
          487,
          "Can't configure (not in a room)",
        ),
      );
      same(
        (await a.ask({ request: "changeroom", room: 1234 })).data,
        abErr(
          487,
          "Can't change room (not in a room in the first place)",
        ),
      );
      await a.sync({ request: "create", room: 777, pin: "p", allowed: ["tok"] });
      same(
        (await a.ask({ request: "join", room: 777 })).data,
        abErr(483, "Missing mandatory element (pin)"),
      );
      same(
        (await a.ask({ request: "join", room: 777, pin: "x" })).data,
        abErr(489, "Unauthorized (wrong pin)"),
      );
      same(
        (await a.ask({ request: "join", room: 777, pin: "p" })).data,
        abErr(489, "Unauthorized (not in the allowed list)"),
      );
      await a.ask({ request: "join", room: 777, pin: "p", token: "tok", id: 5, display: "a" });
      same(
        (await b.ask({ request: "join", room: 777, pin: "p", token: "tok", id: 5 })).data,
        abErr(490, "User ID 5 already exists"),
      );
      await b.ask({ request: "join", room: 1234, id: 6, display: "b" });
      same(
        (await a.ask({ request: "changeroom", room: 777 })).data,
        abErr(
          491,
          "Already in this room",
        ),
      );
      const moved = (await a.ask({ request: "changeroom", room: 1234 })).data;
      assert.equal(moved.audiobridge, "roomchanged");
      assert.equal(moved.room, 1234);
      assert.ok(typeof moved.id === "number" && moved.id !== 5, "a new random id");
      assert.deepEqual(moved.participants, [{ id: 6, display: "b", setup: false, muted: false }]);
      same(await b.next(), {
        audiobridge: "joined",
        room: 1234,
        participants: [{ id: moved.id, display: "a", setup: false, muted: false }],
      });
      await a.sync({ request: "destroy", room: 777 });
      await a.close();
      same(await b.next(), { audiobridge: "event", room: 1234, leaving: moved.id as number });
      await b.close();
    },
  },
  {
    name: "hangup, then an offer on a handle that never joined: 487, no crash",
    async run(c) {
      const h = await AbHandle.open(c);
      same((await h.ask({ request: "hangup" })).data, { audiobridge: "hangingup" });
      same(
        (await h.ask({ request: "configure", muted: false }, audioOffer())).data,
        abErr(
          487,
          "Can't configure (not in a room)",
        ),
      );
      same(
        (await h.ask({ request: "hangup" }, audioOffer())).data,
        abErr(
          487,
          "Can't handle SDP (not in a room)",
        ),
      );
      // Still serving.
      same(await h.sync({ request: "list" }), { audiobridge: "success", list: [ROOM_1234] });
      await h.close();
    },
  },
  {
    name: "spatial audio: spatial_position on join, configure (capped at 100) and changeroom",
    async run(c) {
      const admin = await AbHandle.open(c);
      await admin.sync({ request: "create", room: 90, spatial_audio: true });
      const a = await AbHandle.open(c);
      const b = await AbHandle.open(c);
      await a.ask({ request: "join", room: 90, id: 1, spatial_position: 0 });
      same((await b.ask({ request: "join", room: 90, id: 2 })).data, {
        audiobridge: "joined",
        room: 90,
        id: 2,
        participants: [{ id: 1, setup: false, muted: false, spatial_position: 0 }],
      });
      same(await a.next(), {
        audiobridge: "joined",
        room: 90,
        participants: [{ id: 2, setup: false, muted: false, spatial_position: 50 }],
      });
      same((await b.ask({ request: "configure", spatial_position: 130 })).data, {
        audiobridge: "event",
        result: "ok",
      });
      same(await a.next(), {
        audiobridge: "event",
        room: 90,
        participants: [{ id: 2, setup: false, muted: false, spatial_position: 100 }],
      });
      same(
        (await b.ask({ request: "configure", spatial_position: -1 })).data,
        abErr(484, "Invalid element type (spatial_position should be a positive integer)"),
      );
      // Out and back in: changeroom's default position is the reference's 64.
      await b.ask({ request: "changeroom", room: 1234, id: 2 });
      same(await a.next(), { audiobridge: "event", room: 90, leaving: 2 });
      await b.ask({ request: "changeroom", room: 90, id: 3 });
      same(await a.next(), {
        audiobridge: "joined",
        room: 90,
        participants: [{ id: 3, setup: false, muted: false, spatial_position: 64 }],
      });
      same(await admin.sync({ request: "listparticipants", room: 90 }), {
        audiobridge: "participants",
        room: 90,
        participants: [
          { id: 1, setup: false, muted: false, spatial_position: 0 },
          { id: 3, setup: false, muted: false, spatial_position: 64 },
        ],
      });
      // A room without spatial audio shows no position.
      await a.ask({ request: "changeroom", room: 1234, id: 1, spatial_position: 10 });
      same(await admin.sync({ request: "listparticipants", room: 1234 }), {
        audiobridge: "participants",
        room: 1234,
        participants: [{ id: 1, setup: false, muted: false }],
      });
      await admin.sync({ request: "destroy", room: 90 });
      for (const h of [a, b, admin]) await h.close();
    },
  },
  {
    name: "groups: create (at most 5, strings), group on join, configure, changeroom, " +
      "play_file and rtp_forward, their errors; listforwarders and handle info show it",
    async run(c, gw) {
      const admin = await AbHandle.open(c);
      same(
        await admin.sync({ request: "create", room: 801, groups: ["a", "b", "c", "d", "e", "f"] }),
        abErr(484, "Too many groups specified (max 5 allowed)"),
      );
      same(
        await admin.sync({ request: "create", room: 801, groups: [1, 2, 3, 4, 5, 6] }),
        abErr(484, "Too many groups specified (max 5 allowed)"),
      );
      same(
        await admin.sync({ request: "create", room: 801, groups: ["a", 1] }),
        abErr(484, "Invalid element in the groups array (not a string)"),
      );
      same(
        await admin.sync({ request: "create", room: 801, groups: "a" }),
        abErr(484, "Invalid element type (groups should be an array)"),
      );
      same(
        await admin.sync({ request: "create", room: 801, allowed: [1], groups: [1] }),
        abErr(484, "Invalid element in the allowed array (not a string)"),
      );
      // Duplicates count once; an empty list is a room without groups.
      await admin.sync({ request: "create", room: 801, groups: ["a", "b", "a"] });
      await admin.sync({ request: "create", room: 803, groups: [] });
      same(
        await admin.sync({ request: "edit", room: 801, groups: ["x"] }),
        { audiobridge: "edited", room: 801, permanent: false },
      );
      const a = await AbHandle.open(c);
      const b = await AbHandle.open(c);
      same(
        (await a.ask({ request: "join", room: 801, id: 1 })).data,
        abErr(483, "Missing mandatory element (group)"),
      );
      same(
        (await a.ask({ request: "join", room: 801, id: 1, group: 5 })).data,
        abErr(484, "Invalid element type (group should be a string)"),
      );
      same(
        (await a.ask({ request: "join", room: 801, id: 1, group: "z" })).data,
        abErr(494, "No such group (z)"),
      );
      // `edit` left the groups as they were ("x" is none of them).
      same(
        (await a.ask({ request: "join", room: 801, id: 1, group: "x" })).data,
        abErr(494, "No such group (x)"),
      );
      same(
        (await a.ask({ request: "join", room: 803, id: 1, group: 5 })).data,
        abErr(484, "Invalid element type (group should be a string)"),
      );
      // A room without groups ignores the group.
      same((await a.ask({ request: "join", room: 803, id: 1, group: "z" })).data, {
        audiobridge: "joined",
        room: 803,
        id: 1,
        participants: [],
      });
      await a.ask({ request: "leave" });
      same((await a.ask({ request: "join", room: 801, id: 1, group: "a", display: "one" })).data, {
        audiobridge: "joined",
        room: 801,
        id: 1,
        participants: [],
      });
      await b.ask({ request: "join", room: 801, id: 2, group: "b" });
      same(await a.next(), {
        audiobridge: "joined",
        room: 801,
        participants: [{ id: 2, setup: false, muted: false }],
      });
      same(
        (await a.ask({ request: "configure", group: "z", muted: true })).data,
        abErr(494, "No such group (z)"),
      );
      same(
        (await a.ask({ request: "configure", group: 3 })).data,
        abErr(484, "Invalid element type (group should be a string)"),
      );
      // A group change tells nobody.
      same((await a.ask({ request: "configure", group: "b" })).data, {
        audiobridge: "event",
        result: "ok",
      });
      assert.equal(await b.any(), undefined, "no event for a group change");
      const info = await handleInfo(gw, a);
      assert.equal(info.group, "b", JSON.stringify(info));
      const moved = (await b.ask({ request: "changeroom", room: 803, group: "z" })).data;
      assert.equal(moved.audiobridge, "roomchanged", JSON.stringify(moved));
      same(await a.next(), { audiobridge: "event", room: 801, leaving: 2 });
      // The reference's changeroom errors in a room with groups leave its rooms lock held (the
      // plugin hangs); the errors are the ones its code sets.
      same(
        (await b.ask({ request: "changeroom", room: 801 })).data,
        abErr(483, "Missing mandatory element (group)"),
      );
      same(
        (await b.ask({ request: "changeroom", room: 801, group: 4 })).data,
        abErr(484, "Invalid element type (group should be a string)"),
      );
      same(
        (await b.ask({ request: "changeroom", room: 801, group: "z" })).data,
        abErr(494, "No such group (z)"),
      );
      same((await b.ask({ request: "changeroom", room: 801, id: 2, group: "a" })).data, {
        audiobridge: "roomchanged",
        room: 801,
        id: 2,
        participants: [{ id: 1, display: "one", setup: false, muted: false }],
      });
      same(await a.next(), {
        audiobridge: "joined",
        room: 801,
        participants: [{ id: 2, setup: false, muted: false }],
      });
      const forward = (room: number, port: number, group?: string | number) =>
        admin.sync({
          request: "rtp_forward",
          room,
          host: "127.0.0.1",
          port,
          ...(group !== undefined ? { group } : {}),
        });
      same(await forward(801, 5002, "z"), abErr(494, "No such group"));
      same(
        await forward(801, 5002, 3),
        abErr(484, "Invalid element type (group should be a string)"),
      );
      const fa = await forward(801, 5002, "a");
      same(fa, {
        audiobridge: "success",
        room: 801,
        group: "a",
        stream_id: fa.stream_id as number,
        host: "127.0.0.1",
        port: 5002,
      });
      const full = await forward(801, 5004);
      same(full, {
        audiobridge: "success",
        room: 801,
        stream_id: full.stream_id as number,
        host: "127.0.0.1",
        port: 5004,
      });
      // The host is resolved before the room is looked at; the reply names the address.
      same(
        await admin.sync({
          request: "rtp_forward",
          room: 999,
          host: "no-such-host.invalid",
          port: 1,
        }),
        abErr(484, "Could not resolve address (no-such-host.invalid)..."),
      );
      const named = await admin.sync({
        request: "rtp_forward",
        room: 803,
        host: "localhost",
        host_family: "ipv4",
        port: 5008,
      });
      same(named, {
        audiobridge: "success",
        room: 803,
        stream_id: named.stream_id as number,
        host: "127.0.0.1",
        port: 5008,
      });
      // A room without groups forwards the full mix whatever the request says.
      const other = await forward(803, 5006, "a");
      same(other, {
        audiobridge: "success",
        room: 803,
        stream_id: other.stream_id as number,
        host: "127.0.0.1",
        port: 5006,
      });
      const listed = await admin.sync({ request: "listforwarders", room: 801 });
      const forwarders = (listed.rtp_forwarders as JsonObject[])
        .sort((x, y) => (x.port as number) - (y.port as number));
      same(forwarders[0], {
        stream_id: fa.stream_id as number,
        group: "a",
        ip: "127.0.0.1",
        port: 5002,
        ssrc: fa.stream_id as number,
        codec: "opus",
        ptype: 100,
        always_on: false,
      });
      assert.equal(forwarders[1]?.group, undefined);
      const play = (group?: string | number) =>
        admin.sync({
          request: "play_file",
          room: 801,
          filename: "/nonexistent.opus",
          ...(group !== undefined ? { group } : {}),
        });
      same(await play(), abErr(483, "Missing mandatory element (group)"));
      same(await play(3), abErr(484, "Invalid element type (group should be a string)"));
      same(await play("z"), abErr(494, "No such group (z)"));
      same(await play("a"), abErr(499, "Error opening file"));
      same((await a.ask({ request: "leave" })).data, { audiobridge: "left", room: 801, id: 1 });
      same(await b.next(), { audiobridge: "event", room: 801, leaving: 1 });
      for (const r of [801, 803]) await admin.sync({ request: "destroy", room: r });
      same(await b.next(), { audiobridge: "destroyed", room: 801 });
      for (const h of [a, b, admin]) await h.close();
    },
  },
  {
    name:
      "plain RTP: joined tells the plugin's rtp {ip, port, payload_type}; 489 where not allowed",
    media: true,
    async run(c) {
      const h = await AbHandle.open(c);
      const rtp = { ip: "127.0.0.1", port: 5002 };
      same(
        (await h.ask({ request: "join", room: 999, rtp })).data,
        abErr(485, "No such room (999)"),
      );
      same(
        (await h.ask({ request: "join", room: 1234, rtp })).data,
        abErr(489, "Plain RTP participants not allowed in this room"),
      );
      await h.sync({ request: "create", room: 81, allow_rtp_participants: true });
      const opus = await h.ask({ request: "join", room: 81, id: 1, rtp });
      const told = opus.data.rtp as JsonObject;
      same(opus.data, { audiobridge: "joined", room: 81, id: 1, participants: [], rtp: told });
      // Opus on payload type 100 unless given, bound on the configured address and range.
      assert.deepEqual([told.ip, told.payload_type], ["127.0.0.1", 100]);
      assert.ok((told.port as number) >= 10000 && (told.port as number) <= 60000);
      const g711 = await AbHandle.open(c);
      const pcmu = await g711.ask({ request: "join", room: 81, id: 2, codec: "pcmu", rtp });
      assert.equal((pcmu.data.rtp as JsonObject).payload_type, 0);
      assert.notEqual((pcmu.data.rtp as JsonObject).port, told.port);
      same(await h.next(), {
        audiobridge: "joined",
        room: 81,
        participants: [{ id: 2, setup: false, muted: false }],
      });
      same((await g711.ask({ request: "leave" })).data, { audiobridge: "left", room: 81, id: 2 });
      same(await h.next(), { audiobridge: "event", room: 81, leaving: 2 });
      await h.sync({ request: "destroy", room: 81 });
      await g711.close();
      await h.close();
    },
  },
  {
    name: "join with an offer: joined carries the answer (one Opus audio m-line)",
    media: true,
    async run(c) {
      const h = await AbHandle.open(c);
      const other = await AbHandle.open(c);
      await other.ask({ request: "join", room: 1234, id: 1, display: "o" });
      const joined = await h.ask({ request: "join", room: 1234, id: 2 }, audioOffer());
      same(joined.data, {
        audiobridge: "joined",
        room: 1234,
        id: 2,
        participants: [{ id: 1, display: "o", setup: false, muted: false }],
      });
      const sdp = joined.jsep?.sdp as string;
      assert.equal(joined.jsep?.type, "answer");
      const audio = sdp.split(/\r\n(?=m=)/).find((s) => s.startsWith("m=audio"));
      assert.match(audio ?? "", /^m=audio [1-9]\d* UDP\/TLS\/RTP\/SAVPF 111\r\n/);
      assert.match(audio ?? "", /a=rtpmap:111 opus\/48000\/2/);
      assert.match(audio ?? "", /a=sendrecv/);
      same(await other.next(), {
        audiobridge: "joined",
        room: 1234,
        participants: [{ id: 2, setup: false, muted: false }],
      });
      // A renegotiation through configure is answered too.
      const again = await h.ask({ request: "configure", muted: true }, audioOffer());
      same(again.data, { audiobridge: "event", result: "ok" });
      assert.equal(again.jsep?.type, "answer");
      same(await other.next(), {
        audiobridge: "event",
        room: 1234,
        participants: [{ id: 2, setup: false, muted: true }],
      });
      same(
        (await h.ask({ request: "join", room: 1234 })).data,
        abErr(
          491,
          "Already in a room (use changeroom to join another one)",
        ),
      );
      await h.close();
      same(await other.next(), { audiobridge: "event", room: 1234, leaving: 2 });
      await other.close();
    },
  },
];

for (const kind of ["http", "ws"] as const) {
  for (const c of CASES) {
    Deno.test(`audiobridge ${kind}: ${c.name}`, async () => {
      if (c.media) assertInsideNetns();
      await using gw = c.media ? await startAudioBridgeGateway() : await startTestGateway();
      const client: JanusClient = kind === "http"
        ? httpClient(gw.httpUrl)
        : await wsClient(gw.wsUrl);
      try {
        await c.run(client, gw);
      } finally {
        await client.close();
      }
      assert.deepEqual(audioBridgeCounts(gw), { rooms: 1, participants: 0, sessions: 0 });
    });
  }
}

Deno.test("audiobridge admin message_plugin: management requests; join is refused", async () => {
  await using gw = await startTestGateway();
  const admin = async (body: JsonObject) => {
    const res = await fetch(gw.adminUrl, {
      method: "POST",
      body: JSON.stringify({
        janus: "message_plugin",
        plugin: "janus.plugin.audiobridge",
        admin_secret: "janusoverlord",
        transaction: "x",
        request: body,
      }),
    });
    return ((await res.json()) as JsonObject).response as JsonObject;
  };
  same(await admin({ request: "list" }), { audiobridge: "success", list: [ROOM_1234] });
  same(await admin({ request: "create", room: 55 }), {
    audiobridge: "created",
    room: 55,
    permanent: false,
  });
  same(await admin({ request: "destroy", room: 55 }), {
    audiobridge: "destroyed",
    room: 55,
    permanent: false,
  });
  same(await admin({ request: "join", room: 1234 }), abErr(482, "Unknown request 'join'"));
  assert.deepEqual(audioBridgeCounts(gw), { rooms: 1, participants: 0, sessions: 0 });
});
