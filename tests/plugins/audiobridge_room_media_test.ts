/**
 * AudioBridge room media with real wrtc peers: an Ogg/Opus 880 Hz file made by ffmpeg is played
 * into a room (`play_file`) and heard by a participant (by frequency) until it ends, with
 * `announcement-started`/`announcement-stopped` and `is_playing`; `enable_recording` writes the
 * room's full mix as WAV (ffprobe reads its duration, the 440 Hz speaker is in it); an
 * `rtp_forward` of the mix as Opus to loopback is decoded by ffmpeg from an SDP file and holds
 * the tone, and so does an SRTP one (AES_CM_128_HMAC_SHA1_32, the key in the SDP's a=crypto);
 * `listforwarders`/`stop_rtp_forward` act on them; bad requests get the reference's errors. Runs in the test network namespace.
 *
 * Run: `deno task test tests/plugins/audiobridge_room_media_test.ts`
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { JsonObject } from "../../core/protocol.ts";
import { freeEvenUdpPort } from "../_helpers/udp_port.ts";
import { wsClient } from "../_helpers/janus_client.ts";
import { goertzel, waitUntil, wrtcTest } from "../media/_client.ts";
import { ffmpegFromSdp, ffprobe, requireTool, writeStreamSdp } from "../media/_mjr_tools.ts";
import { abErr, AbHandle, audioBridgeCounts, startAudioBridgeGateway } from "./_audiobridge.ts";
import { ToneClient } from "./_audiobridge_tone.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the listener's last second of 880 Hz is above (true) or below `HEARD`/`ABSENT`. */
async function await880(c: ToneClient, heard: boolean, what: string): Promise<void> {
  await waitUntil(what, () => {
    const p = c.powers(FREQS)[880]!;
    return heard ? p > HEARD : p < ABSENT;
  }, 5000).catch((e) => {
    throw new Error(`${e}: ${JSON.stringify(c.powers(FREQS))}`);
  });
}
const R = 77;
const FREQS = [440, 880];
/** A tone is heard at over a hundredth of a 8000-peak tone's power, absent under 1e-4. */
const HEARD = 1.6e5;
const ABSENT = 1.6e3;

async function run(cmd: string, args: string[]): Promise<Uint8Array> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd}: ${new TextDecoder().decode(out.stderr)}`);
  return out.stdout;
}

/** Mean power of `f` over 100 ms blocks of 16-bit mono PCM. */
function tonePower(pcm: Int16Array, rate: number, f: number): number {
  const block = Math.round(rate / 10);
  const blocks = Math.floor(pcm.length / block);
  let sum = 0;
  for (let b = 0; b < blocks; b++) {
    sum += goertzel(Float32Array.from(pcm.subarray(b * block, (b + 1) * block)), rate, f);
  }
  return blocks > 0 ? sum / blocks : 0;
}

/** The samples of a 16-bit mono WAV (the data chunk after a 44-byte header). */
function wavSamples(bytes: Uint8Array): Int16Array {
  const body = bytes.slice(44);
  return new Int16Array(body.buffer, 0, body.length >> 1);
}

wrtcTest(
  "audiobridge room media: play_file heard by frequency, WAV recording of the mix, rtp_forward decoded by ffmpeg",
  async (wrtc) => {
    await requireTool("ffmpeg", "ffmpeg");
    const dir = await Deno.makeTempDir({ prefix: "ab_room_media_" });
    const file = join(dir, "tone880.opus");
    await run("ffmpeg", [
      "-hide_banner",
      "-loglevel",
      "error",
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=880:duration=3",
      "-c:a",
      "libopus",
      file,
    ]);
    await using gw = await startAudioBridgeGateway();
    const c = await wsClient(gw.wsUrl);
    const speaker = new ToneClient(wrtc, 440);
    const listener = new ToneClient(wrtc, 440);
    listener.amplitude = 0;
    const events: JsonObject[] = [];
    let collecting = true;
    try {
      const admin = await AbHandle.open(c);
      await admin.sync({ request: "create", room: R, sampling_rate: 16000, secret: "s3" });
      const handles: AbHandle[] = [];
      for (const [i, client] of [speaker, listener].entries()) {
        const h = await AbHandle.open(c);
        handles.push(h);
        await h.joinWith(client, { room: R, id: i + 1 });
      }
      const collector = (async () => {
        while (collecting) {
          const e = await handles[1]!.any(100);
          if (e?.janus === "event") events.push((e.plugindata as JsonObject).data as JsonObject);
        }
      })();
      await waitUntil("audio at the listener", () => listener.received > listener.rate * 2, 10000);
      const before = listener.powers(FREQS);
      assert.ok(before[440]! > HEARD && before[880]! < ABSENT, JSON.stringify(before));

      // Bad requests first: the reference's codes.
      assert.deepEqual(
        await admin.sync({ request: "play_file", room: R, secret: "s3" }),
        abErr(483, "Missing mandatory element (filename)"),
      );
      assert.deepEqual(
        await admin.sync({ request: "play_file", room: R, filename: file }),
        abErr(483, "Missing mandatory element (secret)"),
      );
      assert.deepEqual(
        await admin.sync({
          request: "play_file",
          room: R,
          secret: "s3",
          filename: join(dir, "none.opus"),
        }),
        abErr(499, "Error opening file"),
      );

      // play_file: the listener hears 880 Hz, then the file ends.
      const played = await admin.sync({
        request: "play_file",
        room: R,
        secret: "s3",
        filename: file,
        file_id: "tone",
      });
      assert.deepEqual(played, { audiobridge: "success", room: R, file_id: "tone" });
      assert.deepEqual(
        await admin.sync({
          request: "play_file",
          room: R,
          secret: "s3",
          filename: file,
          file_id: "tone",
        }),
        abErr(490, "File ID exists (tone)"),
      );
      await await880(listener, true, "880 Hz while playing");
      assert.equal(
        (await admin.sync({ request: "is_playing", room: R, secret: "s3", file_id: "tone" }))
          .playing,
        true,
      );
      await waitUntil(
        "announcement-stopped",
        () => events.some((e) => e.audiobridge === "announcement-stopped"),
        5000,
      );
      assert.deepEqual(
        events.filter((e) => String(e.audiobridge).startsWith("announcement")),
        [
          { audiobridge: "announcement-started", room: R, file_id: "tone" },
          { audiobridge: "announcement-stopped", room: R, file_id: "tone" },
        ],
      );
      assert.equal(
        (await admin.sync({ request: "is_playing", room: R, secret: "s3", file_id: "tone" }))
          .playing,
        false,
      );
      await await880(listener, false, "no 880 Hz after the end");

      // A looped file stops on stop_file.
      await admin.sync({
        request: "play_file",
        room: R,
        secret: "s3",
        filename: file,
        file_id: "loop",
        loop: true,
      });
      await sleep(4000);
      await await880(listener, true, "a looped file still playing after its end");
      assert.deepEqual(
        await admin.sync({ request: "stop_file", room: R, secret: "s3", file_id: "loop" }),
        { audiobridge: "success", room: R, file_id: "loop" },
      );
      await await880(listener, false, "stop_file silencing it");

      // Recording the full mix (the 440 Hz speaker) to WAV.
      const recDir = join(dir, "rec");
      const recStart = performance.now();
      assert.deepEqual(
        await admin.sync({
          request: "enable_recording",
          room: R,
          secret: "s3",
          record: true,
          record_dir: recDir,
          record_file: "mix.wav",
        }),
        { audiobridge: "success", record: true },
      );
      await sleep(3000);
      await admin.sync({ request: "enable_recording", room: R, secret: "s3", record: false });
      // What was recorded lies within the requests' round trips (long on a loaded machine).
      const recSeconds = (performance.now() - recStart) / 1000;
      await sleep(300);
      const wav = join(recDir, "mix.wav");
      const probe = await ffprobe(wav);
      assert.ok(
        probe.duration > 2.5 && probe.duration < recSeconds + 0.1,
        `recorded ${probe.duration} s in ${recSeconds.toFixed(2)} s`,
      );
      const rec = wavSamples(await Deno.readFile(wav));
      assert.equal(rec.length, Math.round(probe.duration * 16000));
      const recPower = tonePower(rec, 16000, 440);
      assert.ok(recPower > HEARD, `440 Hz in the recording: ${recPower}`);
      assert.ok(tonePower(rec, 16000, 880) < recPower / 1000, "no 880 Hz in the recording");

      // rtp_forward of the mix as Opus, decoded by ffmpeg from an SDP file.
      assert.deepEqual(
        await admin.sync({
          request: "rtp_forward",
          room: R,
          secret: "s3",
          host: "127.0.0.1",
          port: 5000,
          codec: "g722",
        }),
        abErr(484, "Unsupported codec (g722)"),
      );
      // SRTP: a bad suite is refused before the room; a crypto of fewer than 30 bytes makes no
      // forwarder yet answers success with stream_id 0, as the reference.
      assert.deepEqual(
        await admin.sync({
          request: "rtp_forward",
          room: R,
          secret: "s3",
          host: "127.0.0.1",
          port: 5000,
          srtp_suite: 40,
          srtp_crypto: "abc",
        }),
        abErr(484, "Invalid SRTP suite (40)"),
      );
      assert.deepEqual(
        await admin.sync({
          request: "rtp_forward",
          room: R,
          secret: "s3",
          host: "127.0.0.1",
          port: 5000,
          srtp_suite: 80,
          srtp_crypto: "abc",
        }),
        { audiobridge: "success", room: R, stream_id: 0, host: "127.0.0.1", port: 5000 },
      );
      const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(30))));
      /** ffmpeg decoding 2 s of the mix from an SDP file for `port` into `name`.wav. */
      const decode = async (name: string, port: number, srtp: boolean) => {
        const sdp = join(dir, `${name}.sdp`);
        await writeStreamSdp(sdp, {
          kind: "audio",
          port,
          rtpmap: "opus/48000/2",
          crypto: srtp ? { suite: "AES_CM_128_HMAC_SHA1_32", key } : undefined,
        });
        const wav = join(dir, `${name}.wav`);
        const out = await ffmpegFromSdp(
          sdp,
          ["-t", "2", "-ac", "1", "-ar", "16000", "-f", "wav", wav],
          AbortSignal.timeout(20_000),
        );
        assert.ok(out.success, `${name}: ${new TextDecoder().decode(out.stderr)}`);
        return tonePower(wavSamples(await Deno.readFile(wav)), 16000, 440);
      };
      const port = await freeEvenUdpPort();
      const srtpPort = await freeEvenUdpPort();
      const plainPower = decode("fwd", port, false);
      const srtpPower = decode("srtp", srtpPort, true);
      await sleep(700);
      const fwd = await admin.sync({
        request: "rtp_forward",
        room: R,
        secret: "s3",
        host: "127.0.0.1",
        port,
        ssrc: 4321,
      });
      assert.equal(fwd.audiobridge, "success");
      assert.equal(fwd.port, port);
      const streamId = fwd.stream_id as number;
      const srtpFwd = await admin.sync({
        request: "rtp_forward",
        room: R,
        secret: "s3",
        host: "127.0.0.1",
        port: srtpPort,
        ssrc: 4322,
        srtp_suite: 32,
        srtp_crypto: key,
      });
      assert.equal(srtpFwd.audiobridge, "success");
      const srtpId = srtpFwd.stream_id as number;
      const list = await admin.sync({ request: "listforwarders", room: R, secret: "s3" });
      assert.deepEqual(list, {
        audiobridge: "forwarders",
        room: R,
        rtp_forwarders: [{
          stream_id: streamId,
          ip: "127.0.0.1",
          port,
          ssrc: 4321,
          codec: "opus",
          ptype: 100,
          always_on: false,
        }, {
          stream_id: srtpId,
          ip: "127.0.0.1",
          port: srtpPort,
          ssrc: 4322,
          codec: "opus",
          ptype: 100,
          srtp: true,
          always_on: false,
        }],
      });
      const fwdPower = await plainPower;
      assert.ok(fwdPower > HEARD, `440 Hz in the forwarded mix: ${fwdPower}`);
      const srtpFwdPower = await srtpPower;
      assert.ok(srtpFwdPower > HEARD, `440 Hz in the SRTP-forwarded mix: ${srtpFwdPower}`);
      for (const id of [streamId, srtpId]) {
        assert.deepEqual(
          await admin.sync({ request: "stop_rtp_forward", room: R, secret: "s3", stream_id: id }),
          { audiobridge: "success", room: R, stream_id: id },
        );
      }
      assert.deepEqual(
        (await admin.sync({ request: "listforwarders", room: R, secret: "s3" })).rtp_forwarders,
        [],
      );

      collecting = false;
      await collector;
      for (const h of [...handles, admin]) await h.close();
    } finally {
      collecting = false;
      speaker.close();
      listener.close();
      await c.close();
      await Deno.remove(dir, { recursive: true });
    }
    assert.deepEqual(audioBridgeCounts(gw), { rooms: 2, participants: 0, sessions: 0 });
  },
);
