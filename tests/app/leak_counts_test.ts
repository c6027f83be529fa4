/**
 * The test gateway's leak counts (`tests/_helpers/gateway.ts` over the core's `counts()`) see
 * plugin-owned media: a Streaming mountpoint's RTP source and an AudioBridge room's mixer count
 * while they live and not once destroyed; the stock mountpoints, there from start, do not count
 * while the gateway runs, and must be gone too once it stops. Needs media workers: run with
 * `deno task test tests/app/leak_counts_test.ts`.
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { startMediaTestGateway } from "../_helpers/media_gateway.ts";
import { until } from "../plugins/_peers.ts";

Deno.test("leak counts: Streaming sources and AudioBridge mixers made while running count until destroyed; the stock ones are closed on stop", async () => {
  const gw = await startMediaTestGateway({ media: { workers: 1 } });
  let stopped = false;
  try {
    const admin = async (plugin: string, request: JsonObject) => {
      const reply = await (await fetch(gw.adminUrl, {
        method: "POST",
        body: JSON.stringify({
          janus: "message_plugin",
          plugin,
          request,
          admin_secret: "janusoverlord",
          transaction: "t",
        }),
      })).json() as JsonObject;
      const response = reply.response as JsonObject;
      assert.equal(response.error_code, undefined, JSON.stringify(reply));
      return response;
    };
    const stock = gw.media.sourceCount?.() ?? 0;
    assert.ok(stock > 0, "the stock mountpoints have their sources");
    assert.equal(gw.counts().sources, 0, "stock sources are not counted");
    assert.equal(gw.counts().mixers, 0);

    await admin("janus.plugin.streaming", {
      request: "create",
      type: "rtp",
      id: 9101,
      media: [{ type: "audio", mid: "a", port: 0, pt: 111, codec: "opus" }],
    });
    assert.equal(gw.counts().sources, 1);
    await admin("janus.plugin.streaming", { request: "destroy", id: 9101 });
    await until("the source closed", () => Promise.resolve(gw.counts().sources === 0));

    // An always-on forwarder needs the room's mixer, even in an empty room.
    const ab = "janus.plugin.audiobridge";
    await admin(ab, { request: "create", room: 9102 });
    await admin(ab, {
      request: "rtp_forward",
      room: 9102,
      host: "127.0.0.1",
      port: 9,
      always_on: true,
    });
    await until("the mixer made", () => Promise.resolve(gw.counts().mixers === 1));
    await admin(ab, { request: "destroy", room: 9102 });
    await until("the mixer closed", () => Promise.resolve(gw.counts().mixers === 0));
    assert.equal(gw.media.sourceCount?.(), stock, "the stock sources live on");

    await gw.stop();
    stopped = true;
    assert.equal(gw.media.sourceCount?.(), 0, "stopping closed the stock sources too");
  } finally {
    if (!stopped) await gw.stop();
  }
});
