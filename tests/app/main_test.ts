import assert from "node:assert/strict";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

function spawnMain(env: Record<string, string>): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN],
    env: {
      JANUS_BIND: "127.0.0.1",
      JANUS_HTTP_PORT: "0",
      JANUS_WS_PORT: "0",
      JANUS_MEDIA_WORKERS: "0",
      ...env,
    },
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

/** Reads stderr until the "listening" line; returns the ports and the rest of the stream. */
async function waitListening(
  child: Deno.ChildProcess,
): Promise<{ ports: Record<string, number>; log: () => Promise<string> }> {
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`gateway exited before listening:\n${text}`);
    text += value;
    const m = /listening: (\{.*\})/.exec(text);
    if (m?.[1]) {
      return {
        ports: JSON.parse(m[1]) as Record<string, number>,
        log: async () => {
          for (;;) {
            const r = await reader.read();
            if (r.done) return text;
            text += r.value;
          }
        },
      };
    }
  }
}

Deno.test("main.ts on SIGTERM destroys its sessions and exits 0 within 5 s", async () => {
  const child = spawnMain({ JANUS_LOG_LEVEL: "4" });
  const { ports, log } = await waitListening(child);
  const base = `http://127.0.0.1:${ports.http}/janus`;
  const created = await (await fetch(base, {
    method: "POST",
    body: JSON.stringify({ janus: "create", transaction: "c" }),
  })).json();
  assert.equal(created.janus, "success");
  const started = performance.now();
  child.kill("SIGTERM");
  const [status, text] = await Promise.all([child.status, log()]);
  const elapsed = performance.now() - started;
  assert.equal(status.code, 0, text);
  assert.ok(elapsed < 5000, `stopped in ${elapsed} ms`);
  assert.match(text, /SIGTERM: stopping/);
  assert.match(text, /admin API off/);
});

Deno.test("main.ts with an invalid JANUS_HTTP_PORT stops with the key and the expected form", async () => {
  const child = spawnMain({ JANUS_HTTP_PORT: "eighty" });
  const [status, out] = await Promise.all([
    child.status,
    new Response(child.stderr).text(),
  ]);
  assert.equal(status.code, 2);
  assert.match(out, /Invalid JANUS_HTTP_PORT: expected an integer from 0 to 65535, got 'eighty'/);
});
