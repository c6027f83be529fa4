/**
 * The media worker's trimmer: requests within the delay make one trim; a cancelled one never
 * runs; without a trim function (not glibc) it does nothing.
 */
import assert from "node:assert/strict";
import { createTrimmer, libcMallocTrim } from "../../core/media/malloc_trim.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("requests within the delay make one trim, later ones another", async () => {
  let trims = 0;
  const trimmer = createTrimmer(() => void trims++, 20);
  trimmer.soon();
  trimmer.soon();
  trimmer.soon();
  assert.equal(trims, 0);
  await sleep(60);
  assert.equal(trims, 1);
  trimmer.soon();
  await sleep(60);
  assert.equal(trims, 2);
});

Deno.test("a cancelled trim never runs", async () => {
  let trims = 0;
  const trimmer = createTrimmer(() => void trims++, 20);
  trimmer.soon();
  trimmer.cancel();
  await sleep(60);
  assert.equal(trims, 0);
});

Deno.test("without a trim function the trimmer does nothing", async () => {
  const trimmer = createTrimmer(undefined, 1);
  trimmer.soon();
  await sleep(10);
  trimmer.cancel();
});

Deno.test("glibc's malloc_trim is found and can be called on Linux", () => {
  const trim = libcMallocTrim();
  if (Deno.build.os !== "linux") return;
  assert.ok(trim, "libc.so.6 opens");
  trim();
});
