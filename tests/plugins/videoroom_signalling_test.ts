/**
 * VideoRoom signalling without media (no media workers): every synchronous request's reply
 * shape, the async join/configure/leave flows and their events, and the main error codes,
 * as measured on Janus 1.1.2 (docs/plugins/videoroom.md).
 */
import assert from "node:assert/strict";
import { startTestGateway } from "../_helpers/gateway.ts";
import { loadConfig } from "../../core/config.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { VideoRoomClient } from "./videoroom_client.ts";

const err = (code: number, error: string): JsonObject => ({
  videoroom: "event",
  error_code: code,
  error,
});

const ROOM_1234 = {
  room: 1234,
  description: "Demo Room",
  pin_required: false,
  is_private: false,
  max_publishers: 6,
  bitrate: 128000,
  fir_freq: 10,
  require_pvtid: false,
  require_e2ee: false,
  dummy_publisher: false,
  notify_joining: false,
  audiocodec: "opus",
  videocodec: "vp8",
  opus_fec: true,
  record: false,
  lock_record: false,
  num_participants: 0,
  audiolevel_ext: true,
  audiolevel_event: false,
  videoorient_ext: true,
  playoutdelay_ext: true,
  transport_wide_cc_ext: true,
};

Deno.test("videoroom list shows the stock rooms 1234 and 5678 with the reference's keys", async () => {
  await using gw = await startTestGateway();
  await using c = await VideoRoomClient.open(gw.httpUrl);
  const h = await c.attach();
  const list = (await c.sync(h, { request: "list" })).list as JsonObject[];
  const r1234 = list.find((r) => r.room === 1234);
  assert.deepEqual(Object.keys(r1234 ?? {}), Object.keys(ROOM_1234));
  assert.deepEqual(r1234, ROOM_1234);
  const r5678 = list.find((r) => r.room === 5678);
  assert.equal(r5678?.videocodec, "vp9");
  assert.equal(r5678?.video_svc, true);
  assert.equal(r5678?.bitrate, 512000);
});

Deno.test("videoroom create/exists/edit/destroy: replies, secrets, 426/427/429/430/433", async () => {
  await using gw = await startTestGateway();
  await using c = await VideoRoomClient.open(gw.httpUrl);
  const h = await c.attach();
  const R = 970101;
  assert.deepEqual(
    await c.sync(h, { request: "create", room: R, secret: "s", pin: "p", publishers: 1, bogus: 1 }),
    { videoroom: "created", room: R, permanent: false },
  );
  assert.deepEqual(
    await c.sync(h, { request: "create", room: R }),
    err(427, `Room ${R} already exists`),
  );
  assert.deepEqual(
    await c.sync(h, { request: "create", room: "x" }),
    err(430, "Invalid element type (room should be a positive integer)"),
  );
  assert.deepEqual(
    await c.sync(h, { request: "create", publishers: "x" }),
    err(430, "Invalid element type (publishers should be a positive integer)"),
  );
  const random = await c.sync(h, { request: "create" });
  assert.equal(random.videoroom, "created");
  assert.ok(
    typeof random.room === "number" && Number.isSafeInteger(random.room) && random.room > 0,
  );
  assert.deepEqual(await c.sync(h, { request: "exists", room: R }), {
    videoroom: "success",
    room: R,
    exists: true,
  });
  assert.deepEqual(await c.sync(h, { request: "exists", room: 1 }), {
    videoroom: "success",
    room: 1,
    exists: false,
  });
  assert.deepEqual(
    await c.sync(h, { request: "exists" }),
    err(429, "Missing mandatory element (room)"),
  );
  assert.deepEqual(
    await c.sync(h, { request: "edit", room: R }),
    err(429, "Missing mandatory element (secret)"),
  );
  assert.deepEqual(
    await c.sync(h, { request: "edit", room: R, secret: "x" }),
    err(433, "Unauthorized (wrong secret)"),
  );
  assert.deepEqual(
    await c.sync(h, { request: "edit", room: 999, secret: "x" }),
    err(426, "No such room (999)"),
  );
  assert.deepEqual(
    await c.sync(h, {
      request: "edit",
      room: R,
      secret: "s",
      new_description: "d2",
      new_bitrate: 5000,
      new_publishers: 2,
      new_is_private: false,
    }),
    { videoroom: "edited", room: R, permanent: false },
  );
  const entry = ((await c.sync(h, { request: "list" })).list as JsonObject[]).find((r) =>
    r.room === R
  );
  assert.equal(entry?.description, "d2");
  assert.equal(entry?.bitrate, 64000, "raised to 64 kbit/s as the reference");
  assert.equal(entry?.max_publishers, 2);
  assert.equal(entry?.pin_required, true);
  await c.sync(h, { request: "edit", room: R, secret: "s", new_is_private: true });
  const after = (await c.sync(h, { request: "list" })).list as JsonObject[];
  assert.equal(after.some((r) => r.room === R), false, "private rooms are not listed");
  assert.deepEqual(await c.sync(h, { request: "destroy", room: R, secret: "s" }), {
    videoroom: "destroyed",
    room: R,
    permanent: false,
  });
  assert.deepEqual(
    await c.sync(h, { request: "destroy", room: R, secret: "s" }),
    err(426, `No such room (${R})`),
  );
  // Without a rooms_file nothing can be saved: the reference then answers permanent:false.
  assert.deepEqual(await c.sync(h, { request: "create", room: 970102, permanent: true }), {
    videoroom: "created",
    room: 970102,
    permanent: false,
  });
});

Deno.test("videoroom permanent rooms are written to rooms_file and loaded at start-up", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/rooms.json`;
  const config = { plugins: { "janus.plugin.videoroom": { rooms_file: file } } };
  try {
    {
      await using gw = await startTestGateway(config);
      await using c = await VideoRoomClient.open(gw.httpUrl);
      const h = await c.attach();
      assert.deepEqual(
        await c.sync(h, { request: "create", room: 970150, permanent: true, description: "kept" }),
        { videoroom: "created", room: 970150, permanent: true },
      );
      const saved = JSON.parse(await Deno.readTextFile(file)) as { rooms: JsonObject[] };
      assert.equal(saved.rooms[0]?.room, 970150);
    }
    await using gw = await startTestGateway(config);
    await using c = await VideoRoomClient.open(gw.httpUrl);
    const h = await c.attach();
    assert.equal((await c.sync(h, { request: "exists", room: 970150 })).exists, true);
    assert.equal((await c.sync(h, { request: "exists", room: 1234 })).exists, true);
    assert.deepEqual(await c.sync(h, { request: "destroy", room: 970150, permanent: true }), {
      videoroom: "destroyed",
      room: 970150,
      permanent: true,
    });
    const saved = JSON.parse(await Deno.readTextFile(file)) as { rooms: JsonObject[] };
    assert.deepEqual(saved.rooms, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("videoroom permanent rooms are written back to the --config file", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/gateway.json`;
  const original = {
    general: { session_timeout: 60 },
    plugins: {
      "janus.plugin.videoroom": {
        max_streams_per_room: 64,
        rooms: [{ room: 970160, description: "from the file" }],
      },
    },
  };
  await Deno.writeTextFile(file, JSON.stringify(original));
  // The file's plugin section, as `--config FILE` reads it.
  const fromFile = () => {
    const c = loadConfig({ args: ["--config", file], env: {} });
    return { config_file: c.config_file ?? "", plugins: c.plugins };
  };
  const section = async () =>
    (JSON.parse(await Deno.readTextFile(file)) as {
      plugins: Record<string, { rooms: JsonObject[]; max_streams_per_room: number }>;
    }).plugins["janus.plugin.videoroom"];
  try {
    {
      await using gw = await startTestGateway(fromFile());
      await using c = await VideoRoomClient.open(gw.httpUrl);
      const h = await c.attach();
      assert.equal((await c.sync(h, { request: "exists", room: 1234 })).exists, false);
      assert.deepEqual(
        await c.sync(h, { request: "create", room: 970161, permanent: true, description: "new" }),
        { videoroom: "created", room: 970161, permanent: true },
      );
      assert.deepEqual((await section())?.rooms.map((r) => [r.room, r.description]), [
        [970160, "from the file"],
        [970161, "new"],
      ]);
      // A room that is not permanent stays out of the file.
      await c.sync(h, { request: "create", room: 970162 });
      assert.equal((await section())?.rooms.length, 2);
      assert.deepEqual(
        await c.sync(h, {
          request: "edit",
          room: 970161,
          new_description: "renamed",
          permanent: true,
        }),
        { videoroom: "edited", room: 970161, permanent: true },
      );
      assert.deepEqual(
        await c.sync(h, { request: "destroy", room: 970160, permanent: true }),
        { videoroom: "destroyed", room: 970160, permanent: true },
      );
      const written = await section();
      assert.deepEqual(written?.rooms.map((r) => [r.room, r.description]), [[970161, "renamed"]]);
      // The rest of the file is kept.
      assert.equal(written?.max_streams_per_room, 64);
      const whole = JSON.parse(await Deno.readTextFile(file)) as typeof original;
      assert.deepEqual(whole.general, original.general);
    }
    // A restart from the rewritten file has the permanent rooms and not the destroyed one.
    await using gw = await startTestGateway(fromFile());
    await using c = await VideoRoomClient.open(gw.httpUrl);
    const h = await c.attach();
    assert.equal((await c.sync(h, { request: "exists", room: 970161 })).exists, true);
    assert.equal((await c.sync(h, { request: "exists", room: 970160 })).exists, false);
    assert.equal((await c.sync(h, { request: "exists", room: 970162 })).exists, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("videoroom allowed/kick/moderate/enable_recording/listforwarders/rtp_forward replies", async () => {
  await using gw = await startTestGateway();
  await using c = await VideoRoomClient.open(gw.httpUrl);
  const h = await c.attach();
  const R = 970103;
  await c.sync(h, { request: "create", room: R, secret: "s" });
  const base = { room: R, secret: "s" };
  assert.deepEqual(
    await c.sync(h, { request: "allowed", ...base, action: "zzz" }),
    err(430, "Unsupported action 'zzz' (allowed)"),
  );
  assert.deepEqual(
    await c.sync(h, { request: "allowed", ...base }),
    err(429, "Missing mandatory element (action)"),
  );
  assert.deepEqual(
    await c.sync(h, { request: "allowed", ...base, action: "enable", allowed: ["t1"] }),
    {
      videoroom: "success",
      room: R,
      allowed: [],
    },
  );
  assert.deepEqual(
    await c.sync(h, { request: "allowed", ...base, action: "add", allowed: ["t2", "t1"] }),
    {
      videoroom: "success",
      room: R,
      allowed: ["t2", "t1"],
    },
  );
  assert.deepEqual(
    await c.sync(h, { request: "allowed", ...base, action: "remove", allowed: ["t1"] }),
    {
      videoroom: "success",
      room: R,
      allowed: ["t2"],
    },
  );
  assert.deepEqual(await c.sync(h, { request: "allowed", ...base, action: "disable" }), {
    videoroom: "success",
    room: R,
  });
  assert.deepEqual(
    await c.sync(h, { request: "kick", ...base, id: 5 }),
    err(428, `No such user 5 in room ${R}`),
  );
  assert.deepEqual(
    await c.sync(h, { request: "kick", ...base }),
    err(429, "Missing mandatory element (id)"),
  );
  assert.deepEqual(
    await c.sync(h, { request: "moderate", ...base, id: 5, mid: "0", mute: true }),
    err(428, `No such user 5 in room ${R}`),
  );
  assert.deepEqual(
    await c.sync(h, { request: "moderate", ...base, id: 5 }),
    err(429, "Missing mandatory element (mid)"),
  );
  assert.deepEqual(await c.sync(h, { request: "enable_recording", ...base, record: false }), {
    videoroom: "success",
    record: false,
  });
  assert.deepEqual(await c.sync(h, { request: "listparticipants", room: R }), {
    videoroom: "participants",
    room: R,
    participants: [],
  });
  assert.deepEqual(await c.sync(h, { request: "listforwarders", ...base }), {
    videoroom: "forwarders",
    room: R,
    publishers: [],
  });
  assert.deepEqual(
    await c.sync(h, { request: "listforwarders", room: R }),
    err(429, "Missing mandatory element (secret)"),
  );
  assert.deepEqual(
    await c.sync(h, { request: "rtp_forward", ...base }),
    err(429, "Missing mandatory element (host)"),
  );
  assert.deepEqual(
    await c.sync(h, { request: "rtp_forward", ...base, publisher_id: 5, host: "127.0.0.1" }),
    err(428, "No such feed (5)"),
  );
  assert.deepEqual(
    await c.sync(h, { request: "stop_rtp_forward", ...base, publisher_id: 5 }),
    err(429, "Missing mandatory element (stream_id)"),
  );
  assert.deepEqual(await c.sync(h, { request: "foo" }), err(423, "Unknown request 'foo'"));
  assert.deepEqual(await c.sync(h, {}), err(429, "Missing mandatory element (request)"));
});

Deno.test("videoroom checks fields in the reference's order (measured on Janus 1.1.2)", async () => {
  await using gw = await startTestGateway();
  await using c = await VideoRoomClient.open(gw.httpUrl);
  const h = await c.attach();
  const R = 96100;
  const type = (name: string, expected: string) =>
    err(430, `Invalid element type (${name} should be ${expected})`);
  const audioCodecs = err(
    430,
    "Invalid element (audiocodec can only be or contain opus, isac32, isac16, pcmu, pcma or g722)",
  );
  const videoCodecs = err(
    430,
    "Invalid element (videocodec can only be or contain vp8, vp9, av1, h264 or h265)",
  );
  // create: codec lists (up to five known names, case-insensitive), before "already exists".
  await c.sync(h, { request: "create", room: R, audiocodec: "OPUS,pcmu", videocodec: "AV1" });
  const listed = ((await c.sync(h, { request: "list" })).list as JsonObject[])
    .find((r) => r.room === R);
  assert.equal(listed?.audiocodec, "opus,pcmu", "names are lower-cased");
  assert.equal(listed?.videocodec, "av1");
  const creates: [JsonObject, JsonObject][] = [
    [{ room: R, audiocodec: "foo" }, audioCodecs],
    [{ room: R + 1, audiocodec: "opus," }, audioCodecs],
    [{ room: R + 1, audiocodec: " opus" }, audioCodecs],
    [{ room: R + 1, videocodec: "vp8,foo" }, videoCodecs],
    [{ room: R + 1, audiocodec: "foo", publishers: "x" }, type("publishers", "a positive integer")],
  ];
  for (const [body, expected] of creates) {
    assert.deepEqual(
      await c.sync(h, { request: "create", ...body }),
      expected,
      JSON.stringify(body),
    );
  }
  const sixth = await c.sync(h, {
    request: "create",
    room: R + 2,
    audiocodec: "opus,pcmu,pcma,g722,isac16,foo",
  });
  assert.equal(sixth.videoroom, "created", "a sixth name is ignored");

  // join: the common fields (legacy media flags, token) first, then each kind's own.
  const joins: [JsonObject, JsonObject][] = [
    [{ ptype: "publisher", display: 5, audio: "x" }, type("audio", "a boolean")],
    [{ ptype: "publisher", id: "x", token: 5 }, type("token", "a string")],
    [{ ptype: "publisher", bitrate: "x", token: 5 }, type("bitrate", "a positive integer")],
    [{ ptype: "publisher", filename: 5, data: "x" }, type("data", "a boolean")],
    [{ ptype: "publisher", display: 5, id: "x" }, type("display", "a string")],
    [{ ptype: "publisher", id: -1 }, type("id", "a positive integer")],
    [{ ptype: "subscriber", feed: "x", audio: "x" }, type("audio", "a boolean")],
    [{ ptype: "subscriber", streams: "x", private_id: "x" }, type("streams", "an array")],
    [
      { ptype: "subscriber", private_id: "x", autoupdate: "x" },
      type(
        "private_id",
        "a positive integer",
      ),
    ],
    [{ ptype: "subscriber", autoupdate: "x", offer_audio: "x" }, type("autoupdate", "a boolean")],
    [{ ptype: "subscriber", feed: "x", offer_audio: "x" }, type("offer_audio", "a boolean")],
    [{ ptype: "subscriber", feed: -4 }, type("feed", "a positive integer")],
    [{ ptype: "subscriber", streams: [] }, err(429, "Missing mandatory element (feed)")],
    [{ ptype: "subscriber", streams: [], feed: 42 }, err(428, "No such feed (42)")],
    [{ ptype: "subscriber", streams: [{ feed: "x", mid: 5 }] }, type("mid", "a string")],
    [{ ptype: "subscriber", streams: [{ feed: "x", send: "x" }] }, type("send", "a boolean")],
    [
      { ptype: "subscriber", streams: [{ feed: 42, crossrefid: 5 }] },
      type(
        "crossrefid",
        "a string",
      ),
    ],
    [
      { ptype: "subscriber", streams: [{ feed: 42, min_delay: "x" }] },
      type(
        "min_delay",
        "an integer",
      ),
    ],
    [
      { ptype: "subscriber", streams: [5, { feed: "x" }] },
      err(
        429,
        "Missing mandatory element (feed)",
      ),
    ],
    // Each entry is checked, then looked up, in turn.
    [{ ptype: "subscriber", streams: [{ feed: 42 }, 5] }, err(428, "No such feed (42)")],
    [
      { ptype: "subscriber", streams: [{ feed: 42 }], use_msid: "x" },
      err(
        428,
        "No such feed (42)",
      ),
    ],
  ];
  for (const [body, expected] of joins) {
    const handle = await c.attach();
    assert.deepEqual(
      await c.ask(handle, { request: "join", room: R, ...body }),
      expected,
      JSON.stringify(body),
    );
  }

  // configure / publish of a joined publisher (not publishing).
  const p = await c.attach();
  await c.ask(p, { request: "join", room: R, ptype: "publisher", id: 42 });
  const configures: [JsonObject, JsonObject][] = [
    [{ audio: "x" }, type("audio", "a boolean")],
    [{ descriptions: "x", audio: "x" }, type("descriptions", "an array")],
    [{ display: 5, bitrate: "x" }, type("bitrate", "a positive integer")],
    [{ secret: 5, record: "x" }, type("record", "a boolean")],
    [{ update: "x", audio: "x" }, type("audio", "a boolean")],
    [{ bitrate: 1.5 }, type("bitrate", "a positive integer")],
    [{ keyframe: true, audiocodec: 5 }, type("audiocodec", "a string")],
    [
      { audio_level_average: -5, audio_active_packets: -1 },
      type(
        "audio_active_packets",
        "a positive integer",
      ),
    ],
    [{ restart: "x" }, type("restart", "a boolean")],
    [{ descriptions: [5] }, err(429, "Missing mandatory element (mid)")],
    [
      { descriptions: [{ mid: "0" }], streams: [{ mid: 5 }] },
      err(
        429,
        "Missing mandatory element (description)",
      ),
    ],
    [{ descriptions: [{ mid: "0", description: 5 }] }, type("description", "a string")],
    [{ streams: [{ mid: 5, send: "x" }] }, type("mid", "a string")],
    [{ streams: [{ send: "x", min_delay: "y" }] }, type("send", "a boolean")],
    [{ streams: [{ mid: "0", max_delay: "x" }] }, type("max_delay", "an integer")],
    // Entries name mids we publish; a missing mid is only for a lone entry.
    [{ streams: [{ mid: "0", send: true }] }, err(428, "No such mid '0' published")],
    [
      { streams: [{ send: true }, { mid: "3" }] },
      err(
        430,
        "Invalid value (mid can't be null in a streams array)",
      ),
    ],
  ];
  for (const [body, expected] of configures) {
    for (const request of ["configure", "publish"]) {
      assert.deepEqual(await c.ask(p, { request, ...body }), expected, JSON.stringify(body));
    }
  }
  // What the reference lets through: non-object streams, a lone entry without mid, metadata,
  // codec names, zero bitrate.
  const ok = { videoroom: "event", room: R, configured: "ok" };
  for (
    const body of [
      { streams: "x" },
      { streams: [5] },
      { streams: [{ send: true }] },
      { metadata: 5 },
      { audiocodec: "foo" },
      { bitrate: 0 },
      { audio_level_average: "x" },
    ]
  ) {
    assert.deepEqual(await c.ask(p, { request: "configure", ...body }), ok, JSON.stringify(body));
  }

  // rtp_forward / stop_rtp_forward: types, then the feed (publishing or not).
  assert.deepEqual(
    await c.sync(h, {
      request: "rtp_forward",
      room: R,
      publisher_id: 42,
      host: "127.0.0.1",
      audio_port: "x",
    }),
    type("audio_port", "a positive integer"),
  );
  assert.deepEqual(
    await c.sync(h, { request: "rtp_forward", room: R, publisher_id: 999, host: "127.0.0.1" }),
    err(428, "No such feed (999)"),
  );
  // A participant not publishing has no streams: no forwarder, the reference's reply.
  assert.deepEqual(
    await c.sync(h, { request: "rtp_forward", room: R, publisher_id: 42, host: "localhost" }),
    {
      videoroom: "rtp_forward",
      room: R,
      publisher_id: 42,
      rtp_stream: { warning: "deprecated_api", host: "127.0.0.1" },
    },
  );
  assert.deepEqual(
    await c.sync(h, {
      request: "rtp_forward",
      room: R,
      publisher_id: 42,
      host: "127.0.0.1",
      streams: [{ mid: "0", port: 5000 }],
    }),
    { videoroom: "rtp_forward", room: R, publisher_id: 42, forwarders: [] },
  );
  // Before the room and the feed: the host, its family, each stream entry, the SRTP suite.
  const fwd = { request: "rtp_forward", room: 999999, publisher_id: 1 };
  for (
    const [body, reply] of [
      [
        { host: "no.such.host.invalid", streams: [{ mid: "0", port: 5000 }] },
        err(430, "Could not resolve address (no.such.host.invalid)..."),
      ],
      [{ host: "127.0.0.1", host_family: "ipx" }, err(430, "Unsupported protocol family (ipx)")],
      [
        { host: "127.0.0.1", streams: [{ port: 5000 }] },
        err(429, "Missing mandatory element (mid)"),
      ],
      [{ host: "127.0.0.1", streams: [5] }, err(429, "Missing mandatory element (mid)")],
      [
        { host: "127.0.0.1", streams: [{ mid: "0", port: -1 }] },
        type("port", "a positive integer"),
      ],
      [{ host: "127.0.0.1", streams: "x" }, type("streams", "an array")],
      [
        { host: "127.0.0.1", srtp_suite: 40, srtp_crypto: "abc", streams: [] },
        err(430, "Invalid SRTP suite (40)"),
      ],
      [{ host: "127.0.0.1", srtp_suite: 80, srtp_crypto: 5 }, type("srtp_crypto", "a string")],
      [
        { host: "127.0.0.1", srtp_suite: "x", srtp_crypto: "abc" },
        type("srtp_suite", "a positive integer"),
      ],
      [
        { host: "127.0.0.1", streams: [{ mid: "0", port: 5000, rtcp_port: -1 }] },
        type("rtcp_port", "a positive integer"),
      ],
      [
        {
          host: "127.0.0.1",
          srtp_suite: 40,
          srtp_crypto: "abc",
          streams: [{ mid: "0", port: 1, rtcp_port: "x" }],
        },
        type("rtcp_port", "a positive integer"),
      ],
      [{ host: "127.0.0.1", video_rtcp_port: "x" }, type("video_rtcp_port", "a positive integer")],
      // A suite without a crypto is ignored (no SRTP), as is a short crypto until a stream.
      [{ host: "127.0.0.1", srtp_suite: 40 }, err(426, "No such room (999999)")],
      [
        { host: "127.0.0.1", srtp_suite: 32, srtp_crypto: "abc" },
        err(426, "No such room (999999)"),
      ],
      [
        { host: "127.0.0.1", streams: [{ mid: "0", port: 70000 }] },
        err(426, "No such room (999999)"),
      ],
    ] as [JsonObject, JsonObject][]
  ) {
    assert.deepEqual(await c.sync(h, { ...fwd, ...body }), reply, JSON.stringify(body));
  }
  assert.deepEqual(
    await c.sync(h, { request: "stop_rtp_forward", room: R, publisher_id: 42, stream_id: 5 }),
    err(428, "No such stream (5)"),
  );

  // allowed: an unknown action before the room lookup; tokens must all be strings (add,
  // remove, and create), after the secret.
  const notString = err(430, "Invalid element in the allowed array (not a string)");
  assert.deepEqual(
    await c.sync(h, { request: "allowed", room: 999999, action: "bogus" }),
    err(430, "Unsupported action 'bogus' (allowed)"),
  );
  assert.deepEqual(
    await c.sync(h, { request: "create", room: R, allowed: [5] }),
    notString,
    "before 'already exists'",
  );
  await c.sync(h, { request: "create", room: R + 3, secret: "s", description: "" });
  assert.deepEqual(
    await c.sync(h, {
      request: "allowed",
      room: R + 3,
      secret: "bad",
      action: "add",
      allowed: [5],
    }),
    err(433, "Unauthorized (wrong secret)"),
  );
  assert.deepEqual(
    await c.sync(h, {
      request: "allowed",
      room: R + 3,
      secret: "s",
      action: "add",
      allowed: ["a", 5],
    }),
    notString,
  );
  assert.deepEqual(
    await c.sync(h, {
      request: "allowed",
      room: R + 3,
      secret: "s",
      action: "enable",
      allowed: [5],
    }),
    { videoroom: "success", room: R + 3, allowed: [] },
  );
  // An empty description is the default one, and an empty new one keeps it.
  await c.sync(h, { request: "edit", room: R + 3, secret: "s", new_description: "" });
  const described = ((await c.sync(h, { request: "list" })).list as JsonObject[])
    .find((r) => r.room === R + 3);
  assert.equal(described?.description, `Room ${R + 3}`);

  // kick, moderate and enable_recording check their own fields first and read `room`
  // unchecked (a non-integer is room 0; a negative one wraps around as unsigned 64-bit);
  // rtp_forward checks its fields, then room, then publisher_id.
  const orders: [JsonObject, JsonObject][] = [
    [{ request: "kick", room: "x", secret: 5, id: "x" }, type("id", "a positive integer")],
    [{ request: "kick", room: "x", secret: 5, id: 5 }, type("secret", "a string")],
    [{ request: "kick", room: "x", id: 5 }, err(426, "No such room (0)")],
    [{ request: "kick", id: 5 }, err(426, "No such room (0)")],
    [{ request: "kick", room: -1, id: 5 }, err(426, "No such room (18446744073709551615)")],
    [{ request: "moderate", room: "x", id: 5, mid: 5, mute: "x" }, type("mid", "a string")],
    [{ request: "moderate", id: 5, mute: "x" }, err(429, "Missing mandatory element (mid)")],
    [{ request: "moderate", id: 5, mid: "0", mute: "x" }, type("mute", "a boolean")],
    [
      { request: "moderate", room: "x", id: 5, mid: "0", mute: true },
      err(
        426,
        "No such room (0)",
      ),
    ],
    [
      { request: "enable_recording", room: "x", secret: 5 },
      err(
        429,
        "Missing mandatory element (record)",
      ),
    ],
    [
      { request: "enable_recording", room: "x", secret: 5, record: true },
      err(
        426,
        "No such room (0)",
      ),
    ],
    [
      { request: "enable_recording", room: R + 3, secret: 5, record: true },
      type(
        "secret",
        "a string",
      ),
    ],
    [
      { request: "rtp_forward", room: "x", secret: 5, host: "h", publisher_id: "x" },
      type(
        "secret",
        "a string",
      ),
    ],
    [
      { request: "rtp_forward", room: "x", host: "h", publisher_id: "x", audio_port: "x" },
      type(
        "audio_port",
        "a positive integer",
      ),
    ],
    [
      { request: "rtp_forward", room: "x", host: "h", publisher_id: "x" },
      type(
        "room",
        "a positive integer",
      ),
    ],
    [
      { request: "rtp_forward", host: "h", room: R },
      err(
        429,
        "Missing mandatory element (publisher_id)",
      ),
    ],
  ];
  for (const [body, expected] of orders) {
    assert.deepEqual(await c.sync(h, body), expected, JSON.stringify(body));
  }

  // A kicked participant's handle cannot join again; one that left can.
  await c.sync(h, { request: "kick", room: R, id: 42 });
  await c.takeData(p, (d) => d.leaving === "ok");
  assert.deepEqual(
    await c.ask(p, { request: "configure", display: "x" }),
    err(426, "No such room"),
  );
  assert.deepEqual(
    await c.ask(p, { request: "join", room: R, ptype: "publisher" }),
    err(425, "Not in a room (create a new handle)"),
  );
  const q = await c.attach();
  await c.ask(q, { request: "join", room: R, ptype: "publisher" });
  assert.equal((await c.ask(q, { request: "leave" })).leaving, "ok");
  assert.equal(
    (await c.ask(q, { request: "join", room: R, ptype: "publisher" })).videoroom,
    "joined",
  );
});

Deno.test("videoroom join errors arrive as events after an ack (424-436)", async () => {
  await using gw = await startTestGateway();
  await using c = await VideoRoomClient.open(gw.httpUrl);
  const admin = await c.attach();
  const R = 970110;
  await c.sync(admin, { request: "create", room: R, pin: "p" });
  const p = await c.attach();
  const cases: [JsonObject, JsonObject][] = [
    [
      { request: "join", room: "x" },
      err(430, "Invalid element type (room should be a positive integer)"),
    ],
    [{ request: "join", ptype: "publisher" }, err(429, "Missing mandatory element (room)")],
    [{ request: "join", room: R }, err(429, "Missing mandatory element (ptype)")],
    [
      { request: "join", room: R, ptype: 5 },
      err(430, "Invalid element type (ptype should be a string)"),
    ],
    [{ request: "join", room: 999, ptype: "publisher" }, err(426, "No such room (999)")],
    [{ request: "join", room: R, ptype: "publisher" }, err(429, "Missing mandatory element (pin)")],
    [
      { request: "join", room: R, ptype: "publisher", pin: "w" },
      err(433, "Unauthorized (wrong pin)"),
    ],
    [{ request: "join", room: R, ptype: "x", pin: "p" }, err(430, "Invalid element (ptype)")],
    [{ request: "configure" }, err(424, "Invalid request on unconfigured participant")],
    [{ request: "leave" }, err(424, "Invalid request on unconfigured participant")],
    [{ request: "start" }, err(424, "Invalid request on unconfigured participant")],
  ];
  for (const [body, expected] of cases) {
    assert.deepEqual(await c.ask(p, body), expected, JSON.stringify(body));
  }
  const joined = await c.ask(p, {
    request: "join",
    room: R,
    ptype: "publisher",
    pin: "p",
    display: "al",
    id: 77,
  });
  assert.deepEqual(Object.keys(joined), [
    "videoroom",
    "room",
    "description",
    "id",
    "private_id",
    "publishers",
  ]);
  assert.equal(joined.videoroom, "joined");
  assert.equal(joined.id, 77);
  assert.deepEqual(joined.publishers, []);
  const q = await c.attach();
  assert.deepEqual(
    await c.ask(q, { request: "join", room: R, ptype: "publisher", pin: "p", id: 77 }),
    err(436, "User ID 77 already exists"),
  );
  assert.deepEqual(
    await c.ask(p, { request: "join", room: R, ptype: "subscriber", pin: "p", feed: 1 }),
    err(425, "Already in as a publisher on this handle"),
  );
  assert.deepEqual(await c.ask(p, { request: "start" }), err(423, "Unknown request 'start'"));
  assert.deepEqual(
    await c.ask(p, { request: "unpublish" }),
    err(435, "Can't unpublish, not published"),
  );
  const s = await c.attach();
  assert.deepEqual(
    await c.ask(s, {
      request: "join",
      room: R,
      ptype: "subscriber",
      pin: "p",
      streams: [{ feed: 77 }],
    }),
    err(428, "No such feed (77)"),
    "a publisher without a PC is no feed",
  );
  assert.deepEqual(
    await c.ask(s, { request: "join", room: R, ptype: "subscriber", pin: "p" }),
    err(429, "Missing mandatory element (feed)"),
  );
  assert.deepEqual(
    await c.ask(s, { request: "join", room: R, ptype: "subscriber", pin: "p", streams: "x" }),
    err(430, "Invalid element type (streams should be an array)"),
  );
  // `publish` without an offer does not fail (reference quirk).
  assert.deepEqual(await c.ask(p, { request: "publish" }), {
    videoroom: "event",
    room: R,
    configured: "ok",
  });
});

Deno.test("videoroom participants: joined lists, joining, display, leave, detach, kick, destroy", async () => {
  await using gw = await startTestGateway();
  await using c = await VideoRoomClient.open(gw.httpUrl);
  const admin = await c.attach();
  const R = 970130;
  await c.sync(admin, { request: "create", room: R, notify_joining: true, secret: "s" });
  const a = await c.attach();
  const b = await c.attach();
  const d = await c.attach();
  const ja = await c.ask(a, {
    request: "join",
    room: R,
    ptype: "publisher",
    display: "al",
    id: 11,
  });
  assert.deepEqual(ja.attendees, []);
  const jb = await c.ask(b, {
    request: "join",
    room: R,
    ptype: "publisher",
    display: "bo",
    id: 12,
  });
  assert.deepEqual(jb.attendees, [{ id: 11, display: "al" }]);
  assert.deepEqual(await c.takeData(a, (x) => "joining" in x), {
    videoroom: "event",
    room: R,
    joining: { id: 12, display: "bo" },
  });
  await c.ask(d, { request: "join", room: R, ptype: "publisher", id: 13 });
  assert.deepEqual(await c.takeData(a, (x) => "joining" in x), {
    videoroom: "event",
    room: R,
    joining: { id: 13 },
  });
  await c.takeData(b, (x) => "joining" in x);
  assert.deepEqual(await c.sync(admin, { request: "listparticipants", room: R }), {
    videoroom: "participants",
    room: R,
    participants: [
      { id: 11, display: "al", publisher: false },
      { id: 12, display: "bo", publisher: false },
      { id: 13, publisher: false },
    ],
  });
  // A display change: the others get an event without `room`.
  assert.deepEqual(await c.ask(a, { request: "configure", display: "al2" }), {
    videoroom: "event",
    room: R,
    configured: "ok",
  });
  assert.deepEqual(await c.takeData(b, (x) => "display" in x), {
    videoroom: "event",
    id: 11,
    display: "al2",
  });
  await c.takeData(d, (x) => "display" in x);
  // Leave: the others hear `leaving`; a second leave gives 426.
  assert.deepEqual(await c.ask(a, { request: "leave" }), {
    videoroom: "event",
    room: R,
    leaving: "ok",
  });
  assert.deepEqual(await c.takeData(b, (x) => "leaving" in x), {
    videoroom: "event",
    room: R,
    leaving: 11,
  });
  await c.takeData(d, (x) => "leaving" in x);
  assert.deepEqual(await c.ask(a, { request: "leave" }), err(426, "No such room"));
  // Detach: unpublished (twice, as measured) then leaving.
  const detached = await c.send({ janus: "detach" }, d);
  assert.equal(detached.janus, "success");
  assert.deepEqual(await c.takeData(b, (x) => "unpublished" in x), {
    videoroom: "event",
    room: R,
    unpublished: 13,
  });
  await c.takeData(b, (x) => "unpublished" in x);
  assert.deepEqual(await c.takeData(b, (x) => "leaving" in x), {
    videoroom: "event",
    room: R,
    leaving: 13,
  });
  // Kick: the kicked handle gets leaving ok + reason, the others `kicked`.
  await c.ask(a, { request: "join", room: R, ptype: "publisher", id: 21 });
  await c.takeData(b, (x) => "joining" in x);
  assert.deepEqual(await c.sync(admin, { request: "kick", room: R, secret: "s", id: 12 }), {
    videoroom: "success",
  });
  assert.deepEqual(await c.takeData(b, (x) => "leaving" in x), {
    videoroom: "event",
    room: R,
    leaving: "ok",
    reason: "kicked",
  });
  assert.deepEqual(await c.takeData(a, (x) => "kicked" in x), {
    videoroom: "event",
    room: R,
    kicked: 12,
  });
  // Destroy: every participant hears `destroyed`.
  await c.sync(admin, { request: "destroy", room: R, secret: "s" });
  assert.deepEqual(await c.takeData(a, (x) => x.videoroom === "destroyed"), {
    videoroom: "destroyed",
    room: R,
  });
  await c.none(b, (x) => x.videoroom === "destroyed");
});

Deno.test("videoroom token ACL and require_pvtid", async () => {
  await using gw = await startTestGateway();
  await using c = await VideoRoomClient.open(gw.httpUrl);
  const admin = await c.attach();
  const R = 970131;
  await c.sync(admin, { request: "create", room: R, require_pvtid: true, allowed: ["tk"] });
  const p = await c.attach();
  assert.deepEqual(
    await c.ask(p, { request: "join", room: R, ptype: "publisher", token: "zz" }),
    err(433, "Unauthorized (not in the allowed list)"),
  );
  assert.equal(
    (await c.ask(p, { request: "join", room: R, ptype: "publisher", token: "tk" })).videoroom,
    "joined",
  );
  const s = await c.attach();
  assert.deepEqual(
    await c.ask(s, {
      request: "join",
      room: R,
      ptype: "subscriber",
      token: "tk",
      feed: 1,
      private_id: 42,
    }),
    err(433, "Unauthorized (this room requires a valid private_id)"),
  );
});

Deno.test("videoroom message_plugin over the admin API answers the sync requests", async () => {
  await using gw = await startTestGateway();
  const admin = async (request: JsonObject) => {
    const res = await fetch(gw.adminUrl, {
      method: "POST",
      body: JSON.stringify({
        janus: "message_plugin",
        transaction: "adm",
        admin_secret: "janusoverlord",
        plugin: "janus.plugin.videoroom",
        request,
      }),
    });
    return await res.json() as JsonObject;
  };
  const created = await admin({ request: "create", room: 970140 });
  assert.equal(created.janus, "success");
  assert.deepEqual(created.response, { videoroom: "created", room: 970140, permanent: false });
  const exists = await admin({ request: "exists", room: 970140 });
  assert.deepEqual(exists.response, { videoroom: "success", room: 970140, exists: true });
  const unknown = await admin({ request: "join", room: 970140 });
  assert.deepEqual(unknown.response, err(423, "Unknown request 'join'"));
});
