/**
 * A Deno child process driven over `core/media/rpc.ts` on its stdin/stdout (the media bench's
 * client host and gateway). Its stderr lines are relayed with a label; it is stopped by
 * closing its stdin, and killed when it does not exit in time.
 *
 * @module
 */
import { type EventMessage, type MethodMap, RpcClient } from "../../core/media/rpc.ts";
import { readLines } from "../../core/media/rpc.ts";
import { print } from "../print.ts";

const CONFIG = new URL("../../deno.json", import.meta.url);
const REPO = new URL("../../", import.meta.url);

function path(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/** The `ready` event every child sends first. */
type ReadyOf<E> = E extends { ready: infer R } ? R : never;

/** A running child. */
export class RpcChild<M extends MethodMap<M>, E extends { ready: unknown }> {
  readonly pid: number;
  readonly ready: ReadyOf<E>;
  readonly #process: Deno.ChildProcess;
  readonly #rpc: RpcClient<M, E>;
  readonly #stderr: Promise<void>;
  #exited = false;

  private constructor(
    process: Deno.ChildProcess,
    rpc: RpcClient<M, E>,
    ready: ReadyOf<E>,
    stderr: Promise<void>,
  ) {
    this.#process = process;
    this.#rpc = rpc;
    this.ready = ready;
    this.pid = process.pid;
    this.#stderr = stderr;
    void process.status.then(() => this.#exited = true);
  }

  /**
   * Runs `deno run --allow-all --config deno.json <script> ...args` and waits for its
   * `ready` event.
   *
   * @throws {Error} when it exits or stays silent for `readyTimeoutMs`
   */
  static async start<M extends MethodMap<M>, E extends { ready: unknown }>(
    script: URL,
    options: { args?: readonly string[]; label: string; readyTimeoutMs?: number },
  ): Promise<RpcChild<M, E>> {
    const process = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--config", path(CONFIG), path(script), ...(options.args ?? [])],
      cwd: path(REPO),
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = relay(process.stderr, options.label);
    const ready = Promise.withResolvers<ReadyOf<E>>();
    const rpc = new RpcClient<M, E>(
      { readable: process.stdout, writable: process.stdin },
      (message: EventMessage<E>) => {
        if (message.event === "ready") ready.resolve(message.params as ReadyOf<E>);
      },
    );
    void process.status.then((s) =>
      ready.reject(new Error(`${options.label} exited before it was ready (code ${s.code})`))
    );
    const timer = setTimeout(
      () => ready.reject(new Error(`${options.label} was not ready in time`)),
      options.readyTimeoutMs ?? 60_000,
    );
    try {
      const value = await ready.promise;
      return new RpcChild<M, E>(process, rpc, value, stderr);
    } catch (e) {
      try {
        process.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await process.status;
      await rpc.done;
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** One call. */
  call<K extends keyof M & string>(method: K, params: M[K]["params"]): Promise<M[K]["result"]> {
    return this.#rpc.request(method, params);
  }

  /** Closes its stdin and waits for it to exit (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 10_000): Promise<void> {
    await this.#rpc.close().catch(() => {});
    const timer = setTimeout(() => {
      try {
        this.#process.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, timeoutMs);
    try {
      await this.#process.status;
      await this.#rpc.done;
      await this.#stderr;
    } finally {
      clearTimeout(timer);
    }
  }
}

async function relay(stream: ReadableStream<Uint8Array>, label: string): Promise<void> {
  try {
    for await (const line of readLines(stream)) print(`    [${label}] ${line}`);
  } catch {
    // The child is gone.
  }
}
