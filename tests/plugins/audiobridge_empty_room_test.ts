/**
 * AudioBridge rooms whose media lives without participants (the room's mixer is the plugin's,
 * not a participant's), with real wrtc peers:
 * - a file played into an empty room goes on: a participant who joins mid-file hears its rest
 *   (the file's second tone, never its first) and it ends on the file's clock, not the join's;
 * - forwarders of an empty room send nothing unless a file plays or `always_on` is set (the
 *   reference's rules); the recording is written only while someone is in, into one file across
 *   a leave and a join again;
 * - `changeroom` with two media workers: the participant hears the new room's speaker.
 * Runs in the test network namespace.
 *
 * Run: `deno task test tests/plugins/audiobridge_empty_room_test.ts`
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { join } from "node:path";
import { EngineRouter } from "../../core/media/engine_router.ts";
import type { JsonObject } from "../../core/protocol.ts";
import { wsClient } from "../_helpers/janus_client.ts";
import { freeEvenUdpPort } from "../_helpers/udp_port.ts";
import { waitUntil, wrtcTest } from "../media/_client.ts";
import { requireTool } from "../media/_mjr_tools.ts";
import { AbHandle, audioBridgeCounts, startAudioBridgeGateway } from "./_audiobridge.ts";
import { ToneClient } from "./_audiobridge_tone.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const R = 78;
/** A tone is heard at over a hundredth of a 8000-peak tone's power, absent under 1e-4. */
const HEARD = 1.6e5;
const ABSENT = 1.6e3;
/** The file: FIRST Hz for FIRST_S seconds, then SECOND Hz for SECOND_S seconds. */
const FIRST = 880;
const SECOND = 1320;
const FIRST_S = 3;
const SECOND_S = 6;
const FREQS = [440, FIRST, SECOND];

/** Counts the UDP packets that reach a loopback port. */
async function packetCounter(): Promise<{ port: number; count: () => number; close(): void }> {
  const port = await freeEvenUdpPort();
  const socket = dgram.createSocket("udp4");
  let n = 0;
  socket.on("message", () => n++);
  await new Promise<void>((resolve) => socket.bind(port, "127.0.0.1", resolve));
  return { port, count: () => n, close: () => socket.close() };
}

/** Drops the events queued for `h`'s session (webrtcup, media, others' joins). */
async function drain(h: AbHandle): Promise<void> {
  while (await h.any(200));
}

wrtcTest(
  "audiobridge empty room: a file goes on without participants (a late joiner hears its rest), forwarders and recording as the reference",
  async (wrtc) => {
    await requireTool("ffmpeg", "ffmpeg");
    const dir = await Deno.makeTempDir({ prefix: "ab_empty_room_" });
    const file = join(dir, "two_tones.opus");
    const out = await new Deno.Command("ffmpeg", {
      args: [
        ...["-hide_banner", "-loglevel", "error", "-filter_complex"],
        `sine=frequency=${FIRST}:duration=${FIRST_S}[a];` +
        `sine=frequency=${SECOND}:duration=${SECOND_S}[b];[a][b]concat=n=2:v=0:a=1`,
        ...["-c:a", "libopus", file],
      ],
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    await using gw = await startAudioBridgeGateway();
    const c = await wsClient(gw.wsUrl);
    const listener = new ToneClient(wrtc, 440);
    listener.amplitude = 0;
    const quiet = await packetCounter();
    const loud = await packetCounter();
    try {
      const admin = await AbHandle.open(c);
      await admin.sync({ request: "create", room: R, sampling_rate: 16000, secret: "s" });
      const forward = async (port: number, alwaysOn: boolean) =>
        await admin.sync({
          request: "rtp_forward",
          room: R,
          secret: "s",
          host: "127.0.0.1",
          port,
          always_on: alwaysOn,
        });
      await forward(quiet.port, false);
      const fwd = await forward(loud.port, true);
      const listed = await admin.sync({ request: "listforwarders", room: R, secret: "s" });
      assert.deepEqual(
        (listed.rtp_forwarders as JsonObject[]).map((f) => [f.port, f.always_on]).sort(),
        [[quiet.port, false], [loud.port, true]].sort(),
      );
      const recDir = join(dir, "rec");
      await admin.sync({
        request: "enable_recording",
        room: R,
        secret: "s",
        record: true,
        record_dir: recDir,
      });
      await sleep(1000);
      // Empty and silent: only the always-on forwarder sends (50 packets a second).
      assert.equal(quiet.count(), 0, "a forwarder of an empty room sends nothing");
      assert.ok(loud.count() > 25, `always_on sends silence: ${loud.count()} packets`);
      const recordings = async () => {
        const names: string[] = [];
        for await (const e of Deno.readDir(recDir)) names.push(e.name);
        return names;
      };
      const [wavName, ...more] = await recordings();
      assert.ok(wavName !== undefined && more.length === 0, "one recording file");
      const wav = join(recDir, wavName);
      assert.equal((await Deno.stat(wav)).size, 44, "nothing recorded in an empty room");

      // The file plays in the empty room: the forwarder of the mix now sends it.
      const started = performance.now();
      await admin.sync({
        request: "play_file",
        room: R,
        secret: "s",
        filename: file,
        file_id: "late",
      });
      await waitUntil("the file forwarded from the empty room", () => quiet.count() > 25, 3000);
      assert.equal((await Deno.stat(wav)).size, 44, "still nothing recorded");

      // Well into the second tone, the listener joins: it hears the rest, not the start.
      await sleep(FIRST_S * 1000 + 800 - (performance.now() - started));
      const h = await AbHandle.open(c);
      await h.joinWith(listener, { room: R, id: 1 });
      await waitUntil("a second of audio at the listener", () => {
        return listener.received > listener.rate;
      }, 10000);
      const heard = listener.powers(FREQS);
      assert.ok(
        heard[SECOND]! > HEARD && heard[FIRST]! < ABSENT,
        `the rest of the file, not its start: ${JSON.stringify(heard)}`,
      );
      assert.equal(
        (await admin.sync({ request: "is_playing", room: R, secret: "s", file_id: "late" }))
          .playing,
        true,
      );
      // It ends on its own clock (a restart at the join would play on for FIRST_S + SECOND_S).
      await waitUntil(
        "the file's end",
        () => listener.powers([SECOND])[SECOND]! < ABSENT,
        (FIRST_S + SECOND_S + 3) * 1000 - (performance.now() - started),
      );
      const endedAt = (performance.now() - started) / 1000;
      assert.ok(endedAt < FIRST_S + SECOND_S + 2.5, `ended ${endedAt.toFixed(1)} s after play`);
      assert.ok((await Deno.stat(wav)).size > 44 + 16000, "recorded while someone is in");

      // Leave: the recording stops growing; a join again goes on in the same file.
      await drain(h);
      await h.ask({ request: "leave" });
      await sleep(300);
      const left = (await Deno.stat(wav)).size;
      await sleep(600);
      assert.equal((await Deno.stat(wav)).size, left, "nothing recorded after the leave");
      const again = await h.ask({ request: "join", room: R, id: 2 });
      assert.equal(again.data.audiobridge, "joined");
      await waitUntil("recording again", () => Deno.statSync(wav).size > left + 16000, 5000);
      assert.deepEqual(await recordings(), [wavName], "the same file goes on");

      // Destroying the room ends its mixer: the always-on forwarder stops.
      await h.close();
      await admin.sync({ request: "destroy", room: R, secret: "s" });
      await sleep(300);
      const after = loud.count();
      await sleep(500);
      assert.ok(loud.count() - after <= 1, "no forwarding after destroy");
      assert.equal(gw.media.mixerCount?.(), 0, "no mixer left");
      assert.ok(fwd.stream_id !== undefined);
      await admin.close();
    } finally {
      listener.close();
      quiet.close();
      loud.close();
      await c.close();
      await Deno.remove(dir, { recursive: true });
    }
    assert.deepEqual(audioBridgeCounts(gw), { rooms: 1, participants: 0, sessions: 0 });
  },
);

wrtcTest(
  "audiobridge changeroom with two media workers: the participant hears the new room's speaker",
  async (wrtc) => {
    await using gw = await startAudioBridgeGateway({ media: { workers: 2 } });
    const c = await wsClient(gw.wsUrl);
    const speaker = new ToneClient(wrtc, 440);
    const mover = new ToneClient(wrtc, 880);
    mover.amplitude = 0;
    try {
      const admin = await AbHandle.open(c);
      await admin.sync({ request: "create", room: 81, sampling_rate: 16000 });
      await admin.sync({ request: "create", room: 82, sampling_rate: 16000 });
      const hs = await AbHandle.open(c);
      await hs.joinWith(speaker, { room: 82, id: 1 });
      const hm = await AbHandle.open(c);
      await hm.joinWith(mover, { room: 81, id: 2 });
      await waitUntil("audio at the mover", () => mover.received > mover.rate * 2, 10000);
      assert.ok(mover.powers([440])[440]! < ABSENT, "alone in room 81: no 440 Hz");
      // Two workers of AudioBridge's engine: the rooms' peers share one.
      const pids = gw.media instanceof EngineRouter
        ? gw.media.workerPidsOf(gw.media.engineFor("janus.plugin.audiobridge"))
        : gw.media.workerPids?.();
      assert.equal(pids?.length, 2);
      await drain(hm);
      const changed = await hm.ask({ request: "changeroom", room: 82, id: 2 });
      assert.equal(changed.data.audiobridge, "roomchanged", JSON.stringify(changed.data));
      await waitUntil("440 Hz after changeroom", () => mover.powers([440])[440]! > HEARD, 8000)
        .catch((e) => {
          throw new Error(`${e}: ${JSON.stringify(mover.powers([440]))}`);
        });
      for (const h of [hs, hm]) await h.close();
      for (const room of [81, 82]) await admin.sync({ request: "destroy", room });
      await admin.close();
      assert.equal(gw.media.mixerCount?.(), 0, "no mixer left");
    } finally {
      speaker.close();
      mover.close();
      await c.close();
    }
  },
);
