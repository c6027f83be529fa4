/**
 * AudioBridge Opus in-band FEC, both ways, on plain-RTP participants over loopback (the RTP
 * engine mixes by default). Two speakers each lose every 4th packet on the way in: one sends
 * FEC (its tone hops, as speech changes, so that Opus's voice detector keeps adding it) and
 * joined with `rtp.fec` and `expected_loss` 20; the other neither. A listener hears the first
 * without a hole (each lost frame comes back from the next packet's FEC) and the second with
 * holes (the mixer runs dry and primes again, as the reference without FEC). The FEC speaker's
 * own mix carries FEC (a packet after a loss decodes to something else than concealment); the
 * listener's, which asked for none, does not. `handle_info` shows `fec` and `expected-loss` as
 * the reference. Runs in the test network namespace.
 */
import assert from "node:assert/strict";
import { OpusDecoder } from "../../core/media/opus_codec.ts";
import { wsClient } from "../_helpers/janus_client.ts";
import { wrtcTest } from "../media/_client.ts";
import {
  AbHandle,
  assertMixingReleased,
  handleInfo,
  startAudioBridgeGateway,
} from "./_audiobridge.ts";
import { joinRtp, RtpToneClient } from "./_rtp_tone_client.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Of the last 20 packets in `payloads`, how many carry FEC of the one before: decoded after a
 * loss, they give something else than concealment (exactly concealment without FEC in them).
 */
function withFec(payloads: Uint8Array[]): number {
  assert.ok(payloads.length >= 40, `${payloads.length} packets received`);
  let count = 0;
  for (let next = payloads.length - 20; next < payloads.length; next++) {
    const recovering = new OpusDecoder(48000, 1);
    const concealing = new OpusDecoder(48000, 1);
    for (const p of payloads.slice(0, next - 1)) {
      recovering.decode(p);
      concealing.decode(p);
    }
    const recovered = recovering.recover(payloads[next]!);
    const concealed = concealing.conceal();
    if (recovered.some((v, i) => Math.abs(v - concealed[i]!) > 1e-3)) count++;
    recovering.close();
    concealing.close();
  }
  return count;
}

/** The 20 ms blocks of the last second where none of `fs` is heard (a tenth of the loudest). */
function holes(client: RtpToneClient, fs: number[]): number {
  const each = fs.map((f) => client.blocks(f));
  const blocks = each[0]!.map((_, i) => each.reduce((sum, b) => sum + b[i]!, 0));
  const loudest = Math.max(...blocks);
  assert.ok(loudest > 1.6e5, `${fs} Hz heard at all (${loudest})`);
  return blocks.filter((p) => p < loudest / 10).length;
}

wrtcTest(
  "audiobridge FEC: a lossy speaker's frames come back from its in-band FEC; the mix carries FEC only for whom asked",
  async () => {
    await using gw = await startAudioBridgeGateway();
    const c = await wsClient(gw.wsUrl);
    const listener = new RtpToneClient(440);
    const fecSpeaker = new RtpToneClient(1000);
    const plainSpeaker = new RtpToneClient(2000);
    const clients = [listener, fecSpeaker, plainSpeaker];
    try {
      const admin = await AbHandle.open(c);
      await admin.sync({ request: "create", room: 90, allow_rtp_participants: true });
      // Its tone changes, so that the FEC speaker's mix is speech to Opus (see `hop`).
      listener.hop = 660;
      const listenerHandle = await AbHandle.open(c);
      await joinRtp(listenerHandle, listener, { room: 90, id: 1 });
      fecSpeaker.sendFec(20);
      fecSpeaker.hop = 1500;
      fecSpeaker.dropEvery = 4;
      const fecHandle = await AbHandle.open(c);
      await joinRtp(fecHandle, fecSpeaker, { room: 90, id: 2, expected_loss: 20 }, { fec: true });
      plainSpeaker.dropEvery = 4;
      const plainHandle = await AbHandle.open(c);
      await joinRtp(plainHandle, plainSpeaker, { room: 90, id: 3 });

      const fecInfo = await handleInfo(gw, fecHandle);
      assert.equal(fecInfo.fec, true);
      assert.equal(fecInfo["expected-loss"], 20);
      const plainInfo = await handleInfo(gw, plainHandle);
      assert.equal(plainInfo.fec, false);
      assert.equal(plainInfo["expected-loss"], undefined);

      await sleep(3000);
      const recovered = holes(listener, [1000, 1500]);
      const lossy = holes(listener, [2000]);
      assert.ok(recovered <= 2, `FEC speaker: ${recovered} holes of 50 blocks`);
      assert.ok(lossy >= 5, `speaker without FEC: ${lossy} holes of 50 blocks`);

      const fecMix = withFec(fecSpeaker.payloads);
      assert.ok(fecMix >= 10, `the FEC speaker's mix: ${fecMix} of 20 packets with FEC`);
      assert.equal(withFec(listener.payloads), 0, "the listener's mix has none");
      for (const h of [listenerHandle, fecHandle, plainHandle]) await h.ask({ request: "leave" });

      // The room's default_expectedloss applies to a join without expected_loss; over 20 it
      // is 0 (the reference warns and uses 0).
      for (const [room, loss, expected] of [[91, 10, 10], [92, 50, 0]]) {
        await admin.sync({
          request: "create",
          room,
          allow_rtp_participants: true,
          default_expectedloss: loss,
        });
        const client = new RtpToneClient(300);
        clients.push(client);
        const h = await AbHandle.open(c);
        await joinRtp(h, client, { room, id: 9 }, { fec: true });
        assert.equal((await handleInfo(gw, h))["expected-loss"], expected, `room ${room}`);
        await h.ask({ request: "leave" });
      }
    } finally {
      for (const x of clients) x.close();
      await c.close();
    }
    await assertMixingReleased(gw, 4);
  },
);
