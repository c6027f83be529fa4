/**
 * Event handlers hear an AudioBridge participant leave when its handle goes without a `leave`:
 * a detach, its session destroyed, its session timed out. Janus 1.1.2 (janus_audiobridge.c's
 * hangup_media, from destroy_session) tells `left` with the room, id and display (when set),
 * from no handle, before the core's `detached`; after the session's `destroyed` or `timeout`.
 * The expected sequences are what a private reference with the sample event handler posted for
 * the same steps (ids are the test's own).
 *
 * @module
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { startTestGateway } from "../_helpers/gateway.ts";
import { eventReceiver } from "../_helpers/event_receiver.ts";

const AUDIOBRIDGE = "janus.plugin.audiobridge";

/** The reference's sequence for one session: core events by name, plugin events by data. */
const joined = (id: number, display?: string) => ({
  event: "joined",
  room: 1234,
  id,
  ...(display ? { display } : {}),
  setup: false,
  muted: false,
});
const left = (id: number, display?: string) => ({
  unscoped: { event: "left", room: 1234, id, ...(display ? { display } : {}) },
});
const REFERENCE = {
  detach: ["created", "attached", joined(11, "d1"), left(11, "d1"), "detached"],
  destroy: ["created", "attached", joined(12), "destroyed", left(12), "detached"],
  timeout: ["created", "attached", joined(13, "t"), "timeout", left(13, "t"), "detached"],
};

/** One session's story: its core events' names, its plugin events' data, and the unscoped
 * AudioBridge events about participant `id`. */
function story(events: readonly JsonObject[], session: number, id: number): unknown[] {
  const out: unknown[] = [];
  for (const e of events) {
    const body = e.event as JsonObject;
    if (e.type === 64 && body.plugin === AUDIOBRIDGE) {
      const data = body.data as JsonObject;
      if (e.session_id === session) out.push(data);
      else if (e.session_id === undefined && data.id === id) out.push({ unscoped: data });
    } else if ((e.type === 1 || e.type === 2) && e.session_id === session) {
      out.push(body.name);
    }
  }
  return out;
}

Deno.test(
  "audiobridge: a participant whose handle is detached, whose session is destroyed or times " +
    "out is told to event handlers as left (no handle), as the reference",
  async () => {
    const sink = eventReceiver("/events");
    const gw = await startTestGateway({
      general: { session_timeout: 3 },
      events: { enabled: true, handlers: [{ kind: "http", backend: sink.url }] },
    });
    let t = 0;
    const post = async (path: string, body: JsonObject): Promise<JsonObject> => {
      const res = await fetch(`${gw.httpUrl}${path}`, {
        method: "POST",
        body: JSON.stringify({ transaction: `t${++t}`, ...body }),
      });
      return await res.json();
    };
    const open = async () => {
      const s = ((await post("", { janus: "create" })).data as JsonObject).id as number;
      const attached = await post(`/${s}`, { janus: "attach", plugin: AUDIOBRIDGE });
      return { s, h: (attached.data as JsonObject).id as number };
    };
    const join = async (s: number, h: number, extra: JsonObject) => {
      const ack = await post(`/${s}/${h}`, {
        janus: "message",
        body: { request: "join", room: 1234, ...extra },
      });
      assert.equal(ack.janus, "ack", JSON.stringify(ack));
      // One event: the long poll answers it alone, not in an array.
      const event = await (await fetch(`${gw.httpUrl}/${s}?maxev=1`)).json() as JsonObject;
      const data = (event.plugindata as JsonObject | undefined)?.data as JsonObject;
      assert.equal(data?.audiobridge, "joined", JSON.stringify(event));
    };
    const settled = async (check: () => boolean, what: string) => {
      for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(check(), what);
    };
    try {
      const a = await open();
      await join(a.s, a.h, { id: 11, display: "d1" });
      assert.equal((await post(`/${a.s}/${a.h}`, { janus: "detach" })).janus, "success");
      assert.equal((await post(`/${a.s}`, { janus: "destroy" })).janus, "success");

      const b = await open();
      await join(b.s, b.h, { id: 12 });
      assert.equal((await post(`/${b.s}`, { janus: "destroy" })).janus, "success");

      const c = await open();
      await join(c.s, c.h, { id: 13, display: "t" });
      // No keepalive: the session times out (3 s, checked every second).
      await settled(() => gw.counts().sessions === 0, "the last session timed out");
      await settled(
        () => story(sink.events, c.s, 13).includes("detached"),
        "the timed-out handle's events were posted",
      );

      // The first session's own `destroyed` comes after its handle is gone (not compared).
      assert.deepEqual(story(sink.events, a.s, 11).slice(0, 5), REFERENCE.detach);
      assert.deepEqual(story(sink.events, b.s, 12), REFERENCE.destroy);
      assert.deepEqual(story(sink.events, c.s, 13), REFERENCE.timeout);
      const counts = gw.app.gateway.plugins.get(AUDIOBRIDGE) as unknown as {
        counts(): JsonObject;
      };
      assert.equal(counts.counts().participants, 0);
    } finally {
      await gw.stop();
      await sink.stop();
    }
  },
);
