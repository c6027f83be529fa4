/**
 * VideoRoom data channels with a real wrtc publisher (audio + a data channel): `rtp_forward`
 * of its data mid (new `streams` API) and `data_port` (deprecated API) send each text message
 * it sends as one datagram to a loopback UDP socket, `listforwarders` shows them as `data`,
 * `stop_rtp_forward` stops them; with `record` its data stream is written to a data MJR
 * (`-data-<mindex>.mjr`, `t` `d`, codec `text`) that Janus's `janus-pp-rec` converts to an
 * `.srt` holding the messages.
 *
 * Run: `deno task test tests/plugins/videoroom_data_test.ts`
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { JsonObject } from "../../core/protocol.ts";
import { dataForwarderSockets } from "../../plugins/videoroom/data_forwarders.ts";
import { type ClientPeer, waitUntil, wrtcTest } from "../media/_client.ts";
import { janusPpRec, requireTool, UdpSink } from "../media/_mjr_tools.ts";
import { gateway, sendonlyOffer } from "./_videoroom_media.ts";
import { dataOf, jsepOf, VideoRoomClient } from "./videoroom_client.ts";

const decoder = new TextDecoder();

/** The texts a sink received, in order. */
const texts = (sink: UdpSink): string[] => sink.received.map((r) => decoder.decode(r.packet));

wrtcTest(
  "videoroom: data forwarders send a publisher's data-channel messages; recording writes a data MJR janus-pp-rec converts",
  async (wrtc) => {
    await requireTool("janus-pp-rec", "janus-tools");
    await using gw = await gateway();
    await using c = await VideoRoomClient.open(gw.httpUrl);
    const peers: ClientPeer[] = [];
    const sinks: UdpSink[] = [];
    const dir = await Deno.makeTempDir({ prefix: "vr-data-" });
    try {
      const admin = await c.attach();
      const R = 4401;
      const recDir = join(dir, "recordings");
      await c.sync(admin, { request: "create", room: R, rec_dir: recDir, secret: "s" });
      const handle = await c.attach();
      const joined = await c.ask(handle, { request: "join", ptype: "publisher", room: R });
      const id = joined.id as number;
      const { peer, offer } = await sendonlyOffer(wrtc, { audio: true, data: "chat" });
      peers.push(peer);
      const event = await c.request(handle, {
        request: "configure",
        record: true,
        filename: "alice",
      }, offer);
      const configured = dataOf(event);
      assert.deepEqual(configured.streams, [
        { type: "audio", mindex: 0, mid: "0", codec: "opus", fec: true },
        { type: "data", mindex: 1, mid: "1" },
      ]);
      await peer.answer(jsepOf(event).sdp);
      await c.take((e) => e.sender === handle && e.janus === "webrtcup");
      const channel = peer.channel!;
      await waitUntil("the data channel open", () => channel.readyState === "open", 8000);

      const streamSink = await UdpSink.open();
      const legacySink = await UdpSink.open();
      sinks.push(streamSink, legacySink);
      const reply = await c.sync(admin, {
        request: "rtp_forward",
        room: R,
        secret: "s",
        publisher_id: id,
        host: "127.0.0.1",
        streams: [{ mid: "1", port: streamSink.port }],
      });
      const forwarders = reply.forwarders as JsonObject[];
      const streamId = forwarders[0]?.stream_id as number;
      assert.deepEqual(reply, {
        videoroom: "rtp_forward",
        room: R,
        publisher_id: id,
        forwarders: [{
          stream_id: streamId,
          host: "127.0.0.1",
          port: streamSink.port,
          type: "data",
        }],
      });
      const legacy = await c.sync(admin, {
        request: "rtp_forward",
        room: R,
        secret: "s",
        publisher_id: id,
        host: "127.0.0.1",
        data_port: legacySink.port,
      });
      const legacyId = (legacy.rtp_stream as JsonObject).data_stream_id as number;
      assert.deepEqual(legacy, {
        videoroom: "rtp_forward",
        room: R,
        publisher_id: id,
        rtp_stream: {
          data_stream_id: legacyId,
          data: legacySink.port,
          warning: "deprecated_api",
          host: "127.0.0.1",
        },
      });
      const listed = await c.sync(admin, { request: "listforwarders", room: R, secret: "s" });
      const entries = ((listed.publishers as JsonObject[])[0]!.forwarders as JsonObject[])
        .map((f) => JSON.stringify(f)).sort();
      assert.deepEqual(
        entries,
        [
          { stream_id: streamId, host: "127.0.0.1", port: streamSink.port, type: "data" },
          { stream_id: legacyId, host: "127.0.0.1", port: legacySink.port, type: "data" },
        ].map((f) => JSON.stringify(f)).sort(),
      );

      const sent = ["hello", "from alice", "ünïcödé ✓"];
      for (const text of sent) channel.send(text);
      await waitUntil("three datagrams on each socket", () => {
        return streamSink.received.length >= 3 && legacySink.received.length >= 3;
      }, 8000);
      assert.deepEqual(texts(streamSink), sent);
      assert.deepEqual(texts(legacySink), sent);

      // Stopped: the stream forwarder sends no more, the legacy one goes on.
      assert.deepEqual(
        await c.sync(admin, {
          request: "stop_rtp_forward",
          room: R,
          secret: "s",
          publisher_id: id,
          stream_id: streamId,
        }),
        { videoroom: "stop_rtp_forward", room: R, publisher_id: id, stream_id: streamId },
      );
      channel.send("after stop");
      await waitUntil("the fourth datagram", () => legacySink.received.length >= 4, 8000);
      assert.deepEqual(texts(legacySink), [...sent, "after stop"]);
      assert.deepEqual(texts(streamSink), sent, "a stopped forwarder sends nothing");

      // The recording: stopped, then converted by Janus's own tool.
      await c.ask(handle, { request: "configure", record: false });
      const files = [...Deno.readDirSync(recDir)].map((e) => e.name).sort();
      assert.deepEqual(files, ["alice-audio-0.mjr", "alice-data-1.mjr"]);
      const mjr = Deno.readFileSync(join(recDir, "alice-data-1.mjr"));
      const headerLength = (mjr[8]! << 8) | mjr[9]!;
      const header = JSON.parse(decoder.decode(mjr.subarray(10, 10 + headerLength)));
      assert.equal(header.t, "d");
      assert.equal(header.c, "text");
      const srt = join(dir, "data.srt");
      const converted = await janusPpRec(join(recDir, "alice-data-1.mjr"), srt);
      assert.ok(converted.success, converted.log);
      const lines = Deno.readTextFileSync(srt).split(/\r?\n/);
      for (const text of [...sent, "after stop"]) {
        assert.ok(lines.includes(text), `${text} in the .srt:\n${lines.join("\n")}`);
      }
      // A message after the recording stopped is not written.
      channel.send("not recorded");
      await waitUntil("the fifth datagram", () => legacySink.received.length >= 5, 8000);
      const again = await janusPpRec(join(recDir, "alice-data-1.mjr"), join(dir, "again.srt"));
      assert.ok(again.success, again.log);
      assert.ok(!Deno.readTextFileSync(join(dir, "again.srt")).includes("not recorded"));

      // Unpublishing ends the forwarders and their socket.
      await c.ask(handle, { request: "unpublish" });
      assert.deepEqual(
        (await c.sync(admin, { request: "listforwarders", room: R, secret: "s" })).publishers,
        [],
      );
      assert.equal(dataForwarderSockets(), 0);
    } finally {
      for (const p of peers) p.close();
      for (const s of sinks) await s.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
