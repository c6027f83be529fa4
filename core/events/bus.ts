/**
 * The event bus the core emits to (Janus's `janus_events_notify_handlers`). Each emitter asks
 * `wants(type)` first, so that with no handler, or none interested in that type, an emit point
 * costs one bit test and builds nothing. Handlers queue what they receive and send it from their
 * own loop: nothing here waits for a network.
 *
 * @module
 */
import type { JsonObject } from "../protocol.ts";
import { EVENT_TYPE, type EventHandler, type EventType, type GatewayEvent } from "./types.ts";

/** The ids an event concerns (absent ones are left out, as in the reference). */
export interface EventScope {
  sessionId?: number | undefined;
  handleId?: number | undefined;
  opaqueId?: string | undefined;
}

/** Wall-clock time in microseconds, as `janus_get_real_time`. */
function realTimeMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** Fans events out to the handlers whose mask has their type. */
export class EventBus {
  readonly emitter: string;
  readonly #handlers = new Map<string, EventHandler>();
  /** Events built and handed to at least one handler. */
  emitted = 0;

  constructor(emitter: string, handlers: readonly EventHandler[] = []) {
    this.emitter = emitter;
    for (const h of handlers) this.#handlers.set(h.name, h);
  }

  /** True when some handler wants `type` (masks may change through the admin API). */
  wants(type: EventType): boolean {
    for (const h of this.#handlers.values()) if ((h.mask & type) !== 0) return true;
    return false;
  }

  /** True when any handler is configured (server info's `event_handlers`). */
  get enabled(): boolean {
    return this.#handlers.size > 0;
  }

  /** The handlers, by package name. */
  handler(name: string): EventHandler | undefined {
    return this.#handlers.get(name);
  }

  /** Package names of the handlers. */
  names(): string[] {
    return [...this.#handlers.keys()];
  }

  /** Server info's `events`: each handler's description, by package name. */
  describe(): JsonObject {
    return Object.fromEntries([...this.#handlers].map(([name, h]) => [name, h.describe()]));
  }

  /** Builds one event and hands it to each interested handler (the caller checked `wants`). */
  emit(type: EventType, subtype: number, scope: EventScope, body: JsonObject): void {
    // Janus's key order: emitter, type, subtype, timestamp, the ids, then the body.
    const event: JsonObject = { emitter: this.emitter, type };
    if (subtype > 0) event.subtype = subtype;
    event.timestamp = realTimeMicros();
    if (scope.sessionId !== undefined) event.session_id = scope.sessionId;
    if (scope.handleId !== undefined) event.handle_id = scope.handleId;
    if (scope.opaqueId !== undefined) event.opaque_id = scope.opaqueId;
    event.event = body;
    this.emitted++;
    for (const h of this.#handlers.values()) {
      if ((h.mask & type) !== 0) h.receive(event as GatewayEvent);
    }
  }

  /** Session `created` (with its transport), `destroyed` or `timeout`. */
  session(id: number, name: string, transport?: { transport: string; id: string }): void {
    if (!this.wants(EVENT_TYPE.session)) return;
    this.emit(EVENT_TYPE.session, 0, { sessionId: id }, transport ? { name, transport } : { name });
  }

  /** Handle `attached` / `detached`, with its plugin (and opaque id, token). */
  handle(scope: EventScope, name: string, plugin: string, token?: string): void {
    if (!this.wants(EVENT_TYPE.handle)) return;
    const body: JsonObject = { name, plugin };
    // The reference repeats the opaque id in the body, for older consumers.
    if (scope.opaqueId !== undefined) body.opaque_id = scope.opaqueId;
    if (token !== undefined) body.token = token;
    this.emit(EVENT_TYPE.handle, 0, scope, body);
  }

  /** An SDP sent (`local`) or received (`remote`). */
  jsep(scope: EventScope, owner: "local" | "remote", type: string, sdp: string): void {
    if (!this.wants(EVENT_TYPE.jsep)) return;
    this.emit(EVENT_TYPE.jsep, 0, scope, { owner, jsep: { type, sdp } });
  }

  /** A plugin's own event (`data` is whatever the plugin reports). */
  plugin(scope: EventScope, plugin: string, data: JsonObject): void {
    if (!this.wants(EVENT_TYPE.plugin)) return;
    this.emit(EVENT_TYPE.plugin, 0, scope, { plugin, data });
  }

  /** A transport's event (`id` names its connection or request). */
  transport(transport: string, id: string, data: JsonObject): void {
    if (!this.wants(EVENT_TYPE.transport)) return;
    this.emit(EVENT_TYPE.transport, 0, {}, { transport, id, data });
  }

  /** An admin `custom_event`. */
  external(schema: string, data: JsonObject): void {
    if (!this.wants(EVENT_TYPE.external)) return;
    this.emit(EVENT_TYPE.external, 0, {}, { schema, data });
  }

  /** Sends what the handlers hold for at most `graceMs`, then stops them. */
  async close(graceMs?: number): Promise<void> {
    await Promise.all([...this.#handlers.values()].map((h) => h.close(graceMs)));
  }
}
