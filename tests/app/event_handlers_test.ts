/**
 * Event handlers (issue 14 item 3) against real receivers on loopback:
 *
 * - a whole EchoTest call and a VideoRoom publish/subscribe/leave (`tests/schema/scenario.ts`,
 *   real wrtc peers) reach an HTTP receiver in JSON batches, and every event has a shape the
 *   reference's sample handler posted for the same run (`tests/schema/fixtures/events.json`,
 *   captured by `tests/schema/capture_reference.ts`): same type, subtype and keys;
 * - VideoCall (register, a call with real peers, hangups), TextRoom (room management),
 *   Streaming (create, a viewer's watch/start/stop, destroy), AudioBridge (create, edit, a
 *   listener and a participant with a real offer joining, configure, leave, destroy) and
 *   VideoRoom (create, join, publish, subscribe, unpublish, leave, destroy) tell event
 *   handlers what the reference's plugins tell, event for event (`notify_event`; VideoRoom's
 *   random participant and private ids aside);
 * - the same events reach a WebSocket receiver;
 * - a receiver that fails is retried with backoff, one that hangs blocks nothing and its queue
 *   stays at `max_queue` (the oldest dropped and counted), and `query_eventhandler` answers as
 *   the reference's sampleevh.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../core/config.ts";
import { startMediaEngine } from "../../core/media/start.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { startTestGateway, testConfig } from "../_helpers/gateway.ts";
import { wrtcTest } from "../media/_client.ts";
import { runScenario } from "../schema/scenario.ts";

const ADMIN_SECRET = "janusoverlord";
const VIDEOROOM = "janus.plugin.videoroom";
const REFERENCE_EVENTS = new URL("../schema/fixtures/events.json", import.meta.url);

/** A loopback HTTP receiver that keeps every POSTed batch. */
function httpReceiver(respond: (n: number) => Response | Promise<Response> = () => ok()) {
  const batches: unknown[] = [];
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (r) => {
    const n = ++requests;
    assert.equal(r.method, "POST");
    assert.equal(r.headers.get("content-type"), "application/json");
    const body = await r.json();
    const res = await respond(n);
    if (res.ok) batches.push(body);
    return res;
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/events`,
    batches,
    get requests() {
      return requests;
    },
    events: () => batches.flatMap((b) => Array.isArray(b) ? b : [b]) as JsonObject[],
    stop: () => server.shutdown(),
  };
}

function ok(): Response {
  return new Response("ok");
}

/** A WebSocket receiver (subprotocol `janus-event-handlers`) that keeps every message. */
function wsReceiver() {
  const messages: unknown[] = [];
  const sockets = new Set<WebSocket>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (r) => {
    assert.equal(r.headers.get("sec-websocket-protocol"), "janus-event-handlers");
    const { socket, response } = Deno.upgradeWebSocket(r, { protocol: "janus-event-handlers" });
    sockets.add(socket);
    socket.onmessage = (m) => messages.push(JSON.parse(String(m.data)));
    socket.onclose = () => sockets.delete(socket);
    return response;
  });
  return {
    url: `ws://127.0.0.1:${server.addr.port}`,
    events: () => messages.flatMap((b) => Array.isArray(b) ? b : [b]) as JsonObject[],
    async stop() {
      for (const s of sockets) s.close();
      await server.shutdown();
    },
  };
}

/** What makes two events the same kind: type, subtype and the keys at each level that varies. */
function shape(e: JsonObject): string {
  const body = e.event as JsonObject;
  const keys = (o: JsonObject) => Object.keys(o).sort().join(",");
  let inner = keys(body);
  // Plugin and transport events: the plugin's own data shapes them (VideoRoom names its event).
  const data = body.data as JsonObject | undefined;
  if (data && typeof data === "object" && !Array.isArray(data)) {
    inner += ` data{${typeof data.event === "string" ? `event=${data.event};` : ""}${keys(data)}}`;
  }
  // Which states are told matters, not only that a key is there.
  for (const k of ["name", "ice", "dtls", "connection", "owner", "status"]) {
    if (typeof body[k] === "string") inner += ` ${k}=${body[k]}`;
  }
  // Whether a handle has an opaque id is the scenario's choice, not a shape (checked apart).
  const { opaque_id: _, ...top } = e;
  return `${e.type}/${e.subtype ?? 0} [${keys(top)}] {${inner}}`;
}

/**
 * Reference shapes this gateway does not produce, each with the reason. Anything else the
 * reference posted for the run must come from us too.
 */
const NOT_PRODUCED: readonly { match: RegExp; why: string }[] = [
  // tests/app/media_stats_events_test.ts checks them with stats_period 1.
  {
    match: /^32\/3 /,
    why: "stats come every stats_period (5 s) and the rtp engine reports no data-channel line",
  },
  { match: /event=loaded;/, why: "the reference's echojs/echolua plugins are not ours" },
];

/** Plugins whose event-handler events must match the reference's one for one. */
const NOTIFYING: ReadonlySet<string> = new Set([
  "janus.plugin.videocall",
  "janus.plugin.textroom",
  "janus.plugin.streaming",
  "janus.plugin.audiobridge",
]);

/** Shapes of ours the reference's run has no example of (none expected). */
function unknownShapes(ours: readonly JsonObject[], reference: ReadonlySet<string>): string[] {
  return [...new Set(ours.map(shape))].filter((s) => !reference.has(s));
}

wrtcTest(
  "event handlers: every event of an EchoTest call and a VideoRoom session reaches HTTP and " +
    "WebSocket receivers, with the reference's shapes",
  async (wrtc) => {
    const http = httpReceiver();
    const ws = wsReceiver();
    const reference = JSON.parse(await Deno.readTextFile(REFERENCE_EVENTS)) as JsonObject[];
    const referenceShapes = new Set(reference.map(shape));
    const config = testConfig({
      general: { session_timeout: 3, server_name: "MyJanusInstance" },
      media: { workers: 1 },
      events: {
        enabled: true,
        handlers: [
          { kind: "http", backend: http.url, max_nev: 20 },
          { kind: "ws", backend: ws.url },
        ],
      },
    });
    const media = await startMediaEngine(parseConfig(config));
    assert.ok(media);
    const gw = await startTestGateway(config, { media });
    try {
      await runScenario({
        httpUrl: gw.httpUrl,
        wsUrl: gw.wsUrl,
        adminUrl: gw.adminUrl,
        adminWsUrl: gw.adminWsUrl,
        adminSecret: ADMIN_SECRET,
        eventHandler: "janus.eventhandler.sampleevh",
        sessionTimeout: 3,
      }, wrtc);
    } finally {
      await gw.app.stop(15);
      await gw.stop();
    }
    const ours = http.events();
    await http.stop();
    await ws.stop();

    // Batches: arrays of at most max_nev events, in emission order.
    assert.ok(http.batches.every((b) => Array.isArray(b) && b.length >= 1 && b.length <= 20));
    const stamps = ours.map((e) => e.timestamp as number);
    assert.deepEqual(stamps, [...stamps].sort((a, b) => a - b), "in order");
    assert.ok(ours.every((e) => e.emitter === "MyJanusInstance"));

    // Every shape of ours is one the reference posted, and every reference shape is ours too.
    assert.deepEqual(unknownShapes(ours, referenceShapes), [], "shapes the reference never sent");
    const oursShapes = new Set(ours.map(shape));
    const missing = [...referenceShapes].filter((s) =>
      !oursShapes.has(s) && !NOT_PRODUCED.some((k) => k.match.test(s))
    );
    assert.deepEqual(missing, [], "reference shapes we did not produce");

    // The run's own story, in order, for the EchoTest handle.
    const echo = ours.find((e) =>
      e.type === 2 && (e.event as JsonObject).plugin === "janus.plugin.echotest"
    )?.handle_id;
    assert.ok(typeof echo === "number");
    const echoEvents = ours.filter((e) => e.handle_id === echo);
    assert.ok(echoEvents.every((e) => e.opaque_id === "sc-echo"), "opaque_id on every event");
    const story = echoEvents.map((e) => {
      const b = e.event as JsonObject;
      if (b.receiving !== undefined) return `media ${b.media} ${b.receiving}`;
      if (b["local-candidate"] !== undefined) return "lcand";
      if (b["remote-candidate"] !== undefined) return "rcand";
      return String(b.name ?? b.owner ?? b.ice ?? b.dtls ?? b.connection ?? "plugin");
    });
    // `local` (our answer) goes out while connectivity checks may already have started.
    // ICE `connected`, then DTLS `trying` and `connected`, as ice.c.
    const order = [
      "attached",
      "remote",
      "gathering",
      "connecting",
      "connected",
      "trying",
      "connected",
      "webrtcup",
      "ready",
      "hangup",
      "detached",
    ];
    inOrder(story, order);
    const local = story.indexOf("local");
    assert.ok(local > story.indexOf("remote") && local < story.indexOf("webrtcup"), "our answer");
    // Which kind is first reported flowing, and which first stops, depends on the machine.
    assert.ok(
      story.some((s) => /^media (audio|video) true$/.test(s)) &&
        story.some((s) => /^media (audio|video) false$/.test(s)),
      `media receiving true and false: ${story.join(" ")}`,
    );
    assert.ok(story.includes("lcand") && story.includes("rcand"));
    // Every PeerConnection that came up, on either engine (EchoTest rtp, AudioBridge wrtc):
    // the selected pair and ICE `connected`, DTLS `trying`, DTLS `connected`, `webrtcup`.
    const upPlugins = new Set<string>();
    for (const handle of new Set(ours.map((e) => e.handle_id))) {
      const webrtc = ours.filter((e) => e.handle_id === handle && e.type === 16).map((e) => {
        const b = e.event as JsonObject;
        return b["selected-pair"] !== undefined ? "pair" : String(b.ice ?? b.dtls ?? b.connection);
      });
      if (!webrtc.includes("webrtcup")) continue;
      inOrder(webrtc, ["pair", "connected", "trying", "connected", "webrtcup"]);
      assert.equal(webrtc.filter((w) => w === "trying").length, 1, webrtc.join(" "));
      const attached = ours.find((e) => e.type === 2 && e.handle_id === handle);
      upPlugins.add(String((attached?.event as JsonObject | undefined)?.plugin));
    }
    for (const plugin of ["janus.plugin.echotest", "janus.plugin.audiobridge"]) {
      assert.ok(upPlugins.has(plugin), `${plugin} up: ${[...upPlugins].join(" ")}`);
    }
    for (const name of ["created", "destroyed", "timeout"]) {
      assert.ok(ours.some((e) => e.type === 1 && (e.event as JsonObject).name === name), name);
    }
    const core = ours.filter((e) => e.type === 256).map((e) => (e.event as JsonObject).status);
    assert.deepEqual(core, ["started", "shutdown"]);
    assert.ok(ours.some((e) => e.type === 4 && (e.event as JsonObject).schema === "schema.test"));

    // VideoCall, TextRoom, Streaming and AudioBridge: the reference's plugin events, the same
    // data each.
    const pluginData = (list: readonly JsonObject[]) =>
      list.filter((e) => e.type === 64 && NOTIFYING.has(String((e.event as JsonObject).plugin)))
        .map((e) =>
          `${(e.event as JsonObject).plugin} ${JSON.stringify((e.event as JsonObject).data)}`
        )
        .sort();
    const told = pluginData(ours);
    assert.deepEqual(told, pluginData(reference));
    const expected = [
      '"event":"calling"',
      '"event":"accepted"',
      '"status":"starting"',
      '"event":"configured"',
      '"event":"left"',
    ];
    for (const what of expected) {
      assert.ok(told.some((t) => t.includes(what)), what);
    }

    // VideoRoom: the same, with its random ids as placeholders; the feed subscribed to and
    // the publisher told of are one participant.
    const ids = new Set<unknown>();
    const videoroomData = (list: readonly JsonObject[]) =>
      list.filter((e) => e.type === 64 && (e.event as JsonObject).plugin === VIDEOROOM)
        .map((e) =>
          JSON.stringify((e.event as JsonObject).data, (k, v) => {
            if (k === "id" || k === "feed_id") {
              ids.add(v);
              return "<id>";
            }
            if (k === "private_id" && v !== 0) return "<private_id>";
            return v;
          })
        )
        .sort();
    const referenceVideoroom = videoroomData(reference);
    ids.clear();
    const toldVideoroom = videoroomData(ours);
    assert.equal(ids.size, 1, "one publisher");
    assert.deepEqual(toldVideoroom, referenceVideoroom);
    for (const what of ["published", "subscribing", "subscribed", "updated", "unpublished"]) {
      assert.ok(toldVideoroom.some((t) => t.includes(`"event":"${what}"`)), what);
    }

    // Admin requests: plugins tell what `message_plugin` did with no session or handle, and
    // an admin WebSocket is told connected (admin_api true) and disconnected, as the reference.
    const byAdmin = ours.filter((e) => e.type === 64 && e.session_id === undefined)
      .map((e): JsonObject => {
        const b = e.event as JsonObject;
        return { ...(b.data as JsonObject), plugin: b.plugin ?? null };
      })
      .map((d) => [d.plugin, d.event, d.room ?? d.id])
      .filter(([, , id]) => typeof id === "number" && id >= 7001 && id <= 7004)
      .map((d) => d.join(" "));
    assert.deepEqual(byAdmin, [
      `${VIDEOROOM} created 7001`,
      `${VIDEOROOM} edited 7001`,
      `${VIDEOROOM} destroyed 7001`,
      "janus.plugin.textroom created 7002",
      "janus.plugin.textroom edited 7002",
      "janus.plugin.textroom destroyed 7002",
      "janus.plugin.audiobridge created 7003",
      "janus.plugin.audiobridge destroyed 7003",
      "janus.plugin.streaming created 7004",
      "janus.plugin.streaming destroyed 7004",
    ]);
    const adminWs = ours.filter((e) =>
      e.type === 128 && (e.event as JsonObject).transport === "janus.transport.websockets"
    ).map((e) => e.event as JsonObject);
    const opened = adminWs.find((e) => (e.data as JsonObject).admin_api === true);
    assert.deepEqual(opened?.data, { event: "connected", admin_api: true, ip: "127.0.0.1" });
    assert.ok(
      adminWs.some((e) => e.id === opened?.id && (e.data as JsonObject).event === "disconnected"),
      "admin socket disconnected",
    );

    // The WebSocket handler got the same events.
    const viaWs = ws.events();
    assert.deepEqual(viaWs.map(shape), ours.map(shape));
  },
);

wrtcTest(
  "event handlers: a failing receiver is retried with backoff, a hanging one blocks nothing " +
    "and its queue stays bounded; query_eventhandler",
  async () => {
    // Fails the first 3 POSTs (500), then accepts: the first batch gets through on retry 3.
    const flaky = httpReceiver((n) => n <= 3 ? new Response("no", { status: 500 }) : ok());
    // Never answers until released.
    const release = Promise.withResolvers<void>();
    const hanging = httpReceiver(async () => (await release.promise, ok()));
    const gw = await startTestGateway({
      events: {
        enabled: true,
        handlers: [
          // Sessions only: the admin queries below are transport events of their own.
          {
            kind: "http",
            name: "flaky",
            events: "sessions",
            backend: flaky.url,
            retransmissions_backoff: 20,
          },
          { kind: "http", name: "hanging", backend: hanging.url, max_queue: 50, max_nev: 10 },
        ],
      },
    });
    const admin = async (body: JsonObject) =>
      await (await fetch(gw.adminUrl, {
        method: "POST",
        body: JSON.stringify({ transaction: "t", admin_secret: ADMIN_SECRET, ...body }),
      })).json() as JsonObject;
    const stats = async (handler: string) =>
      ((await admin({ janus: "query_eventhandler", handler, request: { request: "stats" } }))
        .response as JsonObject).stats as JsonObject;
    try {
      // 200 sessions created and destroyed while one backend hangs: every request is answered.
      for (let i = 0; i < 200; i++) {
        const created = await (await fetch(gw.httpUrl, {
          method: "POST",
          body: JSON.stringify({ janus: "create", transaction: "c" }),
        })).json() as JsonObject;
        const id = (created.data as JsonObject).id;
        const gone = await (await fetch(`${gw.httpUrl}/${id}`, {
          method: "POST",
          body: JSON.stringify({ janus: "destroy", transaction: "d" }),
        })).json() as JsonObject;
        assert.equal(gone.janus, "success");
      }
      // Each create and destroy is 1 transport + 1 session event: 800 events.
      const held = await stats("hanging");
      assert.equal(held.queued, 50, JSON.stringify(held));
      assert.equal(held.sent, 0);
      // One batch of 10 is out (hanging); the rest past 50 were dropped, oldest first.
      assert.ok((held.dropped as number) >= 800 - 50 - 10, JSON.stringify(held));

      await waitFor(async () => {
        const s = await stats("flaky");
        return s.queued === 0 && s.sent === flaky.events().length && s.sent > 0;
      }).catch(async (e) => {
        throw new Error(`${e}: ${JSON.stringify(await stats("flaky"))} ${flaky.events().length}`);
      });
      const retried = await stats("flaky");
      assert.equal(retried.failures, 3, JSON.stringify(retried));
      assert.equal(retried.retransmissions, 3);
      assert.equal(retried.lost, 0);
      assert.equal(retried.sent, 400, "every create and destroy");
      assert.ok(flaky.events().every((e) => e.type === 1));

      // query_eventhandler as the reference's sampleevh.
      const q = async (handler: string, request?: JsonObject) =>
        await admin({ janus: "query_eventhandler", handler, ...(request ? { request } : {}) });
      assert.deepEqual((await q("flaky", { request: "tweak", events: "none" })).response, {
        result: 200,
      });
      assert.deepEqual((await q("flaky", { request: "nope" })).response, {
        error_code: 411,
        error: "Unknown request 'nope'",
      });
      assert.deepEqual((await q("flaky")).response, {
        error_code: 412,
        error: "Missing mandatory element (request)",
      });
      assert.deepEqual((await q("flaky", { request: "tweak", backend: "ftp://x" })).response, {
        error_code: 413,
        error: "Invalid HTTP URI 'ftp://x'",
      });
      assert.deepEqual((await q("janus.eventhandler.nope")).error, {
        code: 460,
        reason: "Invalid event handler",
      });
      // With `none`, nothing more is queued for it.
      const before = (await stats("flaky")).sent;
      await fetch(gw.httpUrl, { method: "POST", body: '{"janus":"create","transaction":"p"}' })
        .then((r) => r.body?.cancel());
      await new Promise((r) => setTimeout(r, 200));
      const after = await stats("flaky");
      assert.equal(after.sent, before);
      assert.equal(after.queued, 0);
    } finally {
      release.resolve();
      await gw.stop();
      await flaky.stop();
      await hanging.stop();
    }
  },
);

/** `steps` appear in `story` in this order (others may come between). */
function inOrder(story: readonly string[], steps: readonly string[]): void {
  let at = -1;
  for (const [n, step] of steps.entries()) {
    const i = story.indexOf(step, at + 1);
    assert.ok(i > at, `${step} after ${steps[n - 1]}: ${story.join(" ")}`);
    at = i;
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}
