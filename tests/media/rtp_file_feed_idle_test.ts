/**
 * A Streaming file feed nobody listens to sends nothing and checks only every
 * `IDLE_CHECK_MS` (not every 20 ms packet); a live file's position follows the clock meanwhile,
 * so its first packet heard is the one due now, while an on-demand file starts where it was.
 */
import assert from "node:assert/strict";
import { FileFeed, IDLE_CHECK_MS } from "../../core/media/rtp/file_feed.ts";
import { sequenceNumber, timestamp } from "../../core/media/rtp/header.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A mu-law file of `packets` 20 ms packets (160 bytes each). */
function mulawFile(dir: string, packets: number): string {
  const path = `${dir}/tone.mulaw`;
  Deno.writeFileSync(path, new Uint8Array(160 * packets).fill(0x7f));
  return path;
}

/** Runs `feed` unheard for `idleMs`, then heard until its first packet; what it saw. */
async function idleThenHeard(
  feed: FileFeed,
  idleMs: number,
): Promise<{ checks: number; sentIdle: number; first: Uint8Array }> {
  let heard = false;
  let checks = 0;
  let sentIdle = 0;
  const first = Promise.withResolvers<Uint8Array>();
  feed.ready = () => {
    checks++;
    return heard;
  };
  feed.onPacket = (packet) => {
    if (!heard) sentIdle++;
    else first.resolve(packet.slice());
  };
  await sleep(idleMs);
  const idleChecks = checks;
  heard = true;
  const packet = await first.promise;
  return { checks: idleChecks, sentIdle, first: packet };
}

Deno.test("an unheard live file sends nothing, checks rarely and plays on with the clock", async () => {
  const dir = Deno.makeTempDirSync();
  const feed = new FileFeed(mulawFile(dir, 500), 0, true);
  try {
    const idleMs = 600;
    const { checks, sentIdle, first } = await idleThenHeard(feed, idleMs);
    assert.equal(sentIdle, 0, "nothing sent while nobody listens");
    // Every 20 ms that would be 30 checks; every 100 ms about 6 (and one at the first tick).
    assert.ok(checks <= idleMs / IDLE_CHECK_MS + 3, `${checks} checks in ${idleMs} ms`);
    // Its position moved on by the time gone: about 30 packets, not the first.
    const seq = sequenceNumber(first);
    assert.ok(seq >= 1 + 25 && seq <= 1 + 45, `first packet heard is #${seq}`);
    assert.equal(timestamp(first), (seq - 1) * 160, "timestamp in step with the position");
  } finally {
    feed.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("an on-demand file waits for its viewer and starts where it was", async () => {
  const dir = Deno.makeTempDirSync();
  const feed = new FileFeed(mulawFile(dir, 500), 0, false);
  try {
    const { checks, sentIdle, first } = await idleThenHeard(feed, 400);
    assert.equal(sentIdle, 0);
    assert.ok(checks <= 400 / IDLE_CHECK_MS + 3, `${checks} checks in 400 ms`);
    assert.equal(sequenceNumber(first), 1);
    assert.equal(timestamp(first), 0);
  } finally {
    feed.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
