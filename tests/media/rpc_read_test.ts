/**
 * The RPC's line reader on byte streams (Deno's pipes): every read goes into the reader's one
 * buffer (no fresh 64 KiB buffer per read, which kept glibc's heap growing in idle media
 * workers), and lines and UTF-8 characters split across reads come out whole.
 */
import assert from "node:assert/strict";
import { readChunks, readLines } from "../../core/media/rpc.ts";

/** A byte stream that hands out `parts` one per pull, recording how each pull was asked. */
function byteStream(parts: Uint8Array[]) {
  const asked: { byob: boolean; bytes: number }[] = [];
  const stream = new ReadableStream({
    type: "bytes",
    pull(controller) {
      const part = parts.shift();
      const request = controller.byobRequest;
      asked.push({ byob: request !== null, bytes: request?.view?.byteLength ?? 0 });
      if (!part) {
        controller.close();
        request?.respond(0);
        return;
      }
      if (request?.view) {
        new Uint8Array(request.view.buffer, request.view.byteOffset).set(part);
        request.respond(part.length);
      } else {
        controller.enqueue(part);
      }
    },
  });
  return { stream, asked };
}

Deno.test("readLines reads a byte stream into its own buffer and keeps split characters", async () => {
  const bytes = new TextEncoder().encode('{"a":"é€"}\n{"b":2}\n{"c":"日本"}');
  // Cut inside "é", inside "€", inside a line and inside "日".
  const cuts = [7, 9, 15, 27, bytes.length];
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const cut of cuts) {
    parts.push(bytes.slice(at, cut));
    at = cut;
  }
  const { stream, asked } = byteStream(parts);
  const lines: string[] = [];
  for await (const line of readLines(stream)) lines.push(line);
  assert.deepEqual(lines, ['{"a":"é€"}', '{"b":2}', '{"c":"日本"}']);
  assert.ok(asked.length >= parts.length);
  for (const a of asked) assert.deepEqual(a, { byob: true, bytes: 64 * 1024 }, JSON.stringify(a));
});

Deno.test("a child's stdout is a byte stream, read whole through readChunks", async () => {
  const spawn = () =>
    new Deno.Command("sh", {
      args: ["-c", "for i in 1 2 3 4 5; do echo line$i; sleep 0.02; done"],
      stdout: "piped",
    }).spawn();
  // The media workers' pipes take the one-buffer path (a BYOB reader), not the fallback.
  const probe = spawn();
  probe.stdout.getReader({ mode: "byob" }).releaseLock();
  await probe.stdout.cancel();
  await probe.status;
  const child = spawn();
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of readChunks(child.stdout)) {
    text += decoder.decode(chunk, { stream: true });
  }
  await child.status;
  assert.equal(text, "line1\nline2\nline3\nline4\nline5\n");
});

Deno.test("readLines still reads a stream that is not a byte stream", async () => {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  void writer.write(new TextEncoder().encode("one\ntw")).then(() =>
    writer.write(new TextEncoder().encode("o\n"))
  ).then(() => writer.close());
  const lines: string[] = [];
  for await (const line of readLines(readable)) lines.push(line);
  assert.deepEqual(lines, ["one", "two"]);
});
