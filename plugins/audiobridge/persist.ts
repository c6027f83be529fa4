/**
 * `permanent: true` rooms, saved as the `rooms` list of the plugin's configuration section, or
 * in `rooms_file` when set (see {@link SavedStore}).
 *
 * @module
 */
import type { PluginHost } from "../../core/plugin.ts";
import { SavedStore } from "../_shared/saved_store.ts";

/** The saved rooms and where they go; without a file nothing can be saved. */
export class RoomStore extends SavedStore {
  constructor(path: string | undefined, host: PluginHost = {}) {
    super("rooms", path, host);
  }
}
