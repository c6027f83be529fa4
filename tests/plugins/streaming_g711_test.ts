/**
 * Streaming G.711 mountpoints: ffmpeg (Debian's) sends PCMU (payload type 0) and PCMA (8) tones
 * as RTP to two mountpoints; a wrtc viewer of each hears its own tone, through an offer that
 * names the codec at 8 kHz. Runs in the test network namespace (`deno task test`).
 */
import assert from "node:assert/strict";
import { httpClient } from "../_helpers/janus_client.ts";
import { goertzel, waitUntil, wrtcTest } from "../media/_client.ts";
import {
  closeViewers,
  createdPorts,
  startStreamingGateway,
  StHandle,
  stopFfmpeg,
  waitFresh,
  watchWrtc,
  type WrtcViewer,
} from "./_streaming.ts";

/** ffmpeg sending a `frequency` Hz tone as `codec` RTP (PT `pt`) to `port`, in real time. */
function g711Tone(port: number, codec: "pcm_mulaw" | "pcm_alaw", pt: number, frequency: number) {
  return new Deno.Command("ffmpeg", {
    args: [
      ...["-hide_banner", "-loglevel", "error", "-re"],
      ...["-f", "lavfi", "-i", `sine=frequency=${frequency}:sample_rate=8000`],
      ...["-c:a", codec, "-ar", "8000", "-ac", "1", "-payload_type", String(pt)],
      ...["-f", "rtp", `rtp://127.0.0.1:${port}`],
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

wrtcTest("streaming g711: PCMU and PCMA mountpoints, each viewer hears its tone", async (wrtc) => {
  await using gw = await startStreamingGateway();
  await using c = httpClient(gw.httpUrl);
  const admin = await StHandle.open(c);
  const cases = [
    { id: 711, codec: "pcmu", pt: 0, ff: "pcm_mulaw", hz: 440, rtpmap: "PCMU/8000" },
    { id: 712, codec: "pcma", pt: 8, ff: "pcm_alaw", hz: 1000, rtpmap: "PCMA/8000" },
  ] as const;
  const feeds: Deno.ChildProcess[] = [];
  const viewers: WrtcViewer[] = [];
  try {
    for (const k of cases) {
      const created = await admin.sync({
        request: "create",
        type: "rtp",
        id: k.id,
        media: [{ type: "audio", mid: "a", port: 0, pt: k.pt, codec: k.codec }],
      });
      const info = (await admin.sync({ request: "info", id: k.id })).info as {
        media: { codec: string; rtpmap: string }[];
      };
      assert.equal(info.media[0]?.rtpmap, k.rtpmap);
      feeds.push(g711Tone(createdPorts(created)[0]!, k.ff, k.pt, k.hz));
    }
    for (const k of cases) {
      await waitFresh(admin, k.id, 8000);
      const v = await watchWrtc(c, wrtc, k.id);
      viewers.push(v);
      await waitUntil("a second of audio", () => v.peer.audio.length > v.peer.audioRate, 8000);
      const tail = v.peer.audio.slice(-v.peer.audioRate / 2);
      const own = goertzel(tail, v.peer.audioRate, k.hz);
      const other = goertzel(tail, v.peer.audioRate, k.hz === 440 ? 1000 : 440);
      assert.ok(own > 20 * other, `${k.codec}: ${k.hz} Hz ${own} against ${other}`);
    }
  } finally {
    for (const f of feeds) await stopFfmpeg(f);
    await closeViewers(viewers, admin);
  }
});
