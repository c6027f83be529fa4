/**
 * The default `deno task fuzz` run (about a minute): malformed and mutated requests over
 * HTTP, WebSocket and admin never crash the gateway, every reply is Janus JSON (or a
 * plain status the reference also gives), and nothing leaks.
 *
 * @module
 */
import assert from "node:assert/strict";
import { DEFAULT_REQUESTS, runFuzz, summaryLine } from "../../fuzz/run.ts";

Deno.test("fuzz: the default run finds no crash, no non-Janus reply and no leak", async () => {
  // A fresh seed each run widens coverage; a failure prints it with the case to replay.
  const seed = Math.floor(Math.random() * 2 ** 31);
  const summary = await runFuzz({ seed, requests: DEFAULT_REQUESTS });
  const report = [
    summaryLine(summary),
    ...summary.failures.map((f) =>
      `${f.kind}: case ${f.caseIndex}: ${f.what}\n    got: ${f.got}\n    replay: deno task fuzz --seed ${seed} --case ${f.caseIndex}`
    ),
  ].join("\n");
  assert.ok(summary.requests >= DEFAULT_REQUESTS, report);
  assert.equal(summary.crashes, 0, report);
  assert.equal(summary.nonJanus, 0, report);
  assert.equal(summary.unexpected, 0, report);
  assert.equal(summary.timeouts, 0, report);
  assert.equal(summary.leakedSessions, 0, report);
  assert.deepEqual(summary.leaks, {}, report);
  assert.deepEqual(summary.failures, [], report);
});
