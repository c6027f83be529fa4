/**
 * AudioBridge media with real peers: three wrtc clients in one room, each sending its own tone
 * (440, 660 and 1000 Hz). What each one receives is measured by frequency (Goertzel on the last
 * second of PCM from an audio sink): it holds the other two tones and not its own (mix-minus);
 * muting a participant removes its tone from the others' mix; a participant's volume scales
 * its tone; talking events follow who sends sound. On both engines that mix (rtp, the default,
 * and wrtc). Runs in the test network namespace.
 */
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { wsClient } from "../_helpers/janus_client.ts";
import { waitUntil, wrtcTest } from "../media/_client.ts";
import { AbHandle, audioBridgeCounts, startAudioBridgeGateway } from "./_audiobridge.ts";
import { ToneClient as BaseToneClient } from "./_audiobridge_tone.ts";

const TONES = [440, 660, 1000] as const;

/** A tone client measured at the three test tones. */
class ToneClient extends BaseToneClient {
  override powers(freqs: readonly number[] = TONES): Record<number, number> {
    return super.powers(freqs);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A tone is heard at over a hundredth of its sent power (8000 peak: 1.6e7), absent under 1e-4. */
const HEARD = 1.6e5;
const ABSENT = 1.6e3;

function assertHears(c: ToneClient, heard: number[], absent: number[], what: string): void {
  const p = c.powers();
  const shown = JSON.stringify(Object.fromEntries(TONES.map((f) => [f, Math.round(p[f]!)])));
  for (const f of heard) assert.ok(p[f]! > HEARD, `${what}: ${c.tone} Hz hears ${f} Hz ${shown}`);
  for (const f of absent) {
    assert.ok(p[f]! < ABSENT, `${what}: ${c.tone} Hz does not hear ${f} Hz ${shown}`);
  }
}

// Both engines mix: the RTP engine (the default: libopus in WebAssembly) and wrtc (libwebrtc).
for (const engine of ["rtp", "wrtc"] as const) {
  wrtcTest(
    `audiobridge media (${engine} engine): three tones, each hears the other two and not itself; mute, volume, talking`,
    async (wrtc) => {
      await using gw = await startAudioBridgeGateway({
        media: { engines: { "janus.plugin.audiobridge": engine } },
      });
      const c = await wsClient(gw.wsUrl);
      const clients = TONES.map((f) => new ToneClient(wrtc, f));
      const handles: AbHandle[] = [];
      const events = new Map<AbHandle, JsonObject[]>();
      let collecting = true;
      try {
        const admin = await AbHandle.open(c);
        await admin.sync({
          request: "create",
          room: 42,
          sampling_rate: 16000,
          // Mixes at 48 kbit/s: an automatic ~19 kbit/s leaves coding noise near the absent bound.
          default_bitrate: 48000,
          audiolevel_event: true,
          audio_active_packets: 10,
          audio_level_average: 40,
        });
        for (const [i, client] of clients.entries()) {
          const h = await AbHandle.open(c);
          handles.push(h);
          events.set(h, []);
          const joined = await h.ask(
            { request: "join", room: 42, id: i + 1, display: `tone${client.tone}` },
            { type: "offer", sdp: await client.offer() },
          );
          assert.equal(joined.data.audiobridge, "joined");
          assert.equal(joined.jsep?.type, "answer");
          await client.pc.setRemoteDescription({ type: "answer", sdp: joined.jsep?.sdp as string });
        }
        // Every event of each handle, collected as it comes.
        const collectors = handles.map(async (h) => {
          while (collecting) {
            const e = await h.any(100);
            if (e?.janus === "event") {
              events.get(h)!.push((e.plugindata as JsonObject).data as JsonObject);
            }
          }
        });
        const talking = (h: AbHandle) =>
          events.get(h)!.filter((d) =>
            d.audiobridge === "talking" || d.audiobridge === "stopped-talking"
          )
            .map((d) => `${d.audiobridge}:${d.id}`);
        await waitUntil(
          "audio at every client",
          () => clients.every((x) => x.received > x.rate * 2),
          10000,
        );
        for (const x of clients) {
          assertHears(
            x,
            TONES.filter((f) => f !== x.tone),
            [x.tone],
            "mix-minus",
          );
        }

        // Talking: everyone sends a loud tone; each hears who starts talking after it joined.
        const all = ["talking:1", "talking:2", "talking:3"];
        const settled = () =>
          talking(handles[0]!).length >= 3 &&
          handles.every((h) => talking(h).includes("talking:3"));
        await waitUntil("talking events", settled, 5000).catch((e) => {
          throw new Error(`${e}: ${JSON.stringify([...events.values()])}`);
        });
        assert.deepEqual(talking(handles[0]!).sort(), all);
        for (const h of handles) {
          assert.ok(talking(h).every((t) => all.includes(t)), talking(h).join());
        }
        const listed = await admin.sync({ request: "listparticipants", room: 42 });
        assert.deepEqual(
          (listed.participants as JsonObject[]).map((p) => [p.id, p.setup, p.talking]),
          [[1, true, true], [2, true, true], [3, true, true]],
        );

        // Muting participant 2 (660 Hz) takes its tone out of the others' mix.
        await admin.sync({ request: "mute", room: 42, id: 2 });
        await sleep(1500);
        assertHears(clients[0]!, [1000], [440, 660], "2 muted");
        assertHears(clients[2]!, [440], [1000, 660], "2 muted");
        assertHears(clients[1]!, [440, 1000], [660], "2 muted, hears the others");
        await admin.sync({ request: "unmute", room: 42, id: 2 });

        // Participant 1's volume at 50% lowers its tone's power to about a quarter.
        await sleep(1500);
        // Averaged over a few windows: the decoded power wanders with the network's jitter.
        const power440 = async () => {
          let sum = 0;
          for (let i = 0; i < 4; i++) {
            sum += clients[1]!.powers()[440]!;
            await sleep(250);
          }
          return sum / 4;
        };
        const before = await power440();
        // Its collector takes the `ok` event.
        assert.equal(
          (await handles[0]!.message({ request: "configure", volume: 50 })).janus,
          "ack",
        );
        await sleep(1500);
        const ratio = (await power440()) / before;
        assert.ok(ratio > 0.1 && ratio < 0.55, `volume 50: 440 Hz power x${ratio.toFixed(2)}`);

        // Participant 3 goes silent: everyone hears it stop talking.
        clients[2]!.amplitude = 0;
        await waitUntil(
          "stopped-talking",
          () => handles.every((h) => talking(h).includes("stopped-talking:3")),
          5000,
        );
        await sleep(1200);
        // A sender gone quiet may leave a concealment tail in the decoder: a looser bound.
        assertHears(clients[0]!, [660], [440], "3 silent");
        const tail = clients[0]!.powers()[1000]!;
        assert.ok(tail < HEARD, `3 silent: 1000 Hz power ${Math.round(tail)}`);
        collecting = false;
        await Promise.all(collectors);
        for (const h of handles) {
          assert.ok(!talking(h).includes("stopped-talking:1"), "1 still talks");
        }
        for (const h of [...handles, admin]) await h.close();
      } finally {
        collecting = false;
        for (const x of clients) x.close();
        await c.close();
      }
      assert.deepEqual(audioBridgeCounts(gw), { rooms: 2, participants: 0, sessions: 0 });
    },
  );
}
