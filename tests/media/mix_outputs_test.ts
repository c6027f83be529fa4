/**
 * AudioBridge's room media pieces without a gateway: the WAV writer (a file never closed, as
 * after a crash, is read by ffprobe up to its last header fix-up; a closed one has every
 * sample), the Ogg/Opus demuxer on an ffmpeg-made file (duration, packets, decodable), and
 * G.711 of known samples.
 *
 * Run: `deno test -A tests/media/mix_outputs_test.ts`
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { linearToAlaw, linearToUlaw } from "../../core/media/audio_rtp.ts";
import { WavWriter } from "../../core/media/mix_outputs.ts";
import { parseOggOpus } from "../../core/media/ogg_opus.ts";
import { OpusDecoder } from "../../core/media/opus_codec.ts";
import { ffprobe, requireTool } from "./_mjr_tools.ts";

Deno.test("WAV writer: readable when never closed, exact when closed", async () => {
  await requireTool("ffprobe", "ffmpeg");
  const dir = await Deno.makeTempDir({ prefix: "wav_writer_" });
  try {
    const frame = new Int16Array(320).map((_, i) => Math.round(8000 * Math.sin(i / 3)));
    const crashed = join(dir, "crashed.wav");
    const w = new WavWriter(crashed, 16000);
    // 60 periods of 20 ms: the header was last brought up to date at 50 (1 s).
    for (let i = 0; i < 60; i++) w.write(frame);
    const partial = await ffprobe(crashed);
    assert.ok(Math.abs(partial.duration - 1) < 0.01, `unclosed: ${partial.duration} s`);
    w.close();
    const closed = await ffprobe(crashed);
    assert.ok(Math.abs(closed.duration - 1.2) < 0.01, `closed: ${closed.duration} s`);
    assert.equal(closed.streams[0]?.codec_name, "pcm_s16le");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Ogg/Opus demuxer: an ffmpeg-made 2 s tone, its duration and decodable packets", async () => {
  await requireTool("ffmpeg", "ffmpeg");
  const dir = await Deno.makeTempDir({ prefix: "ogg_opus_" });
  try {
    const file = join(dir, "t.opus");
    const out = await new Deno.Command("ffmpeg", {
      args: ["-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=880:duration=2"]
        .concat(["-c:a", "libopus", file]),
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const ogg = parseOggOpus(await Deno.readFile(file));
    assert.equal(ogg.channels, 1);
    assert.ok(Math.abs(ogg.durationMs - 2000) < 25, `${ogg.durationMs} ms`);
    // 20 ms packets.
    assert.ok(Math.abs(ogg.packets.length - 100) <= 1, `${ogg.packets.length} packets`);
    const dec = new OpusDecoder(16000, ogg.channels);
    const pcm = dec.decode(ogg.packets[10]!);
    dec.close();
    assert.equal(pcm.length, 320);
    assert.ok(pcm.some((s) => Math.abs(s) > 0.05), "sound decoded");
    assert.throws(
      () => parseOggOpus(new TextEncoder().encode("not ogg at all, no, not even close to it")),
      /Not an Ogg file/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("G.711: known A-law and mu-law codes", () => {
  assert.equal(linearToAlaw(0), 0xd5);
  assert.equal(linearToAlaw(-1), 0x55);
  assert.equal(linearToAlaw(32767), 0xaa);
  assert.equal(linearToAlaw(-32768), 0x2a);
  assert.equal(linearToUlaw(0), 0xff);
  assert.equal(linearToUlaw(32767), 0x80);
  assert.equal(linearToUlaw(-32768), 0x00);
});
