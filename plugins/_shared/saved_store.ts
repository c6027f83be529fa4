/**
 * `permanent: true` rooms or mountpoints. As the reference rewrites its `.jcfg` (one category
 * per saved entry), the saved entries are written back to the configuration file the gateway
 * was started with (`--config`), as a list (`rooms`, `mountpoints`) of the plugin's section; a
 * `<list>_file` setting sends them to a file of their own instead (`{"rooms":[...]}`), read back
 * at start-up. Only `permanent` requests change the saved list: an entry created or destroyed
 * without it is not written.
 *
 * @module
 */
import type { JsonObject, PluginHost } from "../../core/plugin.ts";

/** What the store needs of a saved entry (a room, a mountpoint). */
export interface SavedEntry {
  readonly id: number;
  savedEntry(): JsonObject;
}

/** The saved entries and where they go; without a file nothing can be saved. */
export class SavedStore {
  readonly #key: string;
  readonly #path: string | undefined;
  readonly #updateConfig: PluginHost["updateConfig"];
  /** The saved entries, by id, in the order they were saved. */
  readonly #saved = new Map<number, JsonObject>();
  #writing: Promise<unknown> = Promise.resolve();

  /**
   * `key` names the list (`rooms`); `path` (the `<key>_file` setting) wins over the
   * configuration file, used when the host can write it.
   */
  constructor(key: string, path: string | undefined, host: PluginHost = {}) {
    this.#key = key;
    this.#path = path;
    this.#updateConfig = path === undefined ? host.updateConfig : undefined;
  }

  /** Whether there is a file to write (the reference: a configuration file). */
  get writable(): boolean {
    return this.#path !== undefined || this.#updateConfig !== undefined;
  }

  /** Whether the entries of the configuration itself are the saved ones. */
  get inConfig(): boolean {
    return this.#updateConfig !== undefined;
  }

  /** Marks an entry loaded at start-up as saved (no write). */
  adopt(entry: SavedEntry): void {
    this.#saved.set(entry.id, entry.savedEntry());
  }

  /** Entries saved earlier in the file of their own (an absent file is an empty list). */
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
    const saved = isObject(parsed) ? parsed[this.#key] : undefined;
    return Array.isArray(saved) ? saved.filter((r): r is JsonObject => isObject(r)) : [];
  }

  /** Saves (or re-saves) `entry`; resolves false when writing failed. */
  async save(entry: SavedEntry): Promise<boolean> {
    this.#saved.set(entry.id, entry.savedEntry());
    return await this.#write();
  }

  /** Removes entry `id` from the saved ones; resolves false when writing failed. */
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
      return await this.#updateConfig((section) => ({ ...section, [this.#key]: list }));
    }
    if (this.#path === undefined) return false;
    try {
      const tmp = `${this.#path}.tmp`;
      await Deno.writeTextFile(tmp, JSON.stringify({ [this.#key]: list }, null, 2) + "\n");
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
