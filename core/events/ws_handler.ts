/**
 * The WebSocket event handler (Janus's `janus.eventhandler.wsevh`): one client connection to
 * `backend` (subprotocol `janus-event-handlers`), opened when there is something to send and
 * reopened after a failure; events wait in the bounded queue meanwhile.
 *
 * @module
 */
import type { JsonObject } from "../protocol.ts";
import type { EventHandlerConfig } from "./config.ts";
import { QueuedSender } from "./sender.ts";

/** The reference's package name for this handler. */
export const WS_HANDLER_NAME = "janus.eventhandler.wsevh";

/** Unsent bytes a socket may hold before a send counts as failed (the backend stopped reading). */
const MAX_BUFFERED = 4 * 1024 * 1024;

/** Sends batches of events as WebSocket text messages. */
export class WsEventHandler extends QueuedSender {
  #socket: WebSocket | undefined;

  constructor(config: EventHandlerConfig) {
    super(config.name ?? WS_HANDLER_NAME, config);
  }

  #open(signal: AbortSignal): Promise<WebSocket> {
    const current = this.#socket;
    if (current?.readyState === WebSocket.OPEN) return Promise.resolve(current);
    this.release();
    const socket = new WebSocket(this.config.backend, this.config.subprotocol);
    this.#socket = socket;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error("connect timed out")), this.config.timeout_ms);
      const fail = (e: Error) => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        if (this.#socket === socket) this.release();
        reject(e);
      };
      const onAbort = () => fail(new Error("closing"));
      signal.addEventListener("abort", onAbort, { once: true });
      socket.onopen = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        resolve(socket);
      };
      socket.onerror = () => fail(new Error(`cannot connect to ${this.config.backend}`));
      socket.onclose = () => {
        if (this.#socket === socket) this.#socket = undefined;
      };
    });
  }

  protected async deliver(text: string, signal: AbortSignal): Promise<boolean> {
    const socket = await this.#open(signal);
    if (socket.bufferedAmount > MAX_BUFFERED) {
      this.release();
      return false;
    }
    socket.send(text);
    return true;
  }

  describe(): JsonObject {
    return {
      name: "JANUS WebSocketsEventHandler plugin",
      author: "Meetecho s.r.l.",
      description: "Forwards events to a WebSocket server, with a bounded queue.",
      version_string: "0.0.1",
      version: 1,
    };
  }

  protected checkBackend(url: string): string | undefined {
    return /^wss?:\/\//.test(url) ? undefined : `Invalid WebSocket URI '${url}'`;
  }

  protected release(): void {
    const socket = this.#socket;
    this.#socket = undefined;
    if (!socket) return;
    socket.onopen = socket.onerror = socket.onclose = null;
    try {
      socket.close();
    } catch {
      // already closed
    }
  }
}
