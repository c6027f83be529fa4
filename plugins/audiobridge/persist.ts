/**
 * `permanent: true` rooms. As the reference rewrites its `.jcfg` (one category per saved room),
 * the saved rooms are written back to the configuration file the gateway was started with
 * (`--config`), as the `rooms` list of the plugin's section; a `rooms_file` setting sends them
 * to a file of their own instead (`{"rooms":[...]}`), read back at start-up. Only `permanent`
 * requests change the saved list: a room created or destroyed without it is not written.
 *
 * @module
 */
import type { JsonObject, PluginHost } from "../../core/plugin.ts";
/** What the store needs of a room. */
export interface SavedRoom {
  readonly id: number;
  savedEntry(): JsonObject;
}

/** The saved rooms and where they go; without a file nothing can be saved. */
export class RoomStore {
  readonly #path: string | undefined;
  readonly #updateConfig: PluginHost["updateConfig"];
  /** The saved entries, by room id, in the order they were saved. */
  readonly #saved = new Map<number, JsonObject>();
  #writing: Promise<unknown> = Promise.resolve();

  /** `rooms_file` wins; else the configuration file, when the host can write it. */
  constructor(path: string | undefined, host: PluginHost = {}) {
    this.#path = path;
    this.#updateConfig = path === undefined ? host.updateConfig : undefined;
  }

  /** Whether there is a file to write (the reference: a configuration file). */
  get writable(): boolean {
    return this.#path !== undefined || this.#updateConfig !== undefined;
  }

  /** Whether the rooms of the configuration itself are the saved ones. */
  get inConfig(): boolean {
    return this.#updateConfig !== undefined;
  }

  /** Marks a room loaded at start-up as saved (no write). */
  adopt(room: SavedRoom): void {
    this.#saved.set(room.id, room.savedEntry());
  }

  /** Rooms saved earlier in `rooms_file` (an absent file is an empty list). */
  async load(): Promise<JsonObject[]> {
    if (this.#path === undefined) return [];
    let text: string;
    try {
      text = await Deno.readTextFile(this.#path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
    const rooms = (JSON.parse(text) as { rooms?: unknown }).rooms;
    return Array.isArray(rooms) ? rooms.filter((r): r is JsonObject => isObject(r)) : [];
  }

  /** Saves (or re-saves) `room`; resolves false when writing failed. */
  async save(room: SavedRoom): Promise<boolean> {
    this.#saved.set(room.id, room.savedEntry());
    return await this.#write();
  }

  /** Removes room `id` from the saved ones; resolves false when writing failed. */
  async forget(id: number): Promise<boolean> {
    this.#saved.delete(id);
    return await this.#write();
  }

  /** Writes one after another, each with the list as it is when its turn comes. */
  #write(): Promise<boolean> {
    const next = this.#writing.then(() => this.#writeNow());
    this.#writing = next.catch(() => false);
    return next;
  }

  async #writeNow(): Promise<boolean> {
    const list = [...this.#saved.values()];
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
