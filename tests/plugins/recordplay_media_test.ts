/**
 * Record&Play with real wrtc peers on the rtp engine: a peer records audio, video and the text
 * it sends on its data channel (`record` + offer, answered `recvonly`), `stop` writes the
 * `.nfo` that `list` then shows, Janus's `janus-pp-rec` converts the three MJR files (WebM/VP8,
 * Opus and the data's `.srt`) and ffprobe reads about the recorded time; `play` offers the
 * recording (`sendonly`, opus 111 and VP8 100, a data channel), `start` with a second peer's
 * answer plays it: that peer decodes video frames, receives audio and the texts about as far
 * apart as they were sent; a second `play` meanwhile is answered `preparing` with an offer that
 * the peer answers (`start`: `playing`) while the media goes on, as the reference; at the end
 * of the files come `done` and the core hangup, about the recording's length later; then the
 * same handle plays the recording again to a third peer. A `play` of another recording while
 * one plays replaces it: its media on new m-lines (the old ones offered inactive), its text on
 * the data channel; a `play` again before any answer offers again (the reference's measure).
 *
 * Run: `deno task test tests/plugins/recordplay_media_test.ts`
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { JsonObject } from "../../core/protocol.ts";
import { ClientPeer, waitUntil, wrtcTest } from "../media/_client.ts";
import { MjrWriter, openMjrFile } from "../../core/media/rtp/mjr_writer.ts";
import { ffmpegRtp, ffprobe, janusPpRec, requireTool } from "../media/_mjr_tools.ts";
import { answerOf, directions, sendonlyOffer } from "./_videoroom_media.ts";
import { dataOf, jsepOf, RecordPlayClient, recordPlayGateway } from "./_recordplay.ts";

/** How long the peer records. */
const RECORD_MS = 4000;
/** How far apart the two texts are sent. */
const TEXT_GAP_MS = 1500;

for (const kind of ["http", "ws"] as const) {
  wrtcTest(
    `recordplay over ${kind}: record, convert with janus-pp-rec, play back`,
    async (wrtc) => {
      await requireTool("janus-pp-rec", "janus-tools");
      await requireTool("ffprobe", "ffmpeg");
      const dir = await Deno.makeTempDir({ prefix: "rp-media-" });
      const peers: ClientPeer[] = [];
      const timers: ReturnType<typeof setInterval>[] = [];
      await using gw = await recordPlayGateway(dir, true);
      const c = await RecordPlayClient.open(kind, gw);
      try {
        // Record.
        const { peer, offer } = await sendonlyOffer(wrtc, {
          audio: true,
          video: true,
          data: "JanusDataChannel",
        });
        peers.push(peer);
        const recorded = await c.request(
          { request: "record", name: "A test", id: 4711, filename: "rp-test" },
          offer,
        );
        assert.deepEqual(dataOf(recorded), {
          recordplay: "event",
          result: { status: "recording", id: 4711 },
        });
        const answer = jsepOf(recorded);
        assert.equal(answer.type, "answer");
        assert.deepEqual(directions(answer.sdp), ["recvonly", "recvonly"]);
        await peer.answer(answer.sdp);
        await c.take("webrtcup", (m) => m.janus === "webrtcup");
        const started = performance.now();
        const channel = peer.channel!;
        await waitUntil("the recorder's data channel", () => channel.readyState === "open");
        assert.deepEqual(
          (await c.sync({ request: "list" })).list,
          [],
          "not listed while recording",
        );
        // Two texts some time apart, sent while recording.
        const texts = ["first text", "second text ✓"];
        const sleepUntil = (ms: number) =>
          new Promise((resolve) => setTimeout(resolve, started + ms - performance.now()));
        await sleepUntil(1000);
        channel.send(texts[0]!);
        await sleepUntil(1000 + TEXT_GAP_MS);
        channel.send(texts[1]!);
        await sleepUntil(RECORD_MS);
        const stopped = await c.request({ request: "stop" });
        const recordedMs = performance.now() - started;
        assert.deepEqual(dataOf(stopped), {
          recordplay: "event",
          result: { status: "stopped", id: 4711 },
        });
        await c.take("done", (m) => m.janus === "event" && dataOf(m).result === "done");
        await c.take("hangup", (m) => m.janus === "hangup");
        peer.close();

        // The .nfo and list.
        await waitUntil("the .nfo", () => {
          try {
            return Deno.statSync(join(dir, "4711.nfo")).isFile;
          } catch {
            return false;
          }
        });
        const nfo = Deno.readTextFileSync(join(dir, "4711.nfo"));
        assert.match(
          nfo,
          /^\[4711\]\r\nname = A test\r\ndate = \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\r\naudio = rp-test-audio\.mjr\r\nvideo = rp-test-video\.mjr\r\ndata = rp-test-data\.mjr\r\n$/,
        );
        const list = (await c.sync({ request: "list" })).list as JsonObject[];
        assert.equal(list.length, 1);
        const { date: _, ...entry } = list[0]!;
        assert.deepEqual(entry, {
          id: 4711,
          name: "A test",
          audio: true,
          audio_codec: "opus",
          video: true,
          video_codec: "vp8",
          data: true,
        });
        const again = await c.request({ request: "record", name: "x", id: 4711 }, offer);
        assert.deepEqual(dataOf(again), {
          recordplay: "event",
          error_code: 420,
          error: "Recording 4711 already exists",
        });

        // Janus's own converter reads what we wrote.
        const webm = join(dir, "out.webm");
        const opus = join(dir, "out.opus");
        const v = await janusPpRec(join(dir, "rp-test-video.mjr"), webm);
        assert.ok(v.success, v.log);
        const a = await janusPpRec(join(dir, "rp-test-audio.mjr"), opus);
        assert.ok(a.success, a.log);
        const srt = join(dir, "out.srt");
        const d = await janusPpRec(join(dir, "rp-test-data.mjr"), srt);
        assert.ok(d.success, d.log);
        const srtLines = Deno.readTextFileSync(srt).split(/\r?\n/);
        for (const text of texts) assert.ok(srtLines.includes(text), srtLines.join("\n"));
        const vp = await ffprobe(webm);
        const ap = await ffprobe(opus);
        assert.equal(vp.streams[0]?.codec_name, "vp8");
        assert.equal(ap.streams[0]?.codec_name, "opus");
        const seconds = recordedMs / 1000;
        for (const [name, probe] of [["video", vp], ["audio", ap]] as const) {
          assert.ok(
            Math.abs(probe.duration - seconds) < 1.2,
            `${name}: ${probe.duration} s converted, about ${seconds.toFixed(2)} s recorded`,
          );
        }

        // Play it back to a second peer.
        const preparing = await c.request({ request: "play", id: 4711 });
        assert.deepEqual(dataOf(preparing), {
          recordplay: "event",
          result: { status: "preparing", id: 4711 },
        });
        const playOffer = jsepOf(preparing);
        assert.equal(playOffer.type, "offer");
        assert.deepEqual(directions(playOffer.sdp), ["sendonly", "sendonly"]);
        assert.match(playOffer.sdp, /a=rtpmap:111 opus\/48000/);
        assert.match(playOffer.sdp, /a=rtpmap:100 VP8\/90000/);
        assert.match(playOffer.sdp, /\r\nm=application /, "a data channel for the texts");
        const viewer = new ClientPeer(wrtc, { data: "JanusDataChannel" });
        peers.push(viewer);
        // When each played text comes (polled from the start: the media checks come first).
        const arrivals: number[] = [];
        const watch = setInterval(() => {
          while (arrivals.length < viewer.messages.length) arrivals.push(performance.now());
        }, 10);
        timers.push(watch);
        const viewerAnswer = await answerOf(viewer, playOffer);
        const playing = await c.request({ request: "start" }, viewerAnswer);
        assert.deepEqual(dataOf(playing), { recordplay: "event", result: { status: "playing" } });
        await c.take("webrtcup (player)", (m) => m.janus === "webrtcup");
        const playStart = performance.now();
        await waitUntil("decoded playback frames", () => viewer.videoFrames >= 30, 8000);
        const audioMid = /m=audio[\s\S]*?a=mid:(\S+)/.exec(playOffer.sdp)?.[1] ?? "0";
        let audioPackets = 0;
        for (let i = 0; i < 100 && audioPackets <= 50; i++) {
          audioPackets = await viewer.packetsOf(audioMid);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.ok(audioPackets > 50, `${audioPackets} audio packets played`);

        // A second `play` while playing: `preparing` and an offer, answered with `start`.
        const playAgain = await c.request({ request: "play", id: 4711 });
        assert.deepEqual(dataOf(playAgain), {
          recordplay: "event",
          result: { status: "preparing", id: 4711 },
        });
        const againOffer = jsepOf(playAgain);
        assert.equal(againOffer.type, "offer");
        assert.deepEqual(directions(againOffer.sdp), ["sendonly", "sendonly"]);
        const reanswer = await answerOf(viewer, againOffer);
        const replaying = await c.request({ request: "start" }, reanswer);
        assert.deepEqual(dataOf(replaying), { recordplay: "event", result: { status: "playing" } });
        const framesBefore = viewer.videoFrames;
        await waitUntil(
          "frames after the second play",
          () => viewer.videoFrames > framesBefore + 10,
        );

        // The texts, in order and about as far apart as they were sent.
        await waitUntil(
          "the played texts",
          () => arrivals.length >= texts.length,
          RECORD_MS + 8000,
        );
        assert.deepEqual(viewer.messages, texts);
        const gap = arrivals[1]! - arrivals[0]!;
        assert.ok(Math.abs(gap - TEXT_GAP_MS) < 500, `texts ${gap.toFixed(0)} ms apart`);
        await c.take("done (end of playout)", (m) => {
          return m.janus === "event" && dataOf(m).result === "done";
        }, RECORD_MS + 8000);
        const playedMs = performance.now() - playStart;
        await c.take("hangup (player)", (m) => m.janus === "hangup");
        assert.ok(
          Math.abs(playedMs - recordedMs) < 1500,
          `played ${playedMs.toFixed(0)} ms of about ${recordedMs.toFixed(0)} ms`,
        );
        // About 30 fps for the whole recording, decoded.
        assert.ok(
          viewer.videoFrames > (recordedMs / 1000) * 15,
          `${viewer.videoFrames} frames decoded`,
        );

        // The handle that played plays again, to a new peer.
        const replay = await c.request({ request: "play", id: 4711 });
        assert.deepEqual(dataOf(replay), {
          recordplay: "event",
          result: { status: "preparing", id: 4711 },
        });
        const second = new ClientPeer(wrtc, { data: "JanusDataChannel" });
        peers.push(second);
        const secondAnswer = await answerOf(second, jsepOf(replay));
        assert.deepEqual(dataOf(await c.request({ request: "start" }, secondAnswer)), {
          recordplay: "event",
          result: { status: "playing" },
        });
        await c.take("webrtcup (second player)", (m) => m.janus === "webrtcup");
        await waitUntil("decoded frames, played again", () => second.videoFrames >= 30, 8000);
        await waitUntil("the texts, played again", () => second.messages.length >= 2, 8000);
        assert.deepEqual(second.messages, texts);
        await c.take("done (second playout)", (m) => {
          return m.janus === "event" && dataOf(m).result === "done";
        }, RECORD_MS + 8000);
        await c.take("hangup (second player)", (m) => m.janus === "hangup");
      } finally {
        for (const t of timers) clearInterval(t);
        for (const p of peers) p.close();
        await c.close();
        await Deno.remove(dir, { recursive: true });
      }
      await waitUntil("peers released", () => gw.counts().peers === 0, 5000);
      assert.equal(gw.counts().sessions, 0);
    },
  );
}

/**
 * A recording made of RTP captured from ffmpeg (`kind`, `seconds` long) and one text at
 * `textAtMs` after the data file's creation, with its `.nfo`.
 */
async function writeRecording(
  dir: string,
  id: number,
  kind: "audio" | "video",
  seconds: number,
  text: string,
  textAtMs: number,
): Promise<void> {
  const codec = kind === "audio" ? "opus" : "vp8";
  const media = new MjrWriter(openMjrFile(join(dir, `r${id}-${kind}.mjr`)), { kind, codec });
  for (const { packet, atMs } of await ffmpegRtp(kind, seconds, kind === "audio" ? 111 : 100)) {
    media.writeRtp(packet, packet.length, atMs);
  }
  media.close();
  const createdUs = Date.now() * 1000;
  const data = new MjrWriter(openMjrFile(join(dir, `r${id}-data.mjr`)), {
    kind: "data",
    codec: "text",
  });
  data.writeData(new TextEncoder().encode(text), 0, createdUs + textAtMs * 1000);
  data.close();
  Deno.writeTextFileSync(
    join(dir, `${id}.nfo`),
    `[${id}]\r\nname = ${kind} ${id}\r\ndate = 2024-01-02 03:04:05\r\n` +
      `${kind} = r${id}-${kind}.mjr\r\ndata = r${id}-data.mjr\r\n`,
  );
}

wrtcTest(
  "recordplay: a second play of another recording replaces the first on new m-lines, its text too",
  async (wrtc) => {
    await requireTool("ffmpeg", "ffmpeg");
    const dir = await Deno.makeTempDir({ prefix: "rp-replace-" });
    await writeRecording(dir, 801, "video", 5, "from the video one", 300);
    await writeRecording(dir, 802, "audio", 3, "from the audio one", 500);
    const peers: ClientPeer[] = [];
    await using gw = await recordPlayGateway(dir, true);
    const c = await RecordPlayClient.open("ws", gw);
    try {
      const first = await c.request({ request: "play", id: 801 });
      assert.deepEqual(dataOf(first), {
        recordplay: "event",
        result: { status: "preparing", id: 801 },
      });
      assert.deepEqual(directions(jsepOf(first).sdp), ["sendonly"]);
      // Played again before any answer (the reference's measured case): `preparing` and an
      // offer again, which the viewer answers.
      const twice = await c.request({ request: "play", id: 801 });
      assert.deepEqual(dataOf(twice), dataOf(first));
      const offer = jsepOf(twice);
      assert.deepEqual(directions(offer.sdp), ["sendonly"]);
      assert.match(offer.sdp, /\r\nm=application /);
      const viewer = new ClientPeer(wrtc, { data: "JanusDataChannel" });
      peers.push(viewer);
      await c.request({ request: "start" }, await answerOf(viewer, offer));
      await c.take("webrtcup", (m) => m.janus === "webrtcup");
      await waitUntil("frames of the video recording", () => viewer.videoFrames >= 10);
      await waitUntil("the video recording's text", () => viewer.messages.length >= 1);

      // Another recording while playing: its audio on a new m-line, the video line inactive.
      const second = await c.request({ request: "play", id: 802 });
      assert.deepEqual(dataOf(second), {
        recordplay: "event",
        result: { status: "preparing", id: 802 },
      });
      const reoffer = jsepOf(second);
      assert.deepEqual(directions(reoffer.sdp), ["inactive", "sendonly"]);
      assert.match(reoffer.sdp, /m=audio[\s\S]*a=rtpmap:111 opus\/48000/);
      await c.request({ request: "start" }, await answerOf(viewer, reoffer));
      const audioMid = /m=audio[\s\S]*?a=mid:(\S+)/.exec(reoffer.sdp)?.[1] ?? "1";
      let audioPackets = 0;
      for (let i = 0; i < 150 && audioPackets <= 30; i++) {
        audioPackets = await viewer.packetsOf(audioMid);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(audioPackets > 30, `${audioPackets} packets of the audio recording`);
      const frames = viewer.videoFrames;
      await waitUntil("the audio recording's text", () => viewer.messages.length >= 2);
      assert.deepEqual(viewer.messages, ["from the video one", "from the audio one"]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.ok(viewer.videoFrames - frames <= 2, "the first recording's video stopped");
      await c.take("done", (m) => m.janus === "event" && dataOf(m).result === "done", 8000);
      await c.take("hangup", (m) => m.janus === "hangup");
    } finally {
      for (const p of peers) p.close();
      await c.close();
      await Deno.remove(dir, { recursive: true });
    }
    await waitUntil("peers released", () => gw.counts().peers === 0, 5000);
    assert.equal(gw.counts().sessions, 0);
  },
);
