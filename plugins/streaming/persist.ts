/**
 * `permanent: true` mountpoints. As the reference rewrites its `.jcfg` (one category per saved mountpoint),
 * the saved mountpoints are written back to the configuration file the gateway was started with
 * (`--config`), as the `mountpoints` list of the plugin's section; a `mountpoints_file` setting sends them
 * to a file of their own instead (`{"mountpoints":[...]}`), read back at start-up. Only `permanent`
 * requests change the saved list: a mountpoint created or destroyed without it is not written.
 *
 * @module
 */
import type { JsonObject, PluginHost } from "../../core/plugin.ts";

/** What the store needs of a mountpoint. */
export interface SavedMountpoint {
  readonly id: number;
  savedEntry(): JsonObject;
}

/** The saved mountpoints and where they go; without a file nothing can be saved. */
export class MountpointStore {
  readonly #path: string | undefined;
  readonly #updateConfig: PluginHost["updateConfig"];
  /** The saved entries, by mountpoint id, in the order they were saved. */
  readonly #saved = new Map<number, JsonObject>();
  #writing: Promise<unknown> = Promise.resolve();

  /** `mountpoints_file` wins; else the configuration file, when the host can write it. */
  constructor(path: string | undefined, host: PluginHost = {}) {
    this.#path = path;
    this.#updateConfig = path === undefined ? host.updateConfig : undefined;
  }

  /** Whether there is a file to write (the reference: a configuration file). */
  get writable(): boolean {
    return this.#path !== undefined || this.#updateConfig !== undefined;
  }

  /** Whether the mountpoints of the configuration itself are the saved ones. */
  get inConfig(): boolean {
    return this.#updateConfig !== undefined;
  }

  /** Marks a mountpoint loaded at start-up as saved (no write). */
  adopt(mountpoint: SavedMountpoint): void {
    this.#saved.set(mountpoint.id, mountpoint.savedEntry());
  }

  /** Mountpoints saved earlier in `mountpoints_file` (an absent file is an empty list). */
  async load(): Promise<JsonObject[]> {
    if (this.#path === undefined) return [];
    let text: string;
    try {
      text = await Deno.readTextFile(this.#path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return [];
      throw e;
    }
    const saved = (JSON.parse(text) as { mountpoints?: unknown }).mountpoints;
    return Array.isArray(saved) ? saved.filter((r): r is JsonObject => isObject(r)) : [];
  }

  /** Saves (or re-saves) `mountpoint`; resolves false when writing failed. */
  async save(mountpoint: SavedMountpoint): Promise<boolean> {
    this.#saved.set(mountpoint.id, mountpoint.savedEntry());
    return await this.#write();
  }

  /** Removes mountpoint `id` from the saved ones; resolves false when writing failed. */
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
      return await this.#updateConfig((section) => ({ ...section, mountpoints: list }));
    }
    if (this.#path === undefined) return false;
    try {
      const tmp = `${this.#path}.tmp`;
      await Deno.writeTextFile(tmp, JSON.stringify({ mountpoints: list }, null, 2) + "\n");
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
