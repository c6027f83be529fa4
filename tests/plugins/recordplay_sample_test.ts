/**
 * The stock Record&Play sample of Debian's `janus` package (recording 1234, "Lorenzo says
 * hello!", in the old `MEETECHO` format), copied into a fresh folder: `list` shows it as the
 * reference does and `play` + `start` send it to a wrtc peer, which decodes its video and
 * receives its audio.
 *
 * Run: `deno task test tests/plugins/recordplay_sample_test.ts`
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ClientPeer, waitUntil, wrtcTest } from "../media/_client.ts";
import { answerOf, directions } from "./_videoroom_media.ts";
import { dataOf, jsepOf, RecordPlayClient, recordPlayGateway } from "./_recordplay.ts";

/** Where Debian's `janus` package puts its sample recording. */
const SAMPLE_DIR = "/usr/share/janus/recordings";
const SAMPLE_FILES = ["1234.nfo", "rec-sample-audio.mjr", "rec-sample-video.mjr"];

wrtcTest("recordplay: the stock MEETECHO sample 1234 plays", async (wrtc) => {
  const dir = await Deno.makeTempDir({ prefix: "rp-sample-" });
  for (const name of SAMPLE_FILES) {
    try {
      Deno.copyFileSync(join(SAMPLE_DIR, name), join(dir, name));
    } catch (e) {
      throw new Error(`${SAMPLE_DIR}/${name}: install the Debian package janus (${e})`);
    }
  }
  const peers: ClientPeer[] = [];
  await using gw = await recordPlayGateway(dir, true);
  const c = await RecordPlayClient.open("http", gw);
  try {
    // As the live reference lists it.
    assert.deepEqual((await c.sync({ request: "list" })).list, [{
      id: 1234,
      name: "Lorenzo says hello!",
      date: "2014-10-22 14:44:36",
      audio: true,
      audio_codec: "opus",
      video: true,
      video_codec: "vp8",
      data: false,
    }]);
    const preparing = await c.request({ request: "play", id: 1234 });
    assert.deepEqual(dataOf(preparing), {
      recordplay: "event",
      result: { status: "preparing", id: 1234 },
    });
    const offer = jsepOf(preparing);
    assert.deepEqual(directions(offer.sdp), ["sendonly", "sendonly"]);
    const viewer = new ClientPeer(wrtc, {});
    peers.push(viewer);
    const playing = await c.request({ request: "start" }, await answerOf(viewer, offer));
    assert.deepEqual(dataOf(playing), { recordplay: "event", result: { status: "playing" } });
    await waitUntil("decoded sample frames", () => viewer.videoFrames >= 20, 10_000);
    const audioMid = /m=audio[\s\S]*?a=mid:(\S+)/.exec(offer.sdp)?.[1] ?? "0";
    let audioPackets = 0;
    for (let i = 0; i < 200 && audioPackets <= 50; i++) {
      audioPackets = await viewer.packetsOf(audioMid);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(audioPackets > 50, `${audioPackets} sample audio packets`);
  } finally {
    for (const p of peers) p.close();
    await c.close();
    await Deno.remove(dir, { recursive: true });
  }
  await waitUntil("peers released", () => gw.counts().peers === 0, 5000);
  assert.equal(gw.counts().sessions, 0);
});
