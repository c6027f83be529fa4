/**
 * TextRoom over the Janus API: every case of `_textroom_cases.ts` over HTTP and over
 * WebSocket (one fresh gateway each; cases with `media` get a media worker and must run in
 * the test network namespace), then the admin API's `message_plugin`, `admin_key`, and
 * `permanent` rooms written back to the configuration file. Each test ends with the plugin's
 * sessions and participants back at zero.
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { startTestGateway, type TestGateway } from "../_helpers/gateway.ts";
import { httpClient, type JanusClient, tx, wsClient } from "../_helpers/janus_client.ts";
import { assertInsideNetns } from "../_helpers/netns.ts";
import { adminMessage, ROOM_1234, same, TEXTROOM_CASES } from "./_textroom_cases.ts";
import { startTextRoomGateway, TEXTROOM, textRoomCounts } from "./_textroom_peers.ts";

function assertReleased(gw: TestGateway, rooms: number): void {
  assert.deepEqual(textRoomCounts(gw), { rooms, participants: 0, sessions: 0, posts: 0 });
}

for (const kind of ["http", "ws"] as const) {
  for (const c of TEXTROOM_CASES) {
    Deno.test(`textroom ${kind}: ${c.name}`, async () => {
      if (c.media) assertInsideNetns();
      await using gw = c.media ? await startTextRoomGateway() : await startTestGateway();
      const client: JanusClient = kind === "http"
        ? httpClient(gw.httpUrl)
        : await wsClient(gw.wsUrl);
      try {
        await c.run({ gw, c: client });
      } finally {
        await client.close();
      }
      assertReleased(gw, 1);
    });
  }
}

Deno.test("textroom admin message_plugin: management requests, created/destroyed, 415 event", async () => {
  await using gw = await startTestGateway();
  // As the reference, the body needs a transaction of its own.
  same(await adminMessage(gw, { request: "list" }), {
    textroom: "error",
    error_code: 413,
    error: "Missing mandatory element (transaction)",
  });
  same(await adminMessage(gw, { request: "list", transaction: "x" }), {
    textroom: "success",
    list: [ROOM_1234],
  });
  same(await adminMessage(gw, { request: "create", room: 55, transaction: "x" }), {
    textroom: "created",
    room: 55,
    permanent: false,
  });
  same(await adminMessage(gw, { request: "destroy", room: 55, transaction: "x" }), {
    textroom: "destroyed",
    room: 55,
    permanent: false,
  });
  same(await adminMessage(gw, { request: "join", room: 1234, transaction: "x" }), {
    textroom: "event",
    error_code: 415,
    error: "Unknown request 'join'",
  });
  same(await adminMessage(gw, {}), {
    textroom: "event",
    error_code: 413,
    error: "Missing mandatory element (request)",
  });
  assertReleased(gw, 1);
});

Deno.test("textroom admin_key: create needs it, list shows private rooms to whoever gives it", async () => {
  await using gw = await startTestGateway({ plugins: { [TEXTROOM]: { admin_key: "k" } } });
  const c = httpClient(gw.httpUrl);
  const session = ((await c.send({ janus: "create", transaction: tx() })).data as JsonObject).id;
  const handle = ((await c.send({
    janus: "attach",
    session_id: session,
    plugin: TEXTROOM,
    transaction: tx(),
  })).data as JsonObject).id;
  const sync = async (body: JsonObject) => {
    const reply = await c.send({
      janus: "message",
      session_id: session,
      handle_id: handle,
      transaction: tx(),
      body,
    });
    return (reply.plugindata as JsonObject).data as JsonObject;
  };
  same(await sync({ request: "create", room: 7 }), {
    textroom: "error",
    error_code: 413,
    error: "Missing mandatory element (admin_key)",
  });
  same(await sync({ request: "create", room: 7, admin_key: "x" }), {
    textroom: "error",
    error_code: 419,
    error: "Unauthorized (wrong admin_key)",
  });
  same(await sync({ request: "create", room: 7, admin_key: "k", is_private: true }), {
    textroom: "created",
    room: 7,
    permanent: false,
  });
  const rooms = async (body: JsonObject) =>
    ((await sync({ request: "list", ...body })).list as JsonObject[]).map((r) => r.room);
  assert.deepEqual(await rooms({}), [1234]);
  assert.deepEqual(await rooms({ admin_key: "k" }), [1234, 7]);
  same(await sync({ request: "list", admin_key: "x" }), {
    textroom: "error",
    error_code: 419,
    error: "Unauthorized (wrong admin_key)",
  });
  await c.send({ janus: "destroy", session_id: session, transaction: tx() });
  await c.close();
  assertReleased(gw, 2);
});

Deno.test("textroom permanent rooms are written back to the config file and read at start", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/gateway.json`;
  await Deno.writeTextFile(file, JSON.stringify({ plugins: {} }));
  const section = async () =>
    (JSON.parse(await Deno.readTextFile(file)) as { plugins: Record<string, JsonObject> })
      .plugins[TEXTROOM];
  const sync = async (gw: TestGateway, body: JsonObject) =>
    await adminMessage(gw, { ...body, transaction: "t" });
  try {
    {
      await using gw = await startTestGateway({ config_file: file });
      same(
        await sync(gw, { request: "create", room: 41, secret: "s", history: 3, permanent: true }),
        {
          textroom: "created",
          room: 41,
          permanent: true,
        },
      );
      await sync(gw, { request: "create", room: 42 });
      same(
        await sync(gw, {
          request: "edit",
          room: 41,
          secret: "s",
          new_description: "Kept",
          permanent: true,
        }),
        {
          textroom: "edited",
          room: 41,
          permanent: true,
        },
      );
      // The stock room is in the file too: the configuration's rooms are the saved ones.
      assert.deepEqual((await section())?.rooms, [
        { room: 1234, description: "Demo Room", secret: "adminpwd" },
        { room: 41, description: "Kept", secret: "s", history: 3 },
      ]);
    }
    const config = JSON.parse(await Deno.readTextFile(file));
    {
      await using gw = await startTestGateway({ ...config, config_file: file });
      const list = (await sync(gw, { request: "list" })).list as JsonObject[];
      assert.deepEqual(list.map((r) => [r.room, r.description, r.history]), [
        [1234, "Demo Room", 0],
        [41, "Kept", 3],
      ]);
      same(await sync(gw, { request: "destroy", room: 41, secret: "s", permanent: true }), {
        textroom: "destroyed",
        room: 41,
        permanent: true,
      });
      assert.deepEqual((await section())?.rooms, [
        { room: 1234, description: "Demo Room", secret: "adminpwd" },
      ]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
