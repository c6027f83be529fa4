/**
 * Heap per queued event: 10,000 ordinary plugin events (EchoTest results, VideoRoom
 * `publishers` notifications) pushed into a session's `EventQueue` while nobody polls,
 * measured with `Deno.memoryUsage()` after full GCs, against the JSON bytes the queue
 * counts. The figure sizes `limits.event_queue_bytes`.
 *
 * `deno run --allow-all --v8-flags=--expose-gc bench/event_queue_memory.ts`
 *
 * @module
 */
import { EventQueue } from "../core/event_queue.ts";
import type { JsonObject } from "../core/protocol.ts";

const EVENTS = 10_000;

/** An EchoTest answer as the core queues it. */
function echotestEvent(i: number): JsonObject {
  return {
    janus: "event",
    session_id: 4_000_000_000_000 + i,
    sender: 7_000_000_000_000 + i,
    transaction: `tx-${i.toString(36)}-abcdef`,
    plugindata: { plugin: "janus.plugin.echotest", data: { echotest: "event", result: "ok" } },
  };
}

/** A VideoRoom `publishers` notification for one new publisher with audio and video. */
function publishersEvent(i: number): JsonObject {
  return {
    janus: "event",
    session_id: 4_000_000_000_000 + i,
    sender: 7_000_000_000_000 + i,
    plugindata: {
      plugin: "janus.plugin.videoroom",
      data: {
        videoroom: "event",
        room: 1234,
        publishers: [{
          id: 1_000_000_000 + i,
          display: `Participant ${i}`,
          audio_codec: "opus",
          video_codec: "vp8",
          streams: [
            { type: "audio", mindex: 0, mid: "0", codec: "opus", fec: true, talking: false },
            { type: "video", mindex: 1, mid: "1", codec: "vp8", simulcast: false },
          ],
          talking: false,
        }],
      },
    },
  };
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (!collect) throw new Error("run with --v8-flags=--expose-gc");
  for (let i = 0; i < 3; i++) collect();
}

function measure(name: string, make: (i: number) => JsonObject): void {
  gc();
  const before = Deno.memoryUsage().heapUsed;
  const queue = new EventQueue({ maxBytes: Number.MAX_SAFE_INTEGER });
  const started = performance.now();
  for (let i = 0; i < EVENTS; i++) queue.push(make(i));
  const pushMs = performance.now() - started;
  gc();
  const heap = Deno.memoryUsage().heapUsed - before;
  const json = queue.bytes;
  const line = [
    `${name}: ${EVENTS} events queued`,
    `JSON ${(json / EVENTS).toFixed(0)} B/event`,
    `heap ${(heap / EVENTS).toFixed(0)} B/event`,
    `heap/JSON ${(heap / json).toFixed(2)}`,
    `push ${(pushMs * 1000 / EVENTS).toFixed(2)} us/event`,
  ].join(", ");
  // Keeps the queue alive through the second measurement.
  if (queue.take(EVENTS).length !== EVENTS) throw new Error("events lost");
  Deno.stdout.writeSync(new TextEncoder().encode(line + "\n"));
}

measure("echotest", echotestEvent);
measure("videoroom publishers", publishersEvent);
