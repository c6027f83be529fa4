/**
 * Record&Play's data playout without a PeerConnection: a `binary` data recording reads back as
 * bytes and a `text` one as strings, timed from the file's creation; the playout sends each
 * message at its time, in order, and a message refused (no open data channel yet) is tried
 * again without losing or reordering the ones after it; `stop` ends it.
 *
 * Run: `deno test -A tests/plugins/recordplay_data_playout_test.ts`
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { MjrWriter, openMjrFile } from "../../core/media/rtp/mjr_writer.ts";
import { DataPlayout, readDataRecording } from "../../plugins/recordplay/data_playout.ts";
import { waitUntil } from "../media/_client.ts";

Deno.test("recordplay data playout: text and binary files, times, order, a refused send retried", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rp-data-" });
  try {
    const created = Date.now() * 1000;
    const binPath = join(dir, "bin-data.mjr");
    const bin = new MjrWriter(openMjrFile(binPath), { kind: "data", codec: "binary" });
    bin.writeData(new Uint8Array([1, 2, 3]), 0, created + 50_000);
    bin.close();
    const read = await readDataRecording(binPath);
    assert.ok(read && read.length === 1);
    assert.deepEqual(read[0]!.data, new Uint8Array([1, 2, 3]));
    assert.ok(Math.abs(read[0]!.atMs - 50) < 20, `${read[0]!.atMs} ms`);
    assert.equal(await readDataRecording(join(dir, "missing.mjr")), undefined);

    const textPath = join(dir, "text-data.mjr");
    const text = new MjrWriter(openMjrFile(textPath), { kind: "data", codec: "text" });
    for (const [i, word] of ["one", "two", "three"].entries()) {
      text.writeData(new TextEncoder().encode(word), 0, Date.now() * 1000 + 100_000 + i * 150_000);
    }
    text.close();
    const messages = await readDataRecording(textPath);
    assert.deepEqual(messages?.map((m) => m.data), ["one", "two", "three"]);

    // The channel is not open for the first 250 ms: "one" waits, then all go in order.
    const got: { data: string | Uint8Array; at: number }[] = [];
    let refusals = 0;
    const opensAt = performance.now() + 250;
    const playout = new DataPlayout(messages!, (data) => {
      if (performance.now() < opensAt) {
        refusals++;
        return Promise.reject(new Error("No open data channel"));
      }
      got.push({ data, at: performance.now() });
      return Promise.resolve();
    });
    const start = performance.now();
    playout.start();
    await waitUntil("three messages", () => got.length === 3, 3000);
    assert.deepEqual(got.map((g) => g.data), ["one", "two", "three"]);
    assert.ok(refusals > 0, "the first message was refused at first");
    assert.ok(got[0]!.at - start >= 240, "sent once the channel opened");
    // The third is due 400 ms in: sent on time, not early.
    assert.ok(got[2]!.at - start >= 390 && got[2]!.at - start < 900, `${got[2]!.at - start} ms`);
    assert.equal(playout.sent, 3);

    // A stopped playout sends nothing more.
    const late = new DataPlayout([{ atMs: 50, data: "late" }], (data) => {
      got.push({ data, at: performance.now() });
      return Promise.resolve();
    });
    late.start();
    late.stop();
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(got.length, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
