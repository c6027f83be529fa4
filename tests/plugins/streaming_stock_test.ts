/**
 * The Streaming plugin's stock mountpoints (the reference's `janus.plugin.streaming.jcfg`): 1
 * (`rtp-sample`, legacy form), 123 (`multistream-test`) and the file ones 2 and 3 (Debian
 * `janus-demos`' sample files) as `list` and `info` show them, and the RTP ones' UDP ports
 * (5002/5004, 5102/5104/5106) bound and receiving: an RTP packet sent to each resets its
 * `age_ms`. Fixed ports: runs in the test network namespace (`deno task test`).
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import type { JsonObject } from "../../core/protocol.ts";
import { httpClient } from "../_helpers/janus_client.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { same, startStreamingGateway, StHandle, streamingCounts } from "./_streaming.ts";

function withoutAges(entry: JsonObject): JsonObject {
  if (!entry.media) return entry;
  return {
    ...entry,
    media: (entry.media as JsonObject[]).map(({ age_ms: _, ...m }) => m),
  };
}

/** Debian `janus-demos`' sample files, which the stock file mountpoints play. */
const STREAMS = "/usr/share/janus/streams";

/** One RTP packet (version 2, payload type `pt`) to `port` on loopback. */
async function sendRtp(port: number, pt: number): Promise<void> {
  const socket = dgram.createSocket("udp4");
  const packet = new Uint8Array(20);
  packet[0] = 0x80;
  packet[1] = pt;
  packet[11] = 7;
  await new Promise<void>((resolve, reject) =>
    socket.send(packet, port, "127.0.0.1", (e) => e ? reject(e) : resolve())
  );
  socket.close();
}

Deno.test("streaming: the stock mountpoints 1, 123, 2 and 3 as the reference lists them, the RTP ports bound", async () => {
  assertInsideNetns();
  for (const file of ["radio.alaw", "music.mulaw"]) {
    assert.ok(
      (await Deno.stat(`${STREAMS}/${file}`).catch(() => undefined))?.isFile,
      `${STREAMS}/${file} is missing: install the Debian package janus-demos`,
    );
  }
  await using gw = await startStreamingGateway({
    plugins: { "janus.plugin.streaming": { mountpoints: undefined } },
  });
  await using c = httpClient(gw.httpUrl);
  const h = await StHandle.open(c);
  const list = (await h.sync({ request: "list" })).list as JsonObject[];
  assert.deepEqual(list.map(withoutAges), [
    {
      id: 1,
      type: "live",
      description: "Opus/VP8 live stream coming from external source",
      metadata: "You can use this metadata section to put any info you want!",
      enabled: true,
      media: [
        { mid: "a", type: "audio", label: "audio" },
        { mid: "v", type: "video", label: "video" },
      ],
    },
    {
      id: 123,
      type: "live",
      description: "Multistream test (1 audio, 2 video)",
      metadata:
        "This is an example of a multistream mountpoint: you'll get an audio stream and two video feeds",
      enabled: true,
      media: [
        { mid: "a", type: "audio", label: "Audio stream" },
        { mid: "v1", type: "video", label: "Video stream #1" },
        { mid: "v2", type: "video", label: "Video stream #2" },
      ],
    },
    { id: 2, type: "live", description: "a-law file source (radio broadcast)", enabled: true },
    { id: 3, type: "on demand", description: "mu-law file source (music)", enabled: true },
  ]);
  // As the reference answers for them.
  same((await h.sync({ request: "info", id: 2, secret: "adminpwd" })).info as JsonObject, {
    id: 2,
    name: "file-live-sample",
    description: "a-law file source (radio broadcast)",
    secret: "adminpwd",
    enabled: true,
    viewers: 0,
    type: "live",
    media: [{ type: "audio", pt: 8, codec: "pcma", rtpmap: "PCMA/8000" }],
    filename: `${STREAMS}/radio.alaw`,
  });
  same((await h.sync({ request: "info", id: 3 })).info as JsonObject, {
    id: 3,
    description: "mu-law file source (music)",
    enabled: true,
    type: "on demand",
    media: [{ type: "audio", pt: 0, codec: "pcmu", rtpmap: "PCMU/8000" }],
  });
  const info = (await h.sync({ request: "info", id: 1, secret: "adminpwd" })).info as JsonObject;
  same(withoutAges(info), {
    id: 1,
    name: "rtp-sample",
    description: "Opus/VP8 live stream coming from external source",
    metadata: "You can use this metadata section to put any info you want!",
    secret: "adminpwd",
    enabled: true,
    viewers: 0,
    type: "live",
    media: [
      {
        mindex: 0,
        type: "audio",
        mid: "a",
        label: "audio",
        pt: 111,
        codec: "opus",
        rtpmap: "opus/48000/2",
        port: 5002,
      },
      {
        mindex: 1,
        type: "video",
        mid: "v",
        label: "video",
        pt: 100,
        codec: "vp8",
        rtpmap: "VP8/90000",
        port: 5004,
      },
    ],
  });
  // Each port receives: a packet sent to it resets its age.
  await new Promise((r) => setTimeout(r, 300));
  for (const [id, ports] of [[1, [5002, 5004]], [123, [5102, 5104, 5106]]] as const) {
    for (const [i, port] of ports.entries()) {
      await sendRtp(port, i === 0 ? 111 : 100);
    }
    await new Promise((r) => setTimeout(r, 50));
    const media = ((await h.sync({ request: "info", id })).info as JsonObject)
      .media as JsonObject[];
    for (const m of media) assert.ok((m.age_ms as number) < 200, `${id}: ${JSON.stringify(m)}`);
  }
  assert.deepEqual(streamingCounts(gw), { mountpoints: 4, viewers: 0, sessions: 1, sources: 4 });
  await h.close();
});
