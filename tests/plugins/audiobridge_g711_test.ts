/**
 * AudioBridge G.711 participants with real peers: one joins with `codec: "pcmu"`, one with
 * `"pcma"` and one with Opus, each sending its own tone. Each answer keeps only the codec asked
 * for (as the reference negotiates it), and each participant hears the other two tones and not
 * its own, measured by frequency. Runs in the test network namespace.
 */
import assert from "node:assert/strict";
import { wsClient } from "../_helpers/janus_client.ts";
import { waitUntil, wrtcTest } from "../media/_client.ts";
import { AbHandle, assertMixingReleased, startAudioBridgeGateway } from "./_audiobridge.ts";
import { ToneClient } from "./_audiobridge_tone.ts";

const TONES = [440, 660, 1000] as const;
const CODECS = [
  { codec: "pcmu", rtpmap: /^a=rtpmap:0 PCMU\/8000\r?$/m, payload: "0" },
  { codec: "pcma", rtpmap: /^a=rtpmap:8 PCMA\/8000\r?$/m, payload: "8" },
  { codec: "opus", rtpmap: /^a=rtpmap:\d+ opus\/48000\/2\r?$/m, payload: undefined },
] as const;
/** A tone is heard at over a hundredth of its sent power (8000 peak: 1.6e7), absent under 1e-4. */
const HEARD = 1.6e5;
const ABSENT = 1.6e3;
/**
 * Absent for a G.711 listener: under 1e-3, as G.711's quantization noise of the two tones it
 * hears reaches about 1e-4 of their power at any frequency (measured: up to 1.7e3).
 */
const ABSENT_G711 = 1.6e4;

wrtcTest(
  "audiobridge G.711: pcmu, pcma and opus participants each hear the other two tones",
  async (wrtc) => {
    await using gw = await startAudioBridgeGateway();
    const c = await wsClient(gw.wsUrl);
    const clients = TONES.map((f) => new ToneClient(wrtc, f));
    const handles: AbHandle[] = [];
    try {
      const admin = await AbHandle.open(c);
      await admin.sync({ request: "create", room: 70, sampling_rate: 16000 });
      for (const [i, client] of clients.entries()) {
        const { codec, rtpmap, payload } = CODECS[i]!;
        const h = await AbHandle.open(c);
        handles.push(h);
        const sdp = await h.joinWith(client, { room: 70, id: i + 1, codec });
        // One codec on the audio m-line: the one asked for.
        const mline = /^m=audio \d+ [\w/]+ ([\d ]+)\r?$/m.exec(sdp)?.[1];
        assert.ok(mline && !mline.includes(" "), `${codec}: one payload type (${mline})`);
        if (payload) assert.equal(mline, payload, codec);
        assert.match(sdp, rtpmap, codec);
      }
      await waitUntil(
        "audio at every client",
        () => clients.every((x) => x.received > x.rate * 2),
        15000,
      );
      // A second of settled mixing after the first audio.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      for (const [i, x] of clients.entries()) {
        const p = x.powers(TONES);
        const shown = `${CODECS[i]!.codec} at ${x.rate} Hz: ${
          JSON.stringify(p, (_, v) => typeof v === "number" ? Math.round(v) : v)
        }`;
        for (const f of TONES) {
          const absent = CODECS[i]!.codec === "opus" ? ABSENT : ABSENT_G711;
          if (f === x.tone) assert.ok(p[f]! < absent, `${shown}: not its own ${f} Hz`);
          else assert.ok(p[f]! > HEARD, `${shown}: hears ${f} Hz`);
        }
      }
      for (const h of [...handles, admin]) await h.close();
    } finally {
      for (const x of clients) x.close();
      await c.close();
    }
    await assertMixingReleased(gw, 2);
  },
);
