/**
 * Record&Play `pause`/`resume` and the recording settings with a real wrtc peer on the rtp
 * engine, as the reference (`janus_recordplay.c` and `record.c` 1.1.2): `configure` before
 * `record` sets the PLI interval (`video-keyframe-interval`; the REMB is not observable here);
 * `pause` answers `paused` with the id and no packet is written until `resume` (`resumed`);
 * the files number the packets written as Janus's recorder does (sequence numbers from 1,
 * timestamps from 0) and the pause leaves a gap in the frames' times but none in RTP time, so
 * `janus-pp-rec` converts only the time recorded; video holds about a keyframe per interval.
 *
 * Run: `deno task test tests/plugins/recordplay_pause_test.ts`
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { headerLength, paddingLength } from "../../core/media/rtp/header.ts";
import { isVp8Keyframe } from "../../core/media/rtp/vp8.ts";
import { type ClientPeer, waitUntil, wrtcTest } from "../media/_client.ts";
import { ffprobe, janusPpRec, requireTool } from "../media/_mjr_tools.ts";
import { sendonlyOffer } from "./_videoroom_media.ts";
import {
  dataOf,
  jsepOf,
  mjrFrames as frames,
  RecordPlayClient,
  recordPlayGateway,
} from "./_recordplay.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ACTIVE_MS = 2000;
const PAUSE_MS = 2500;
/** `video-keyframe-interval`, in ms. */
const INTERVAL_MS = 1000;

wrtcTest(
  "recordplay: pause and resume leave out the paused time; settings applied",
  async (wrtc) => {
    await requireTool("janus-pp-rec", "janus-tools");
    await requireTool("ffprobe", "ffmpeg");
    const dir = await Deno.makeTempDir({ prefix: "rp-pause-" });
    const peers: ClientPeer[] = [];
    await using gw = await recordPlayGateway(dir, true);
    const c = await RecordPlayClient.open("ws", gw);
    try {
      assert.deepEqual(
        await c.sync({
          request: "configure",
          "video-bitrate-max": 300_000,
          "video-keyframe-interval": INTERVAL_MS,
        }),
        {
          recordplay: "configure",
          status: "ok",
          settings: { "video-keyframe-interval": INTERVAL_MS, "video-bitrate-max": 300_000 },
        },
      );
      const { peer, offer } = await sendonlyOffer(wrtc, { audio: true, video: true });
      peers.push(peer);
      const recorded = await c.request(
        { request: "record", name: "P", id: 77, filename: "p" },
        offer,
      );
      await peer.answer(jsepOf(recorded).sdp);
      await c.take("webrtcup", (m) => m.janus === "webrtcup");
      await sleep(ACTIVE_MS);
      assert.deepEqual(dataOf(await c.request({ request: "pause" })), {
        recordplay: "event",
        result: { status: "paused", id: 77 },
      });
      const pausedAt = performance.now();
      await sleep(PAUSE_MS);
      assert.deepEqual(dataOf(await c.request({ request: "resume" })), {
        recordplay: "event",
        result: { status: "resumed", id: 77 },
      });
      const pausedMs = performance.now() - pausedAt;
      // A second resume changes nothing and is answered the same.
      assert.deepEqual(dataOf(await c.request({ request: "resume" })).result, {
        status: "resumed",
        id: 77,
      });
      await sleep(ACTIVE_MS);
      await c.request({ request: "stop" });
      await c.take("hangup", (m) => m.janus === "hangup");
      await waitUntil("the .nfo", () => {
        try {
          return Deno.statSync(join(dir, "77.nfo")).isFile;
        } catch {
          return false;
        }
      });

      for (const kind of ["audio", "video"] as const) {
        const f = frames(Deno.readFileSync(join(dir, `p-${kind}.mjr`)));
        assert.ok(f.length > 50, `${kind}: ${f.length} packets`);
        // Janus's recorder numbering.
        assert.equal(f[0]!.seq, 1, `${kind}: first sequence number`);
        assert.equal(f[0]!.ts, 0, `${kind}: first timestamp`);
        // The largest gap in the frames' times is the pause: nothing written meanwhile.
        let gapAt = 1;
        for (let i = 1; i < f.length; i++) {
          if (f[i]!.ms - f[i - 1]!.ms > f[gapAt]!.ms - f[gapAt - 1]!.ms) gapAt = i;
        }
        const before = f[gapAt - 1]!, after = f[gapAt]!;
        const gapMs = after.ms - before.ms;
        assert.ok(
          gapMs > pausedMs - 400 && gapMs < pausedMs + 400,
          `${kind}: ${gapMs} ms without packets, paused ${pausedMs.toFixed(0)} ms`,
        );
        // No gap in RTP: the next sequence number and (within 100 ms) timestamp.
        assert.equal(after.seq, (before.seq + 1) & 0xffff, `${kind}: sequence across the pause`);
        const clock = kind === "audio" ? 48 : 90;
        const tsGapMs = ((after.ts - before.ts) >>> 0) / clock;
        assert.ok(tsGapMs < 100, `${kind}: ${tsGapMs.toFixed(1)} ms of RTP time across the pause`);
        if (kind === "video") {
          const keyframes = f.filter((x) => {
            const h = headerLength(x.packet, x.packet.length);
            return h > 0 &&
              isVp8Keyframe(
                x.packet,
                h,
                x.packet.length - paddingLength(x.packet, x.packet.length),
              );
          }).length;
          // The first, one after resume and one a second: at least 4 in about 4 s recorded.
          assert.ok(keyframes >= 4, `${keyframes} keyframes with a 1 s interval`);
          // The wrtc peer's video (about 15 kbit/s) stays far below any cap: no REMB check.
        }
      }
      // janus-pp-rec converts the recorded time only.
      const webm = join(dir, "p.webm");
      const v = await janusPpRec(join(dir, "p-video.mjr"), webm);
      assert.ok(v.success, v.log);
      const probe = await ffprobe(webm);
      const seconds = (2 * ACTIVE_MS) / 1000;
      assert.ok(
        Math.abs(probe.duration - seconds) < 1,
        `${probe.duration} s converted, about ${seconds} s recorded (${pausedMs / 1000} s paused)`,
      );
    } finally {
      for (const p of peers) p.close();
      await c.close();
      await Deno.remove(dir, { recursive: true });
    }
    await waitUntil("peers released", () => gw.counts().peers === 0, 5000);
    assert.equal(gw.counts().sessions, 0);
  },
);
