/**
 * Starts `gateway_child.ts` in a separate Deno process and talks to it over
 * its stdin/stdout, so that client load and server CPU/memory stay apart.
 *
 * @module
 */
import type { ChildReady, ChildStats } from "./gateway_child.ts";
import type { Endpoint } from "./janus_client.ts";
import { print } from "./print.ts";

const CHILD = new URL("./gateway_child.ts", import.meta.url);
const REPO = new URL("../", import.meta.url);

/** A running gateway child process. */
export class GatewayChild {
  readonly pid: number;
  readonly endpoint: Endpoint;
  readonly #process: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: AsyncIterator<string>;
  #exited = false;

  private constructor(
    process: Deno.ChildProcess,
    lines: AsyncIterator<string>,
    ready: ChildReady,
  ) {
    this.#process = process;
    this.#lines = lines;
    this.#writer = process.stdin.getWriter();
    this.pid = ready.pid;
    this.endpoint = {
      host: "127.0.0.1",
      httpPort: ready.http,
      basePath: "/janus",
      wsPort: ready.ws,
    };
    void process.status.then(() => this.#exited = true);
  }

  /** Spawns the child (with `--expose-gc`) and waits for its `ready` line. */
  static async start(options: { wsRateLimit: number; timeoutMs: number }): Promise<GatewayChild> {
    const process = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--v8-flags=--expose-gc",
        ...(Deno.env.get("BENCH_CPU_PROF")
          ? ["--cpu-prof", `--cpu-prof-dir=${Deno.env.get("BENCH_CPU_PROF")}`]
          : []),
        CHILD.pathname,
        `--ws-rate-limit=${options.wsRateLimit}`,
      ],
      cwd: REPO.pathname,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    void relayStderr(process.stderr);
    const lines = process.stdout
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(splitLines())[Symbol.asyncIterator]();
    const timer = setTimeout(() => {
      try {
        process.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, Math.max(options.timeoutMs, 30_000));
    try {
      const ready = await nextJson(lines);
      if (ready.type !== "ready") throw new Error(`gateway child said ${JSON.stringify(ready)}`);
      return new GatewayChild(process, lines, ready as unknown as ChildReady);
    } catch (e) {
      try {
        process.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await process.status;
      throw new Error(`gateway child did not start: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Live object counts and V8 heap figures of the child. */
  stats(): Promise<ChildStats> {
    return this.#command("stats");
  }

  /** Runs a full GC in the child, then reports like `stats`. */
  gc(): Promise<ChildStats> {
    return this.#command("gc");
  }

  /** Stops the gateway gracefully; resolves its last counts (undefined if it had to be killed). */
  async stop(): Promise<ChildStats | undefined> {
    if (this.#exited) return undefined;
    let last: ChildStats | undefined;
    const timer = setTimeout(() => this.#kill(), 10_000);
    try {
      await this.#writer.write(new TextEncoder().encode("stop\n"));
      await this.#writer.close().catch(() => {});
      last = await nextJson(this.#lines) as unknown as ChildStats;
    } catch {
      this.#kill();
    } finally {
      clearTimeout(timer);
    }
    await this.#process.status;
    return last;
  }

  #kill(): void {
    try {
      this.#process.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }

  async #command(command: "stats" | "gc"): Promise<ChildStats> {
    if (this.#exited) throw new Error("gateway child has exited");
    await this.#writer.write(new TextEncoder().encode(`${command}\n`));
    return await nextJson(this.#lines) as unknown as ChildStats;
  }
}

/** Prints the child's stderr lines, marked as the gateway's. */
async function relayStderr(stream: ReadableStream<Uint8Array>): Promise<void> {
  try {
    for await (
      const line of stream.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines())
    ) {
      if (line.trim() !== "") print(`  [gateway stderr] ${line}`);
    }
  } catch {
    // The child is gone.
  }
}

async function nextJson(lines: AsyncIterator<string>): Promise<Record<string, unknown>> {
  for (;;) {
    const next = await lines.next();
    if (next.done) throw new Error("gateway child closed its stdout");
    const line = next.value.trim();
    if (!line.startsWith("{")) continue;
    const value: unknown = JSON.parse(line);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  }
}

function splitLines(): TransformStream<string, string> {
  let pending = "";
  return new TransformStream({
    transform(chunk, controller) {
      pending += chunk;
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      for (const part of parts) controller.enqueue(part);
    },
    flush(controller) {
      if (pending) controller.enqueue(pending);
    },
  });
}
