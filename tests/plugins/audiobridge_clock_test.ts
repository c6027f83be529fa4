/**
 * AudioBridge's mixing clock over a minute: an always-on RTP forwarder of an empty room's mix
 * sends one Opus packet per 20 ms, each 960 ticks (48 kHz) after the last with the next
 * sequence number, and the packets keep pace with the wall clock (no drift: the clock schedules
 * each period from the start, not from the last timer). Runs in the test network namespace.
 *
 * Run: `deno task test tests/plugins/audiobridge_clock_test.ts`
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { tx, wsClient } from "../_helpers/janus_client.ts";
import { freeEvenUdpPort } from "../_helpers/udp_port.ts";
import { AbHandle, startAudioBridgeGateway } from "./_audiobridge.ts";

const SECONDS = 60;
const PERIOD_MS = 20;
const KEEPALIVE_S = 20;

Deno.test({
  name: "audiobridge clock: a minute of the mix, 50 packets a second, no drift from the wall clock",
  sanitizeResources: false,
  async fn() {
    await using gw = await startAudioBridgeGateway();
    const c = await wsClient(gw.wsUrl);
    const port = await freeEvenUdpPort();
    const socket = dgram.createSocket("udp4");
    const arrivals: { at: number; seq: number; ts: number }[] = [];
    socket.on("message", (packet: Uint8Array) => {
      const v = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
      arrivals.push({ at: performance.now(), seq: v.getUint16(2), ts: v.getUint32(4) });
    });
    await new Promise<void>((resolve) => socket.bind(port, "127.0.0.1", resolve));
    try {
      const admin = await AbHandle.open(c);
      await admin.sync({ request: "create", room: 90, sampling_rate: 16000 });
      await admin.sync({
        request: "rtp_forward",
        room: 90,
        host: "127.0.0.1",
        port,
        always_on: true,
      });
      // The first second settles; the next minute is measured.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const from = arrivals.length;
      // Keepalives, as a client's: the minute is as long as the session timeout.
      for (let left = SECONDS; left > 0; left -= KEEPALIVE_S) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(left, KEEPALIVE_S) * 1000));
        const ack = await c.send({
          janus: "keepalive",
          session_id: admin.session,
          transaction: tx(),
        });
        assert.equal(ack.janus, "ack", JSON.stringify(ack));
      }
      const window = arrivals.slice(from);
      const expected = (SECONDS * 1000) / PERIOD_MS;
      assert.ok(
        Math.abs(window.length - expected) <= 10,
        `${window.length} packets in ${SECONDS} s, ${expected} expected`,
      );
      for (let i = 1; i < window.length; i++) {
        const [a, b] = [window[i - 1]!, window[i]!];
        assert.equal(b.seq, (a.seq + 1) & 0xffff, `sequence at packet ${i}`);
        assert.equal((b.ts - a.ts) >>> 0, 960, `timestamp step at packet ${i}`);
      }
      // Where each packet arrived against where a 20 ms clock from the first puts it: the
      // spread stays bounded (late timers are caught up) and the last is not behind or ahead.
      const first = window[0]!;
      const offsets = window.map((p, i) => p.at - first.at - i * PERIOD_MS);
      const last = offsets.slice(-50).reduce((a, b) => a + b, 0) / 50;
      assert.ok(Math.abs(last) < 100, `drift after ${SECONDS} s: ${last.toFixed(1)} ms`);
      await admin.sync({ request: "destroy", room: 90 });
      await admin.close();
    } finally {
      socket.close();
      await c.close();
    }
  },
});
