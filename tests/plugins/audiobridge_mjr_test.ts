/**
 * AudioBridge per-participant MJR recordings with real tone peers (RTP engine, the default):
 * `record` on join writes the participant's own audio (not the mix) to `<filename>-audio.mjr`
 * in the room's `mjrs_dir`; while it is muted nothing is written but the time stays a gap (as
 * Janus 1.1.2's); `record: false` closes it. `enable_mjrs` on the live room starts a file per
 * participant named `audiobridge-<room>-user-<id>-<µs>-audio.mjr` (as the reference names
 * them; one given a `filename` keeps its name, the file made anew), a G.711 participant's as
 * `pcmu`, and one joining then is recorded whatever its `record` says; turning it off, leaving
 * and hanging up close them, and so does `changeroom`.
 * Janus's `janus-pp-rec` converts every file, ffprobe reads its time and each holds its
 * participant's tone only. On the wrtc engine a `record` is refused (logged), nothing is
 * written and mixing goes on.
 *
 * Run: `deno task test tests/plugins/audiobridge_mjr_test.ts`
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { JsonObject } from "../../core/protocol.ts";
import { wsClient } from "../_helpers/janus_client.ts";
import { goertzel, waitUntil, wrtcTest } from "../media/_client.ts";
import { ffprobe, janusPpRec, requireTool } from "../media/_mjr_tools.ts";
import {
  AbHandle,
  assertMixingReleased,
  handleInfo,
  startAudioBridgeGateway,
} from "./_audiobridge.ts";
import { ToneClient } from "./_audiobridge_tone.ts";
import { joinRtp, RtpToneClient } from "./_rtp_tone_client.ts";

const ROOM = 90;
/** A tone is in a file at over a hundredth of its sent power (8000 peak: 1.6e7). */
const PRESENT = 1.6e5;
/** ... and another is absent under 1e-4 of it (G.711: 1e-3, its quantization noise). */
const ABSENT = 1.6e3;
const ABSENT_G711 = 1.6e4;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An asynchronous request's event data, skipping core events (webrtcup, media) before it. */
async function ask(h: AbHandle, body: JsonObject): Promise<JsonObject> {
  const reply = await h.message(body);
  assert.equal(reply.janus, "ack", JSON.stringify(reply));
  for (;;) {
    const event = await h.c.event(h.session, { timeoutMs: 8000 });
    assert.ok(event, `an event for ${JSON.stringify(body)}`);
    if (event.transaction === reply.transaction) {
      return (event.plugindata as JsonObject).data as JsonObject;
    }
  }
}

/** The file names in `dir`, sorted. */
async function filesIn(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

/** What a recording holds once converted: its time and the power of each tone in it. */
interface Converted {
  seconds: number;
  codec: string;
  powers: Record<number, number>;
}

/** Converts `mjr` with janus-pp-rec (to `ext`), reads it with ffprobe and measures `tones`. */
async function convert(mjr: string, ext: string, tones: readonly number[]): Promise<Converted> {
  const out = `${mjr}.${ext}`;
  const pp = await janusPpRec(mjr, out);
  assert.ok(pp.success, `janus-pp-rec ${mjr}: ${pp.log}`);
  const probe = await ffprobe(out);
  const decoded = await new Deno.Command("ffmpeg", {
    args: ["-v", "error", "-i", out, "-f", "s16le", "-ac", "1", "-ar", "48000", "-"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(decoded.success, new TextDecoder().decode(decoded.stderr));
  const pcm = new Int16Array(decoded.stdout.buffer, 0, decoded.stdout.byteLength >> 1);
  // Mean power over 100 ms blocks, the silent ones (a mute's gap, the start) left out.
  const block = 4800;
  const powers: Record<number, number> = {};
  for (const f of tones) {
    let sum = 0;
    let n = 0;
    for (let at = 0; at + block <= pcm.length; at += block) {
      const part = pcm.subarray(at, at + block);
      if (part.every((s) => Math.abs(s) < 200)) continue;
      sum += goertzel(part, 48000, f);
      n++;
    }
    powers[f] = n > 0 ? sum / n : 0;
  }
  return { seconds: probe.duration, codec: probe.streams[0]?.codec_name ?? "", powers };
}

/** A recording's measures, rounded, for messages. */
function shown(x: Converted): string {
  return JSON.stringify(x, (_, v) => typeof v === "number" ? Math.round(v * 100) / 100 : v);
}

/** Packets in an MJR file, as janus-pp-rec's parse counts them. */
async function mjrPackets(mjr: string): Promise<number> {
  const out = await new Deno.Command("janus-pp-rec", {
    args: ["--parse", mjr],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const counted = /Counted (\d+) RTP packets/.exec(text);
  assert.ok(counted, text);
  return Number(counted[1]);
}

/** The MJR header's JSON (codec `c`, kind `t`). */
async function mjrHeader(mjr: string): Promise<JsonObject> {
  const bytes = await Deno.readFile(mjr);
  const length = (bytes[8]! << 8) | bytes[9]!;
  return JSON.parse(new TextDecoder().decode(bytes.subarray(10, 10 + length))) as JsonObject;
}

wrtcTest(
  "audiobridge MJR: record on join, muted gap, record:false, enable_mjrs on a live room, leave/hangup/changeroom close the files; janus-pp-rec converts them",
  async (wrtc) => {
    await requireTool("janus-pp-rec", "janus-tools");
    await requireTool("ffprobe", "ffmpeg");
    const dir = await Deno.makeTempDir({ prefix: "audiobridge-mjr-" });
    await using gw = await startAudioBridgeGateway();
    const c = await wsClient(gw.wsUrl);
    const alice = new ToneClient(wrtc, 440);
    const bob = new ToneClient(wrtc, 880);
    const carol = new ToneClient(wrtc, 660);
    const dave = new ToneClient(wrtc, 1000);
    const tones = [440, 660, 880, 1000] as const;
    try {
      const admin = await AbHandle.open(c);
      await admin.sync({ request: "create", room: ROOM, secret: "s", mjrs_dir: dir });
      const a = await AbHandle.open(c);
      const b = await AbHandle.open(c);
      const g = await AbHandle.open(c);
      await a.joinWith(alice, { room: ROOM, id: 1, record: true, filename: "alice" });
      await b.joinWith(bob, { room: ROOM, id: 2 });
      await g.joinWith(carol, { room: ROOM, id: 3, codec: "pcmu" });
      await waitUntil("the mix at every client", () => {
        return [alice, bob, carol].every((x) => x.received > x.rate);
      }, 15000);
      assert.equal((await handleInfo(gw, a))["audio-recording"], "alice-audio.mjr");
      assert.equal((await handleInfo(gw, b))["audio-recording"], undefined);
      assert.deepEqual(await filesIn(dir), ["alice-audio.mjr"]);
      // A second muted in the middle: a gap in the file's time, no packets.
      await sleep(1000);
      assert.deepEqual(await ask(a, { request: "configure", muted: true }), {
        audiobridge: "event",
        result: "ok",
      });
      await sleep(1500);
      await ask(a, { request: "configure", muted: false });
      await sleep(1000);
      await ask(a, { request: "configure", record: false });
      assert.equal((await handleInfo(gw, a))["audio-recording"], undefined);
      const first = join(dir, "alice-audio.mjr");
      const closedSize = (await Deno.stat(first)).size;
      await sleep(300);
      assert.equal((await Deno.stat(first)).size, closedSize, "record:false closed the file");

      // Only her tone, about 3.5 s long, a second and a half of it a gap.
      assert.deepEqual(await mjrHeader(first), { ...await mjrHeader(first), t: "a", c: "opus" });
      const aliceRec = await convert(first, "opus", tones);
      const packets = await mjrPackets(first);
      assert.equal(aliceRec.codec, "opus", shown(aliceRec));
      assert.ok(aliceRec.seconds > 2.8 && aliceRec.seconds < 6, shown(aliceRec));
      const gap = aliceRec.seconds - packets * 0.02;
      assert.ok(gap > 1 && gap < 2.5, `muted gap ${gap} s (${packets} packets) ${shown(aliceRec)}`);
      assert.ok(aliceRec.powers[440]! > PRESENT, shown(aliceRec));
      for (const f of [660, 880, 1000]) assert.ok(aliceRec.powers[f]! < ABSENT, shown(aliceRec));
      await Deno.remove(`${first}.opus`);

      // The live room: everyone from now on; alice's `filename` stays hers, so her file is
      // made anew (the reference truncates it too), bob and carol get the default names.
      assert.deepEqual(
        await admin.sync({ request: "enable_mjrs", room: ROOM, secret: "s", mjrs: true }),
        { audiobridge: "success", mjrs: true },
      );
      await waitUntil("a file per participant", () => {
        return [...Deno.readDirSync(dir)].length === 3;
      }, 5000).catch(async (e) => {
        throw new Error(`${e}: ${(await filesIn(dir)).join()}`);
      });
      // Joining a room with `mjrs` records, whatever `record` says (the reference).
      const d = await AbHandle.open(c);
      await d.joinWith(dave, { room: ROOM, id: 4, record: false });
      await waitUntil("dave's file", () => [...Deno.readDirSync(dir)].length === 4, 5000);
      const names = await filesIn(dir);
      assert.equal(names[0], "alice-audio.mjr", names.join());
      const byUser = (id: number) => {
        const re = new RegExp(`^audiobridge-${ROOM}-user-${id}-\\d{16}-audio\\.mjr$`);
        const name = names.find((n) => re.test(n));
        assert.ok(name, `user ${id}'s file in ${names.join()}`);
        return name;
      };
      const files = { alice: "alice-audio.mjr", bob: byUser(2), carol: byUser(3), dave: byUser(4) };
      assert.equal((await handleInfo(gw, a))["audio-recording"], files.alice);
      assert.equal((await handleInfo(gw, b))["audio-recording"], files.bob);
      assert.equal((await handleInfo(gw, g))["audio-recording"], files.carol);
      await sleep(2000);
      // Leave closes alice's, hangup carol's, changeroom dave's (a new room needs a new
      // configure), turning the room's setting off bob's.
      await ask(a, { request: "leave" });
      await ask(g, { request: "hangup" });
      await admin.sync({ request: "create", room: ROOM + 1 });
      assert.equal(
        (await ask(d, { request: "changeroom", room: ROOM + 1 })).audiobridge,
        "roomchanged",
      );
      assert.equal((await handleInfo(gw, d))["audio-recording"], undefined);
      assert.deepEqual(
        await admin.sync({ request: "enable_mjrs", room: ROOM, secret: "s", mjrs: false }),
        { audiobridge: "success", mjrs: false },
      );
      assert.equal((await handleInfo(gw, b))["audio-recording"], undefined);
      await sleep(300);
      const sizes = await Promise.all(names.map(async (n) => (await Deno.stat(join(dir, n))).size));
      await sleep(700);
      for (const [i, n] of names.entries()) {
        assert.equal((await Deno.stat(join(dir, n))).size, sizes[i], `${n} closed`);
      }

      for (
        const [file, tone, ext] of [
          [files.alice, 440, "opus"],
          [files.bob, 880, "opus"],
          [files.carol, 660, "wav"],
          [files.dave, 1000, "opus"],
        ] as const
      ) {
        const path = join(dir, file);
        const header = await mjrHeader(path);
        assert.equal(header.t, "a");
        assert.equal(header.c, ext === "wav" ? "pcmu" : "opus", file);
        const rec = await convert(path, ext, tones);
        assert.ok(rec.seconds > 1 && rec.seconds < 5, `${file}: ${shown(rec)}`);
        assert.ok(rec.powers[tone]! > PRESENT, `${file}: ${shown(rec)}`);
        const absent = ext === "wav" ? ABSENT_G711 : ABSENT;
        for (const f of tones) {
          if (f !== tone) assert.ok(rec.powers[f]! < absent, `${file}: ${shown(rec)}`);
        }
      }
      for (const h of [a, b, g, d, admin]) await h.close();
    } finally {
      for (const x of [alice, bob, carol, dave]) x.close();
      await c.close();
      await Deno.remove(dir, { recursive: true });
    }
    await assertMixingReleased(gw, 3);
  },
);

wrtcTest(
  "audiobridge MJR on the wrtc engine: record is refused (logged), no file, mixing goes on",
  async (wrtc) => {
    const dir = await Deno.makeTempDir({ prefix: "audiobridge-mjr-wrtc-" });
    await using gw = await startAudioBridgeGateway({
      media: { engines: { "janus.plugin.audiobridge": "wrtc" } },
    });
    const c = await wsClient(gw.wsUrl);
    const alice = new ToneClient(wrtc, 440);
    const bob = new ToneClient(wrtc, 880);
    try {
      const admin = await AbHandle.open(c);
      await admin.sync({ request: "create", room: ROOM, mjrs: true, mjrs_dir: dir });
      const a = await AbHandle.open(c);
      const b = await AbHandle.open(c);
      await a.joinWith(alice, { room: ROOM, id: 1, record: true, filename: "alice" });
      await b.joinWith(bob, { room: ROOM, id: 2 });
      await waitUntil("bob hears alice", () => bob.powers([440])[440]! > PRESENT, 15000);
      assert.equal((await handleInfo(gw, a))["audio-recording"], undefined);
      assert.deepEqual(await filesIn(dir), []);
      for (const h of [a, b, admin]) await h.close();
    } finally {
      for (const x of [alice, bob]) x.close();
      await c.close();
      await Deno.remove(dir, { recursive: true });
    }
    await assertMixingReleased(gw, 2);
  },
);

wrtcTest(
  "audiobridge MJR: a plain-RTP participant's record writes its own audio; leave closes the file; janus-pp-rec converts it",
  async (wrtc) => {
    await requireTool("janus-pp-rec", "janus-tools");
    await requireTool("ffprobe", "ffmpeg");
    const dir = await Deno.makeTempDir({ prefix: "audiobridge-mjr-rtp-" });
    await using gw = await startAudioBridgeGateway();
    const c = await wsClient(gw.wsUrl);
    const web = new ToneClient(wrtc, 440);
    const rtp = new RtpToneClient(1000);
    try {
      const admin = await AbHandle.open(c);
      await admin.sync({
        request: "create",
        room: 84,
        allow_rtp_participants: true,
        mjrs_dir: dir,
      });
      const webHandle = await AbHandle.open(c);
      await webHandle.joinWith(web, { room: 84, id: 1 });
      const rtpHandle = await AbHandle.open(c);
      await joinRtp(rtpHandle, rtp, { room: 84, id: 2, record: true, filename: "rtp-two" });
      const exists = (path: string) => {
        try {
          return Deno.statSync(path).isFile;
        } catch {
          return false;
        }
      };
      await waitUntil("the file", () => exists(join(dir, "rtp-two-audio.mjr")), 5000);
      assert.deepEqual(await filesIn(dir), ["rtp-two-audio.mjr"]);
      assert.equal((await handleInfo(gw, rtpHandle))["audio-recording"], "rtp-two-audio.mjr");
      await sleep(2500);
      assert.deepEqual((await rtpHandle.ask({ request: "leave" })).data, {
        audiobridge: "left",
        room: 84,
        id: 2,
      });
      const mjr = join(dir, "rtp-two-audio.mjr");
      const packets = await mjrPackets(mjr);
      await sleep(300);
      assert.equal(await mjrPackets(mjr), packets, "the file stops growing after leave");
      const x = await convert(mjr, "opus", [440, 1000]);
      assert.equal(x.codec, "opus", shown(x));
      assert.ok(x.seconds > 2 && x.seconds < 4, `about 2.5 s recorded ${shown(x)}`);
      // Its own tone only: the mix it hears (440 Hz) is not what it sent.
      assert.ok(x.powers[1000]! > PRESENT, shown(x));
      assert.ok(x.powers[440]! < ABSENT, shown(x));
      for (const h of [rtpHandle, webHandle]) await h.close();
      await admin.sync({ request: "destroy", room: 84 });
      await admin.close();
    } finally {
      web.close();
      rtp.close();
      await c.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
    await assertMixingReleased(gw, 1);
  },
);
