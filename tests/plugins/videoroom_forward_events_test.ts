/**
 * VideoRoom `rtp_forward` and `stop_rtp_forward` tell event handlers what janus_videoroom.c's
 * `notify_event` tells, with no session or handle: per forwarder made, its summary with
 * `event`, `room`, `publisher_id`, `media`, the codec (the `streams` API only) and its `host`
 * (the request's as written when the entry has none) and `port`; per forwarder stopped, the
 * room, publisher and stream id. Through the Janus API and the admin API's `message_plugin`;
 * a request that fails tells nothing. The expected events are what a private Janus 1.1.2 with
 * the sample event handler posted for the same requests (on a remote publisher). A real wrtc
 * publisher on the rtp engine, an HTTP event receiver on loopback.
 *
 * Run: `deno task test tests/plugins/videoroom_forward_events_test.ts`
 */
import assert from "node:assert/strict";
import { type ConfigInput, parseConfig } from "../../core/config.ts";
import { startMediaEngine } from "../../core/media/start.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { eventReceiver } from "../_helpers/event_receiver.ts";
import { startTestGateway, testConfig } from "../_helpers/gateway.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { type ClientPeer, waitUntil, wrtcTest } from "../media/_client.ts";
import { UdpSink } from "../media/_mjr_tools.ts";
import { publish, VIDEOROOM } from "./_videoroom_media.ts";
import { VideoRoomClient } from "./videoroom_client.ts";

const FORWARD_EVENTS = new Set(["rtp_forward", "stop_rtp_forward"]);

wrtcTest(
  "videoroom: rtp_forward and stop_rtp_forward are told to event handlers as the reference's",
  async (wrtc) => {
    assertInsideNetns();
    const rx = eventReceiver("/events");
    const config: ConfigInput = {
      media: { workers: 1, engines: { [VIDEOROOM]: "rtp" } },
      events: { enabled: true, handlers: [{ kind: "http", backend: rx.url }] },
    };
    const media = await startMediaEngine(parseConfig(testConfig(config)));
    assert.ok(media, "media engine");
    const gw = await startTestGateway(config, { media });
    const c = await VideoRoomClient.open(gw.httpUrl);
    const peers: ClientPeer[] = [];
    const sinks: UdpSink[] = [];
    /** The forward events posted so far: their data, and whether they named no handle. */
    const told = () =>
      rx.events.filter((e) => {
        const body = e.event as JsonObject;
        return e.type === 64 && body.plugin === VIDEOROOM &&
          FORWARD_EVENTS.has(String((body.data as JsonObject).event));
      }).map((e) => ({
        unscoped: e.session_id === undefined && e.handle_id === undefined,
        data: (e.event as JsonObject).data as JsonObject,
      }));
    const settled = async (n: number) => {
      await waitUntil(`${n} forward events`, () => told().length >= n, 5000);
      // Nothing more than asked for comes.
      await new Promise((r) => setTimeout(r, 300));
      return told();
    };
    try {
      const R = 1234;
      const admin = await c.attach();
      const alice = await publish(wrtc, c, R, "alice");
      peers.push(alice.peer);
      const [video, audio, legacy, legacyVideo] = [
        await UdpSink.open(),
        await UdpSink.open(),
        await UdpSink.open(),
        await UdpSink.open(),
      ];
      sinks.push(video, audio, legacy, legacyVideo);
      const rtcpSink = legacyVideo.port + 1;

      // The streams API: the entry without a host is told with the request's ("localhost"),
      // the entry with its own with that one; codecs are named.
      const reply = await c.sync(admin, {
        request: "rtp_forward",
        room: R,
        secret: "adminpwd",
        publisher_id: alice.id,
        host: "localhost",
        streams: [
          { mid: "1", port: video.port, ssrc: 1234, pt: 100 },
          { mid: "0", host: "127.0.0.1", port: audio.port, ssrc: 5678, pt: 111 },
          { mid: "7", port: 9 },
        ],
      });
      const [vf, af] = reply.forwarders as JsonObject[];
      assert.ok(vf && af, JSON.stringify(reply));
      let events = await settled(2);
      assert.deepEqual(events, [
        {
          unscoped: true,
          data: {
            stream_id: vf.stream_id,
            host: "localhost",
            port: video.port,
            type: "video",
            pt: 100,
            ssrc: 1234,
            event: "rtp_forward",
            room: R,
            publisher_id: alice.id,
            media: "video",
            codec: "vp8",
          },
        },
        {
          unscoped: true,
          data: {
            stream_id: af.stream_id,
            host: "127.0.0.1",
            port: audio.port,
            type: "audio",
            pt: 111,
            ssrc: 5678,
            event: "rtp_forward",
            room: R,
            publisher_id: alice.id,
            media: "audio",
            codec: "opus",
          },
        },
      ]);

      // The deprecated API, through the admin API: no codec, the resolved host; a video
      // forwarder with an RTCP port has both ports in its summary.
      const adminReply = async (request: JsonObject) => {
        const res = await fetch(gw.adminUrl, {
          method: "POST",
          body: JSON.stringify({
            janus: "message_plugin",
            plugin: VIDEOROOM,
            request,
            admin_secret: "janusoverlord",
            transaction: "t",
          }),
        });
        return (await res.json() as JsonObject).response as JsonObject;
      };
      const old = await adminReply({
        request: "rtp_forward",
        room: R,
        secret: "adminpwd",
        publisher_id: alice.id,
        host: "localhost",
        audio_port: legacy.port,
        video_port: legacyVideo.port,
        video_rtcp_port: rtcpSink,
      });
      const oldId = (old.rtp_stream as JsonObject).audio_stream_id as number;
      const oldVideoId = (old.rtp_stream as JsonObject).video_stream_id as number;
      assert.ok(oldId > 0 && oldVideoId > 0, JSON.stringify(old));
      events = await settled(4);
      const localRtcp = events[3]?.data.local_rtcp_port;
      assert.ok(typeof localRtcp === "number" && localRtcp > 0, JSON.stringify(events[3]));
      assert.deepEqual(events.slice(2), [
        {
          unscoped: true,
          data: {
            stream_id: oldId,
            host: "127.0.0.1",
            port: legacy.port,
            type: "audio",
            event: "rtp_forward",
            room: R,
            publisher_id: alice.id,
            media: "audio",
          },
        },
        {
          unscoped: true,
          data: {
            stream_id: oldVideoId,
            host: "127.0.0.1",
            port: legacyVideo.port,
            type: "video",
            local_rtcp_port: localRtcp,
            remote_rtcp_port: rtcpSink,
            event: "rtp_forward",
            room: R,
            publisher_id: alice.id,
            media: "video",
          },
        },
      ]);

      // Stopping: one through each API; an unknown stream tells nothing.
      const stop = { request: "stop_rtp_forward", room: R, secret: "adminpwd" };
      await c.sync(admin, { ...stop, publisher_id: alice.id, stream_id: af.stream_id });
      const missing = await adminReply({ ...stop, publisher_id: alice.id, stream_id: 77 });
      assert.equal(missing.error_code, 428, JSON.stringify(missing));
      await adminReply({ ...stop, publisher_id: alice.id, stream_id: oldId });
      events = await settled(6);
      assert.deepEqual(events.slice(4), [
        {
          unscoped: true,
          data: {
            event: "stop_rtp_forward",
            room: R,
            publisher_id: alice.id,
            stream_id: af.stream_id,
          },
        },
        {
          unscoped: true,
          data: { event: "stop_rtp_forward", room: R, publisher_id: alice.id, stream_id: oldId },
        },
      ]);
    } finally {
      for (const p of peers) p.close();
      for (const s of sinks) await s.close();
      await c.close();
      // The gateway closes the media engine it was given.
      await gw.stop();
      await rx.stop();
    }
  },
);
