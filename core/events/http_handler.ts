/**
 * The HTTP event handler (Janus's `janus.eventhandler.sampleevh`): batches POSTed as JSON to
 * `backend`, with basic auth when `backend_user`/`backend_pwd` are set. Unlike the sample, a
 * reply other than 2xx counts as a failure and is retried too.
 *
 * @module
 */
import type { JsonObject } from "../protocol.ts";
import type { EventHandlerConfig } from "./config.ts";
import { QueuedSender } from "./sender.ts";

/** The reference's package name for this handler. */
export const HTTP_HANDLER_NAME = "janus.eventhandler.sampleevh";

/** POSTs batches of events to an HTTP backend. */
export class HttpEventHandler extends QueuedSender {
  constructor(config: EventHandlerConfig) {
    super(config.name ?? HTTP_HANDLER_NAME, config);
  }

  protected async deliver(text: string, signal: AbortSignal): Promise<boolean> {
    const { backend, backend_user: user, backend_pwd: pwd, timeout_ms } = this.config;
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (user !== undefined && pwd !== undefined) {
      headers.Authorization = `Basic ${btoa(`${user}:${pwd}`)}`;
    }
    const res = await fetch(backend, {
      method: "POST",
      headers,
      body: text,
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeout_ms)]),
    });
    await res.body?.cancel();
    return res.ok;
  }

  describe(): JsonObject {
    return {
      name: "JANUS SampleEventHandler plugin",
      author: "Meetecho s.r.l.",
      description: "Forwards events via HTTP POST, in batches, with retries and a bounded queue.",
      version_string: "0.0.1",
      version: 1,
    };
  }

  protected checkBackend(url: string): string | undefined {
    return /^https?:\/\//.test(url) ? undefined : `Invalid HTTP URI '${url}'`;
  }

  protected release(): void {}
}
