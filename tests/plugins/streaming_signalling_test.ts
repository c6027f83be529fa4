/**
 * Streaming over the Janus API: one case list run over HTTP and over WebSocket (a fresh
 * gateway with an rtp media worker each, where mountpoints bind their UDP ports), with the
 * reply and event shapes, their order and the error codes measured on Janus 1.1.2
 * (docs/plugins/streaming.md). No client connects: `watch` gets the gateway's offer and
 * nothing follows it. Each test ends with no mountpoint, viewer, session or source left.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import type { JsonObject } from "../../core/protocol.ts";
import type { TestGateway } from "../_helpers/gateway.ts";
import { httpClient, type JanusClient, wsClient } from "../_helpers/janus_client.ts";
import { same, startStreamingGateway, stErr, StHandle, streamingCounts } from "./_streaming.ts";

interface Case {
  name: string;
  run(c: JanusClient, gw: TestGateway): Promise<void>;
}

const AV = [
  { type: "audio", mid: "a", port: 0, pt: 111, codec: "opus" },
  { type: "video", mid: "v", port: 0, pt: 100, codec: "vp8" },
];

/** The ports of a multistream `created` reply, checked to be in the default range. */
function portsOf(created: JsonObject): number[] {
  const ports = ((created.stream as JsonObject).ports as JsonObject[]).map((p) => p.port as number);
  for (const p of ports) assert.ok(p >= 10000 && p <= 60000, `port ${p} in 10000-60000`);
  return ports;
}

/** `info` without the ports and ages (they vary), in the reference's key order. */
function infoMedia(ports?: number[]): JsonObject[] {
  return [
    {
      mindex: 0,
      type: "audio",
      mid: "a",
      label: "audio",
      pt: 111,
      codec: "opus",
      rtpmap: "opus/48000/2",
      ...(ports ? { port: ports[0]! } : {}),
    },
    {
      mindex: 1,
      type: "video",
      mid: "v",
      label: "video",
      pt: 100,
      codec: "vp8",
      rtpmap: "VP8/90000",
      ...(ports ? { port: ports[1]! } : {}),
    },
  ];
}

function withoutAges(info: JsonObject): JsonObject {
  const media = (info.media as JsonObject[]).map((m) => {
    assert.equal(typeof m.age_ms, "number");
    const { age_ms: _, ...rest } = m;
    return rest;
  });
  return { ...info, media };
}

/** A UDP port bound here, so that a mountpoint cannot take it. */
async function occupy(): Promise<{ port: number; close(): void }> {
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  return { port: socket.address().port, close: () => socket.close() };
}

const CASES: Case[] = [
  {
    name:
      "management: create (multistream, legacy, port 0), list, info, edit, enable/disable, kick_all, recording, destroy and their errors",
    async run(c, gw) {
      const h = await StHandle.open(c);
      same(await h.sync({ request: "list" }), { streaming: "list", list: [] });
      const created = await h.sync({
        request: "create",
        type: "rtp",
        id: 7001,
        description: "d1",
        metadata: "md",
        secret: "s",
        media: AV,
      });
      const ports = portsOf(created);
      same(created, {
        streaming: "created",
        created: "mp-7001",
        permanent: false,
        stream: {
          id: 7001,
          type: "live",
          description: "d1",
          is_private: false,
          ports: [
            { type: "audio", mid: "a", port: ports[0]! },
            { type: "video", mid: "v", port: ports[1]! },
          ],
        },
      });
      assert.notEqual(ports[0], ports[1]);
      same(
        await h.sync({ request: "create", type: "rtp", id: 7001, media: AV }),
        stErr(456, "A stream with the provided ID already exists"),
      );
      // A port in use (here: one of 7001's) cannot be bound: the reference's words.
      same(
        await h.sync({
          request: "create",
          type: "rtp",
          id: 7002,
          media: [{ type: "audio", mid: "a", port: ports[0]!, pt: 111, codec: "opus" }],
        }),
        stErr(456, "Can't add 'rtp' stream, error creating data source stream"),
      );
      const busy = await occupy();
      try {
        same(
          await h.sync({
            request: "create",
            type: "rtp",
            id: 7002,
            media: [{ type: "audio", mid: "a", port: busy.port, pt: 111, codec: "opus" }],
          }),
          stErr(456, "Can't add 'rtp' stream, error creating data source stream"),
        );
      } finally {
        busy.close();
      }
      same(
        await h.sync({
          request: "create",
          type: "rtp",
          id: 7003,
          media: [{ type: "audio", port: 0, pt: 111, codec: "opus" }],
        }),
        stErr(453, "Missing mandatory element (mid)"),
      );
      same(
        await h.sync({ request: "create", type: "bogus" }),
        stErr(454, "Unknown stream type 'bogus'...\n"),
      );
      same(await h.sync({ request: "create" }), stErr(453, "Missing mandatory element (type)"));
      same(
        await h.sync({ request: "create", type: "live", id: 7005 }),
        stErr(453, "Missing mandatory element (filename)"),
      );
      // RTSP: the reference's checks before any connection (streaming_rtsp_test.ts connects).
      same(
        await h.sync({ request: "create", type: "rtsp", url: "rtsp://x" }),
        stErr(456, "Can't add 'rtsp' stream, no audio or video have to be streamed..."),
      );
      same(
        await h.sync({ request: "create", type: "rtsp", audio: true }),
        stErr(456, "Error creating 'RTSP' stream"),
      );
      same(
        await h.sync({ request: "create", type: "rtsp", audio: true, url: 5 }),
        stErr(454, "Invalid element type (url should be a string)"),
      );
      same(
        await h.sync({ request: "create", type: "rtsp", video: true, url: "x", rtsp_timeout: -1 }),
        stErr(454, "Invalid element type (rtsp_timeout should be a positive integer)"),
      );
      for (const type of ["live", "ondemand"]) {
        same(
          await h.sync({ request: "create", type, filename: "x" }),
          stErr(
            456,
            `Can't add '${type}' stream, we only support audio file streaming right now...`,
          ),
        );
        same(
          await h.sync({ request: "create", type, filename: "x.wav", audio: true }),
          stErr(
            456,
            `Can't add '${type}' stream, unsupported format (we only support raw mu-Law and a-Law files right now)`,
          ),
        );
        same(
          await h.sync({ request: "create", type, filename: "/no/such.alaw", audio: true }),
          stErr(456, `Can't add '${type}' stream, no such file '/no/such.alaw'\n`),
        );
      }
      same(
        await h.sync({ request: "create", type: "rtp", id: 7007, media: [] }),
        stErr(456, "Can't add 'rtp' stream, no audio or video have to be streamed..."),
      );
      same(
        await h.sync({ request: "create", type: "rtp", id: 7008 }),
        stErr(456, "Can't add 'rtp' stream, no audio or video have to be streamed..."),
      );
      same(
        await h.sync({ request: "create", type: "rtp", id: 7009, media: { type: "audio" } }),
        stErr(454, "Invalid element type (media should be an array)"),
      );
      same(
        await h.sync({ request: "create", type: "rtp", name: 5, media: AV }),
        stErr(454, "Invalid element type (name should be a string)"),
      );
      same(
        await h.sync({ request: "create", type: "rtp", id: "7030", media: AV }),
        stErr(454, "Invalid element type (id should be a positive integer)"),
      );
      same(
        await h.sync({ request: "create", type: "rtp", permanent: "x", media: AV }),
        stErr(454, "Invalid element type (permanent should be a boolean)"),
      );
      same(
        await h.sync({ request: "create", type: "rtp", permanent: true, media: AV }),
        stErr(470, "No configuration file, can't create permanent mountpoint"),
      );
      same(
        await h.sync({
          request: "create",
          type: "rtp",
          media: [{ type: "foo", mid: "a", port: 0 }],
        }),
        stErr(456, "Unsupported media type in media stream"),
      );
      same(
        await h.sync({
          request: "create",
          type: "rtp",
          media: [{ type: "audio", mid: "a", port: 0 }],
        }),
        stErr(456, "Can't add 'rtp' stream, error creating data source stream"),
      );
      for (
        const bad of [
          { codec: "speex" },
          { iface: "999.1.1.1" },
          { iface: "192.0.2.1" },
        ]
      ) {
        const reply = await h.sync({
          request: "create",
          type: "rtp",
          media: [{ type: "audio", mid: "a", port: 0, pt: 111, codec: "opus", ...bad }],
        });
        assert.equal(reply.error_code, 456, `${JSON.stringify(bad)}: ${JSON.stringify(reply)}`);
      }
      // The legacy single-stream form: mids a/v, ports per kind, a deprecation warning.
      const legacy = await h.sync({
        request: "create",
        type: "rtp",
        id: 7010,
        audio: true,
        audioport: 0,
        audiopt: 111,
        audiocodec: "opus",
        video: true,
        videoport: 0,
        videopt: 100,
        videocodec: "vp8",
        pin: "p",
        is_private: true,
      });
      const stream = legacy.stream as JsonObject;
      same(legacy, {
        streaming: "created",
        created: "mp-7010",
        permanent: false,
        stream: {
          id: 7010,
          type: "live",
          description: "mp-7010",
          is_private: true,
          audio_port: stream.audio_port as number,
          video_port: stream.video_port as number,
        },
        warning: "deprecated_api",
      });
      same(
        await h.sync({ request: "create", type: "rtp", id: 7011, audio: true, audiopt: 111 }),
        stErr(453, "Missing mandatory element (audioport)"),
      );
      // An id in use is refused before the streams are looked at (the reference's order).
      same(
        await h.sync({ request: "create", type: "rtp", id: 7010, audio: true, audioport: 0 }),
        stErr(456, "A stream with the provided ID already exists"),
      );
      // An rtpmap alone names the codec, in either form (curl scripts of the legacy API do).
      for (
        const body of [
          { audio: true, audioport: 0, audiopt: 111, audiortpmap: "opus/48000/2" },
          { media: [{ type: "video", mid: "v", port: 0, pt: 100, rtpmap: "VP8/90000" }] },
        ]
      ) {
        const made = await h.sync({ request: "create", type: "rtp", id: 7012, ...body });
        assert.equal(made.streaming, "created", JSON.stringify(made));
        const info = withoutAges((await h.sync({ request: "info", id: 7012 })).info as JsonObject);
        const expected = body.media ? infoMedia()[1]! : infoMedia()[0]!;
        // No secret: the port shows too (a picked one).
        const shown = (info.media as JsonObject[]).map(({ port: _, ...rest }) => rest);
        assert.deepEqual(shown, [{ ...expected, mindex: 0 }]);
        same(await h.sync({ request: "destroy", id: 7012 }), {
          streaming: "destroyed",
          destroyed: 7012,
        });
      }
      // list: public ones only, with ages.
      const list = (await h.sync({ request: "list" })).list as JsonObject[];
      assert.equal(list.length, 1);
      same(withoutAges(list[0]!), {
        id: 7001,
        type: "live",
        description: "d1",
        metadata: "md",
        enabled: true,
        media: [
          { mid: "a", type: "audio", label: "audio" },
          { mid: "v", type: "video", label: "video" },
        ],
      });
      // info: the secret shows name, secret, viewers and ports.
      same(withoutAges((await h.sync({ request: "info", id: 7001 })).info as JsonObject), {
        id: 7001,
        description: "d1",
        metadata: "md",
        enabled: true,
        type: "live",
        media: infoMedia(),
      });
      same(
        withoutAges((await h.sync({ request: "info", id: 7001, secret: "s" })).info as JsonObject),
        {
          id: 7001,
          name: "mp-7001",
          description: "d1",
          metadata: "md",
          secret: "s",
          enabled: true,
          viewers: 0,
          type: "live",
          media: infoMedia(ports),
        },
      );
      // No secret: everyone is admin; a pin and is_private show.
      same(withoutAges((await h.sync({ request: "info", id: 7010 })).info as JsonObject), {
        id: 7010,
        name: "mp-7010",
        description: "mp-7010",
        pin: "p",
        is_private: true,
        enabled: true,
        viewers: 0,
        type: "live",
        media: infoMedia([stream.audio_port as number, stream.video_port as number]),
      });
      same(await h.sync({ request: "info", id: 999 }), stErr(455, "No such mountpoint/stream 999"));
      same(await h.sync({ request: "info" }), stErr(453, "Missing mandatory element (id)"));
      same(
        await h.sync({ request: "info", id: "x" }),
        stErr(454, "Invalid element type (id should be a positive integer)"),
      );
      // edit
      same(
        await h.sync({ request: "edit", id: 7001 }),
        stErr(453, "Missing mandatory element (secret)"),
      );
      same(
        await h.sync({ request: "edit", id: 7001, secret: "bad" }),
        stErr(457, "Unauthorized (wrong secret)"),
      );
      same(await h.sync({ request: "edit", id: 999 }), stErr(455, "No such mountpoint (999)"));
      same(
        await h.sync({
          request: "edit",
          id: 7010,
          new_description: "nd",
          new_metadata: "m",
          new_pin: "",
          new_is_private: false,
        }),
        { streaming: "edited", id: 7010, permanent: false },
      );
      const edited = withoutAges((await h.sync({ request: "info", id: 7010 })).info as JsonObject);
      assert.equal(edited.description, "nd");
      assert.equal(edited.metadata, "m");
      assert.equal(edited.pin, undefined);
      assert.equal(edited.is_private, undefined);
      // enable/disable
      same(
        await h.sync({ request: "disable", id: 7001 }),
        stErr(453, "Missing mandatory element (secret)"),
      );
      same(await h.sync({ request: "disable", id: 7001, secret: "s" }), { streaming: "ok" });
      assert.equal(
        ((await h.sync({ request: "info", id: 7001 })).info as JsonObject).enabled,
        false,
      );
      same(await h.sync({ request: "enable", id: 7001, secret: "s" }), { streaming: "ok" });
      same(
        await h.sync({ request: "disable", id: 999 }),
        stErr(455, "No such mountpoint/stream 999"),
      );
      same(await h.sync({ request: "kick_all", id: 7001, secret: "s" }), {
        streaming: "kicked_all",
      });
      same(
        await h.sync({ request: "recording", id: 7001, secret: "s" }),
        stErr(453, "Missing mandatory element (action)"),
      );
      // What to record is named (the media tests record: streaming_recording_test.ts).
      same(
        await h.sync({ request: "recording", id: 7001, secret: "s", action: "start" }),
        stErr(452, "Missing audio, video and/or data"),
      );
      // destroy
      same(
        await h.sync({ request: "destroy", id: 7001 }),
        stErr(453, "Missing mandatory element (secret)"),
      );
      same(await h.sync({ request: "destroy", id: 7001, secret: "s" }), {
        streaming: "destroyed",
        destroyed: 7001,
      });
      same(
        await h.sync({ request: "destroy", id: 7001, secret: "s" }),
        stErr(455, "No such mountpoint/stream 7001"),
      );
      // Its ports are free again.
      const again = await h.sync({
        request: "create",
        type: "rtp",
        id: 7001,
        media: AV.map((m, i) => ({ ...m, port: ports[i]! })),
      });
      assert.deepEqual(portsOf(again), ports);
      same(await h.sync({ request: "destroy", id: 7001 }), {
        streaming: "destroyed",
        destroyed: 7001,
      });
      same(await h.sync({ request: "destroy", id: 7010 }), {
        streaming: "destroyed",
        destroyed: 7010,
      });
      same(await h.sync({ request: "foo" }), stErr(452, "Unknown request 'foo'"));
      same(await h.sync({}), stErr(453, "Missing mandatory element (request)"));
      assert.equal(streamingCounts(gw).sources, 0);
      await h.close();
    },
  },
  {
    name:
      "viewer: watch (the gateway's offer), pause, start, configure, switch, destroy while watched, and their errors",
    async run(c, gw) {
      const admin = await StHandle.open(c);
      const v = await StHandle.open(c);
      await admin.sync({ request: "create", type: "rtp", id: 7001, media: AV });
      await admin.sync({ request: "create", type: "rtp", id: 7002, media: AV, pin: "pp" });
      same((await v.ask({ request: "start" })).data, stErr(455, "Can't start: no mountpoint set"));
      same((await v.ask({ request: "pause" })).data, stErr(455, "Can't start: no mountpoint set"));
      same(
        (await v.ask({ request: "switch", id: 7001 })).data,
        stErr(455, "Can't switch: not on a mountpoint"),
      );
      same(
        (await v.ask({ request: "configure" })).data,
        stErr(455, "Can't configure: not on a mountpoint"),
      );
      // stop with no PeerConnection up: acked, and no event at all.
      assert.equal((await v.message({ request: "stop" })).janus, "ack");
      assert.equal(await v.any(300), undefined);
      same(
        (await v.ask({ request: "watch", id: 999 })).data,
        stErr(455, "No such mountpoint/stream 999"),
      );
      same((await v.ask({ request: "watch" })).data, stErr(453, "Missing mandatory element (id)"));
      same(
        (await v.ask({ request: "watch", id: 7001, pin: 5 })).data,
        stErr(454, "Invalid element type (pin should be a string)"),
      );
      same(
        (await v.ask({ request: "watch", id: 7002 })).data,
        stErr(453, "Missing mandatory element (pin)"),
      );
      same(
        (await v.ask({ request: "watch", id: 7002, pin: "bad" })).data,
        stErr(457, "Unauthorized (wrong pin)"),
      );
      const watched = await v.ask({ request: "watch", id: 7001 });
      same(watched.data, { streaming: "event", result: { status: "preparing" } });
      assert.equal(watched.jsep?.type, "offer");
      const sdp = watched.jsep?.sdp as string;
      assert.match(sdp, /m=audio \d+ UDP\/TLS\/RTP\/SAVPF 111\r\n/);
      assert.match(sdp, /m=video \d+ UDP\/TLS\/RTP\/SAVPF 100 101\r\n/);
      assert.match(sdp, /a=mid:a\r\n/);
      assert.match(sdp, /a=mid:v\r\n/);
      assert.equal(sdp.match(/a=sendonly/g)?.length, 2);
      assert.match(sdp, /a=fmtp:101 apt=100/);
      assert.deepEqual(streamingCounts(gw), {
        mountpoints: 2,
        viewers: 1,
        sessions: 2,
        sources: 2,
      });
      same(
        (await v.ask({ request: "watch", id: 7001 })).data,
        stErr(460, "Already watching mountpoint 7001"),
      );
      same(
        (await v.ask({ request: "watch", id: 7002, pin: "pp" })).data,
        stErr(460, "Already watching mountpoint 7001"),
      );
      assert.equal(
        ((await admin.sync({ request: "info", id: 7001 })).info as JsonObject).viewers,
        1,
      );
      same((await v.ask({ request: "pause" })).data, {
        streaming: "event",
        result: { status: "pausing" },
      });
      same((await v.ask({ request: "start" })).data, {
        streaming: "event",
        result: { status: "starting" },
      });
      same((await v.ask({ request: "configure", mid: "v", send: false })).data, {
        streaming: "event",
        result: { event: "configured" },
      });
      same((await v.ask({ request: "switch" })).data, stErr(453, "Missing mandatory element (id)"));
      same(
        (await v.ask({ request: "switch", id: 999 })).data,
        stErr(455, "No such mountpoint/stream 999"),
      );
      same((await v.ask({ request: "switch", id: 7002 })).data, {
        streaming: "event",
        result: { switched: "ok", id: 7002 },
      });
      assert.equal(
        ((await admin.sync({ request: "info", id: 7001 })).info as JsonObject).viewers,
        0,
      );
      // edited_event reaches the viewer, without a `streaming` key.
      same(
        await admin.sync({
          request: "edit",
          id: 7002,
          new_metadata: "new meta",
          edited_event: true,
        }),
        { streaming: "edited", id: 7002, permanent: false },
      );
      const editedEvent = await v.any(2000);
      same((editedEvent?.plugindata as JsonObject).data as JsonObject, {
        event: "edited",
        id: 7002,
        metadata: "new meta",
      });
      // The watched mountpoint goes: `stopped`, then the core's hangup.
      await admin.sync({ request: "destroy", id: 7002 });
      const stopped = await v.any(2000);
      same((stopped?.plugindata as JsonObject).data as JsonObject, {
        streaming: "event",
        result: { status: "stopped" },
      });
      const hangup = await v.any(2000);
      assert.equal(hangup?.janus, "hangup", JSON.stringify(hangup));
      assert.deepEqual(streamingCounts(gw), {
        mountpoints: 1,
        viewers: 0,
        sessions: 2,
        sources: 1,
      });
      // After that the handle may watch again: only the chosen mids are offered.
      const subset = await v.ask({ request: "watch", id: 7001, media: ["v"] });
      same(subset.data, { streaming: "event", result: { status: "preparing" } });
      assert.doesNotMatch(subset.jsep?.sdp as string, /m=audio/);
      assert.match(subset.jsep?.sdp as string, /a=mid:v\r\n/);
      same(
        (await v.ask({ request: "watch", id: 7001, media: [5] })).data,
        stErr(454, "The media array must only contain strings (mid values)"),
      );
      // kick_all: `kicked_all`, then the hangup.
      await admin.sync({ request: "kick_all", id: 7001 });
      same(((await v.any(2000))?.plugindata as JsonObject).data as JsonObject, {
        streaming: "event",
        result: { status: "kicked_all" },
      });
      assert.equal((await v.any(2000))?.janus, "hangup");
      await admin.sync({ request: "destroy", id: 7001 });
      assert.deepEqual(streamingCounts(gw), {
        mountpoints: 0,
        viewers: 0,
        sessions: 2,
        sources: 0,
      });
      await v.close();
      await admin.close();
    },
  },
  {
    name: "a viewer handle that detaches while watching leaves its mountpoint",
    async run(c, gw) {
      const admin = await StHandle.open(c);
      await admin.sync({ request: "create", type: "rtp", id: 7001, media: AV });
      for (let i = 0; i < 3; i++) {
        const v = await StHandle.open(c);
        assert.equal((await v.ask({ request: "watch", id: 7001 })).jsep?.type, "offer");
        await v.close();
      }
      assert.deepEqual(streamingCounts(gw), {
        mountpoints: 1,
        viewers: 0,
        sessions: 1,
        sources: 1,
      });
      assert.equal(gw.counts().peers, 0);
      await admin.sync({ request: "destroy", id: 7001 });
      await admin.close();
    },
  },
  {
    name:
      "RTCP ports, videobufferkf and data streams: create (legacy and multistream), info, watch offers m=application, datatype checked",
    async run(c) {
      const h = await StHandle.open(c);
      const legacy = await h.sync({
        request: "create",
        type: "rtp",
        id: 7040,
        secret: "s",
        video: true,
        videoport: 0,
        videortcpport: 0,
        videopt: 100,
        videocodec: "vp8",
        videobufferkf: true,
        data: true,
        dataport: 0,
        datatype: "text",
        databuffermsg: true,
      });
      const stream = legacy.stream as JsonObject;
      const [vport, rtcp, dport] = [stream.video_port, stream.video_rtcp_port, stream.data_port]
        .map((p) => p as number);
      for (const p of [vport, rtcp, dport]) assert.ok(p! >= 10000 && p! <= 60000, `port ${p}`);
      assert.equal(new Set([vport, rtcp, dport]).size, 3, "three ports");
      same(legacy, {
        streaming: "created",
        created: "mp-7040",
        permanent: false,
        stream: {
          id: 7040,
          type: "live",
          description: "mp-7040",
          is_private: false,
          video_port: vport,
          video_rtcp_port: rtcp,
          data_port: dport,
        },
        warning: "deprecated_api",
      });
      const video = {
        mindex: 0,
        type: "video",
        mid: "v",
        label: "video",
        pt: 100,
        codec: "vp8",
        rtpmap: "VP8/90000",
        videobufferkf: true,
      };
      const data = { mindex: 1, type: "data", mid: "d", label: "data" };
      same(
        withoutAges((await h.sync({ request: "info", id: 7040, secret: "s" })).info as JsonObject),
        {
          id: 7040,
          name: "mp-7040",
          description: "mp-7040",
          secret: "s",
          enabled: true,
          viewers: 0,
          type: "live",
          media: [{ ...video, port: vport, rtcpport: rtcp }, { ...data, port: dport }],
        },
      );
      same(withoutAges((await h.sync({ request: "info", id: 7040 })).info as JsonObject), {
        id: 7040,
        description: "mp-7040",
        enabled: true,
        type: "live",
        media: [video, data],
      });
      const multi = await h.sync({
        request: "create",
        type: "rtp",
        id: 7041,
        media: [
          { type: "video", mid: "v", port: 0, rtcpport: 0, pt: 100, codec: "vp8", bufferkf: true },
          { type: "data", mid: "d", port: 0, datatype: "binary", buffermsg: true },
        ],
      });
      const ports = (multi.stream as JsonObject).ports as JsonObject[];
      same({ ports }, {
        ports: [
          { type: "video", mid: "v", port: ports[0]!.port!, rtcp_port: ports[0]!.rtcp_port! },
          { type: "data", mid: "d", port: ports[1]!.port! },
        ],
      });
      const listed = ((await h.sync({ request: "list" })).list as JsonObject[]).find((m) =>
        m.id === 7041
      )!;
      same({ media: (listed.media as JsonObject[]).map(({ age_ms: _, ...m }) => m) }, {
        media: [{ mid: "v", type: "video", label: "video" }, {
          mid: "d",
          type: "data",
          label: "data",
        }],
      });
      // A viewer of a data stream gets an offer with a data channel.
      const v = await StHandle.open(c);
      const offer = (await v.ask({ request: "watch", id: 7041 })).jsep as JsonObject;
      assert.match(offer.sdp as string, /m=video [\s\S]*m=application /);
      await v.close();
      same(
        await h.sync({
          request: "create",
          type: "rtp",
          id: 7042,
          data: true,
          dataport: 0,
          datatype: "bogus",
        }),
        stErr(454, "Invalid element (datatype can only be text or binary)"),
      );
      same(
        await h.sync({ request: "create", type: "rtp", id: 7042, data: true }),
        stErr(453, "Missing mandatory element (dataport)"),
      );
      same(
        await h.sync({
          request: "create",
          type: "rtp",
          id: 7042,
          video: true,
          videoport: 0,
          videortcpport: "x",
          videopt: 100,
          videocodec: "vp8",
        }),
        stErr(454, "Invalid element type (videortcpport should be a positive integer)"),
      );
      for (const id of [7040, 7041]) {
        same(await h.sync({ request: "destroy", id, secret: "s" }), {
          streaming: "destroyed",
          destroyed: id,
        });
      }
      await h.close();
    },
  },
];

for (const kind of ["http", "ws"] as const) {
  for (const c of CASES) {
    Deno.test(`streaming ${kind}: ${c.name}`, async () => {
      await using gw = await startStreamingGateway();
      const client: JanusClient = kind === "http"
        ? httpClient(gw.httpUrl)
        : await wsClient(gw.wsUrl);
      try {
        await c.run(client, gw);
      } finally {
        await client.close();
      }
      assert.deepEqual(streamingCounts(gw), {
        mountpoints: 0,
        viewers: 0,
        sessions: 0,
        sources: 0,
      });
    });
  }
}
