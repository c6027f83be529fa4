/**
 * `permanent: true` rooms: written to the JSON file named by the plugin's `rooms_file`
 * setting, and read back at start-up. The reference writes its `.jcfg`; we keep JSON
 * (`{"rooms":[{...room properties as create takes them, "allowed":[...]}]}`).
 *
 * @module
 */
import type { JsonObject } from "../../core/plugin.ts";
import type { Room } from "./room.ts";

/** Where permanent rooms live; without a file nothing can be saved. */
export class RoomStore {
  readonly #path: string | undefined;

  constructor(path: string | undefined) {
    this.#path = path;
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
    if (this.#path === undefined) return false;
    const list: JsonObject[] = [];
    for (const room of rooms) {
      if (!room.permanent || room.destroyed) continue;
      const entry: JsonObject = {};
      for (const [k, v] of Object.entries(room.props)) if (v !== undefined) entry[k] = v;
      if (room.aclEnabled) entry.allowed = [...room.allowed];
      list.push(entry);
    }
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
