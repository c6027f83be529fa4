/**
 * AudioBridge spatial audio with real peers: in a `spatial_audio` room the answer says
 * `stereo=1` (as the reference's fmtp) and each participant hears a stereo mix in which every
 * other one is panned by its `spatial_position`. A listener hears a 440 Hz participant at
 * position 0 (almost) only on the left and a 660 Hz one at 100 only on the right, measured by
 * frequency on each channel; `configure` moves the first to the right. The room's recording is a
 * stereo WAV with the same panning (as the reference's in spatial rooms). Runs in the test network
 * namespace.
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { wsClient } from "../_helpers/janus_client.ts";
import { goertzel, waitUntil, wrtcTest } from "../media/_client.ts";
import { AbHandle, assertMixingReleased, startAudioBridgeGateway } from "./_audiobridge.ts";
import { ToneClient } from "./_audiobridge_tone.ts";

const TONES = [440, 660, 1000] as const;
/** Heard: over a hundredth of the sent power (8000 peak: 1.6e7); the far side 30 dB under. */
const HEARD = 1.6e5;
const SEPARATION = 1000;

/** Left and right power of each test tone at `c`, rounded for messages. */
function sides(c: ToneClient): { left: Record<number, number>; right: Record<number, number> } {
  return { left: c.powers(TONES), right: c.powers(TONES, true) };
}

function assertPanned(c: ToneClient, f: number, side: "left" | "right", what: string): void {
  const p = sides(c);
  const near = p[side][f]!;
  const far = p[side === "left" ? "right" : "left"][f]!;
  const shown = JSON.stringify(p, (_, v) => typeof v === "number" ? Math.round(v) : v);
  assert.ok(near > HEARD, `${what}: ${f} Hz heard on the ${side} ${shown}`);
  assert.ok(far * SEPARATION < near, `${what}: ${f} Hz (almost) only on the ${side} ${shown}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A 16-bit WAV's channel count and the last `seconds` of each channel (-1..1). */
async function wavTail(
  path: string,
  seconds: number,
): Promise<{ channels: number; rate: number; left: Float32Array; right: Float32Array }> {
  const bytes = await Deno.readFile(path);
  const v = new DataView(bytes.buffer);
  const channels = v.getUint16(22, true);
  const rate = v.getUint32(24, true);
  const frames = Math.floor((bytes.length - 44) / (2 * channels));
  const n = Math.min(frames, Math.round(rate * seconds));
  const left = new Float32Array(n);
  const right = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const at = 44 + (frames - n + i) * 2 * channels;
    left[i] = v.getInt16(at, true) / 32768;
    right[i] = v.getInt16(at + 2 * (channels - 1), true) / 32768;
  }
  return { channels, rate, left, right };
}

wrtcTest(
  "audiobridge spatial: stereo answer; position 0 heard on the left, 100 on the right; configure moves",
  async (wrtc) => {
    await using gw = await startAudioBridgeGateway();
    const c = await wsClient(gw.wsUrl);
    // 1000 Hz listens in the centre; 440 Hz sits left, 660 Hz right.
    const clients = TONES.map((f) => new ToneClient(wrtc, f, { stereo: true }));
    const [left, right, listener] = clients as [ToneClient, ToneClient, ToneClient];
    const handles: AbHandle[] = [];
    const dir = await Deno.makeTempDir({ prefix: "ab-spatial-" });
    try {
      const admin = await AbHandle.open(c);
      await admin.sync({
        request: "create",
        room: 60,
        sampling_rate: 48000,
        spatial_audio: true,
        record: true,
        record_dir: dir,
        record_file: "spatial.wav",
      });
      for (const [i, position] of [0, 100, 50].entries()) {
        const client = clients[i]!;
        const h = await AbHandle.open(c);
        handles.push(h);
        const sdp = await h.joinWith(client, { room: 60, id: i + 1, spatial_position: position });
        const pt = /a=rtpmap:(\d+) opus\/48000\/2/.exec(sdp)?.[1];
        assert.ok(pt, sdp);
        assert.match(sdp, new RegExp(`a=fmtp:${pt} [^\\r\\n]*stereo=1`), "stereo=1 in the answer");
      }
      await waitUntil(
        "stereo audio at every client",
        () => clients.every((x) => x.received > x.rate * 2 && x.channels === 2),
        15000,
      );
      // Settled mixing: a second of the panned tones after the first audio.
      await sleep(1000);
      assertPanned(listener, 440, "left", "440 Hz at 0");
      assertPanned(listener, 660, "right", "660 Hz at 100");
      // The others hear the listener (centre) on both sides, and each other panned.
      for (const x of [left, right]) {
        const p = sides(x);
        assert.ok(p.left[1000]! > HEARD && p.right[1000]! > HEARD, `centre ${JSON.stringify(p)}`);
      }
      assertPanned(left, 660, "right", "660 Hz at 100, heard by 440 Hz");
      assertPanned(right, 440, "left", "440 Hz at 0, heard by 660 Hz");
      // The recording: stereo, everyone in it, panned as heard.
      const wav = await wavTail(`${dir}/spatial.wav`, 0.5);
      assert.deepEqual([wav.channels, wav.rate], [2, 48000]);
      const power = (side: Float32Array, f: number) => goertzel(side, 48000, f);
      const shown = JSON.stringify(
        TONES.map((f) => [f, power(wav.left, f).toExponential(1), power(wav.right, f)]),
      );
      assert.ok(power(wav.left, 440) > 1000 * power(wav.right, 440), `440 Hz left ${shown}`);
      assert.ok(power(wav.right, 660) > 1000 * power(wav.left, 660), `660 Hz right ${shown}`);
      for (const f of TONES) {
        const heard = Math.max(power(wav.left, f), power(wav.right, f));
        assert.ok(heard > 1e-3, `${f} Hz recorded ${shown}`);
      }

      // 440 Hz moves to the right.
      const h1 = handles[0]!;
      const reply = await h1.message({ request: "configure", spatial_position: 100 });
      // Past the core and room events queued meanwhile, to the request's own.
      for (;;) {
        const e = await h1.any(8000);
        assert.ok(e, "the configure event");
        if (e.transaction !== reply.transaction) continue;
        assert.equal(((e.plugindata as JsonObject).data as JsonObject).result, "ok");
        break;
      }
      await waitUntil("440 Hz on the right", () => {
        const p = sides(listener);
        return p.right[440]! > HEARD && p.left[440]! * SEPARATION < p.right[440]!;
      }, 5000).catch(() => assertPanned(listener, 440, "right", "440 Hz moved to 100"));
      assertPanned(listener, 440, "right", "440 Hz moved to 100");

      for (const h of handles) await h.close();
      // The recording keeps the room's mixer: destroying the room lets it go.
      await admin.sync({ request: "destroy", room: 60 });
      await admin.close();
    } finally {
      for (const x of clients) x.close();
      await c.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
    await assertMixingReleased(gw, 1);
  },
);
