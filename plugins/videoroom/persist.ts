/**
 * `permanent: true` rooms. As the reference rewrites its `.jcfg`, they are written back to
 * the configuration file the gateway was started with (`--config`), as the `rooms` list of
 * the plugin's section: the rooms read from there, plus the permanent ones created since,
 * less the ones destroyed with `permanent: true`. A `rooms_file` setting sends them to a
 * file of their own instead (`{"rooms":[{...room properties as create takes them,
 * "allowed":[...]}]}`), read back at start-up.
 *
 * @module
 */
import type { JsonObject, PluginHost } from "../../core/plugin.ts";
import type { Room } from "./room.ts";

/** Where permanent rooms live; without a file nothing can be saved. */
export class RoomStore {
  readonly #path: string | undefined;
  readonly #updateConfig: PluginHost["updateConfig"];

  /** `rooms_file` wins; else the configuration file, when the host can write it. */
  constructor(path: string | undefined, host: PluginHost = {}) {
    this.#path = path;
    this.#updateConfig = path === undefined ? host.updateConfig : undefined;
  }

  /** Whether the rooms of the configuration itself are the permanent ones (they are saved). */
  get inConfig(): boolean {
    return this.#updateConfig !== undefined;
  }

  /** Rooms saved earlier (an absent file is an empty list). */
  async load(): Promise<JsonObject[]> {
    if (this.#path === undefined) return [];
    let text: string;
    try {
      text = await Deno.readTextFile(this.#path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
    const parsed: unknown = JSON.parse(text);
    const rooms = (parsed as { rooms?: unknown }).rooms;
    return Array.isArray(rooms) ? rooms.filter((r): r is JsonObject => isObject(r)) : [];
  }

  /**
   * Writes every permanent room. Resolves false when there is no file or writing failed: the
   * reference then answers `"permanent":false` (the room lives on, unsaved).
   */
  async save(rooms: Iterable<Room>): Promise<boolean> {
    if (this.#path === undefined && this.#updateConfig === undefined) return false;
    const list: JsonObject[] = [];
    for (const room of rooms) {
      if (!room.permanent || room.destroyed) continue;
      const entry: JsonObject = {};
      for (const [k, v] of Object.entries(room.props)) if (v !== undefined) entry[k] = v;
      if (room.aclEnabled) entry.allowed = [...room.allowed];
      list.push(entry);
    }
    if (this.#updateConfig) {
      return await this.#updateConfig((section) => ({ ...section, rooms: list }));
    }
    if (this.#path === undefined) return false;
    try {
      const tmp = `${this.#path}.tmp`;
      await Deno.writeTextFile(tmp, JSON.stringify({ rooms: list }, null, 2) + "\n");
      await Deno.rename(tmp, this.#path);
      return true;
    } catch {
      return false;
    }
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
