/**
 * `permanent: true` mountpoints, saved as the `mountpoints` list of the plugin's configuration section, or
 * in `mountpoints_file` when set (see {@link SavedStore}).
 *
 * @module
 */
import type { PluginHost } from "../../core/plugin.ts";
import { SavedStore } from "../_shared/saved_store.ts";

/** The saved mountpoints and where they go; without a file nothing can be saved. */
export class MountpointStore extends SavedStore {
  constructor(path: string | undefined, host: PluginHost = {}) {
    super("mountpoints", path, host);
  }
}
