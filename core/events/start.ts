/**
 * Builds the event bus of a gateway from the `events` section: no handler (and so no event
 * built anywhere) unless `enabled` is true.
 *
 * @module
 */
import { ConfigError } from "../config.ts";
import { EventBus } from "./bus.ts";
import type { EventHandlerConfig } from "./config.ts";
import { HTTP_HANDLER_NAME, HttpEventHandler } from "./http_handler.ts";
import { WS_HANDLER_NAME, WsEventHandler } from "./ws_handler.ts";

/** The bus of a gateway named `emitter` with the handlers of `config`. */
export function createEventBus(
  emitter: string,
  config: { enabled: boolean; handlers: readonly EventHandlerConfig[] },
): EventBus {
  if (!config.enabled) return new EventBus(emitter);
  const names = new Set<string>();
  for (const c of config.handlers) {
    const scheme = c.kind === "http" ? /^https?:/ : /^wss?:/;
    if (!scheme.test(c.backend)) {
      throw new ConfigError(
        `Invalid configuration key 'events.handlers': a ${c.kind} handler needs a ` +
          `${c.kind}(s):// backend, got '${c.backend}'`,
      );
    }
    const name = c.name ?? (c.kind === "http" ? HTTP_HANDLER_NAME : WS_HANDLER_NAME);
    if (names.has(name)) {
      throw new ConfigError(
        `Invalid configuration key 'events.handlers': two handlers named '${name}' (give each a name)`,
      );
    }
    names.add(name);
  }
  const handlers = config.handlers.map((c) =>
    c.kind === "http" ? new HttpEventHandler(c) : new WsEventHandler(c)
  );
  return new EventBus(emitter, handlers);
}
