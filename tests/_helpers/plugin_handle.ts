/**
 * A session with one plugin handle over a `JanusClient` (HTTP or WebSocket): open, destroy,
 * plugin messages and synchronous requests. Plugin test helpers extend it with their event
 * waits.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { type JanusClient, tx } from "./janus_client.ts";

/** A session with one handle of `plugin`. */
export class PluginHandle {
  readonly c: JanusClient;
  readonly plugin: string;
  readonly session: number;
  readonly handle: number;

  protected constructor(c: JanusClient, plugin: string, ids: { session: number; handle: number }) {
    this.c = c;
    this.plugin = plugin;
    this.session = ids.session;
    this.handle = ids.handle;
  }

  /** Creates a session and attaches `plugin` to it; the new ids. */
  protected static async attach(
    c: JanusClient,
    plugin: string,
  ): Promise<{ session: number; handle: number }> {
    const created = await c.send({ janus: "create", transaction: tx("c") });
    const session = (created.data as JsonObject).id as number;
    const attached = await c.send({
      janus: "attach",
      session_id: session,
      plugin,
      transaction: tx("a"),
    });
    assert.equal(attached.janus, "success", JSON.stringify(attached));
    return { session, handle: (attached.data as JsonObject).id as number };
  }

  /** Destroys the session. */
  async close(): Promise<void> {
    const reply = await this.c.send({
      janus: "destroy",
      session_id: this.session,
      transaction: tx("d"),
    });
    assert.equal(reply.janus, "success");
  }

  message(body: JsonObject, jsep?: JsonObject): Promise<JsonObject> {
    return this.c.send({
      janus: "message",
      session_id: this.session,
      handle_id: this.handle,
      transaction: tx("m"),
      body,
      ...(jsep ? { jsep } : {}),
    });
  }

  /** A request answered at once: resolves the plugin's data. */
  async sync(body: JsonObject): Promise<JsonObject> {
    const reply = await this.message(body);
    assert.equal(reply.janus, "success", JSON.stringify(reply));
    const pd = reply.plugindata as JsonObject;
    assert.equal(pd.plugin, this.plugin);
    return pd.data as JsonObject;
  }
}

/** Asserts deep equality and the key order of `expected` (the reference's replies' order). */
export function same(actual: JsonObject | undefined, expected: JsonObject): void {
  assert.deepEqual(actual, expected);
  assert.deepEqual(Object.keys(actual ?? {}), Object.keys(expected), JSON.stringify(actual));
}

/** The plugin's part of the admin API's `handle_info` of a handle (`adminUrl`: the gateway's). */
export async function handleInfo(
  gw: { adminUrl: string },
  h: { session: number; handle: number },
): Promise<JsonObject> {
  const res = await fetch(`${gw.adminUrl}/${h.session}/${h.handle}`, {
    method: "POST",
    body: JSON.stringify({ janus: "handle_info", admin_secret: "janusoverlord", transaction: "i" }),
  });
  const info = ((await res.json()) as JsonObject).info as JsonObject;
  return info.plugin_specific as JsonObject;
}
