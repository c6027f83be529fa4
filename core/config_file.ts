/**
 * Writing plugin changes back into the JSON configuration file, as the reference rewrites
 * its plugins' `.jcfg` files: read the file, replace one plugin's section, write a sibling
 * temporary file and rename it over the original, so a crash never leaves half a file.
 *
 * @module
 */
import { isJsonObject, type JsonObject } from "./protocol.ts";

/** Rewrites serialised per file: two saves never interleave their read and write. */
const pending = new Map<string, Promise<boolean>>();

/**
 * Applies `update` to `plugins[pluginId]` of the JSON file at `path` and writes the file back.
 * Resolves false when the file cannot be read, is not a JSON object, or cannot be written.
 */
export function updatePluginSection(
  path: string,
  pluginId: string,
  update: (section: JsonObject) => JsonObject,
): Promise<boolean> {
  const previous = pending.get(path) ?? Promise.resolve(true);
  const next = previous.then(() => rewrite(path, pluginId, update));
  pending.set(path, next);
  void next.finally(() => {
    if (pending.get(path) === next) pending.delete(path);
  });
  return next;
}

async function rewrite(
  path: string,
  pluginId: string,
  update: (section: JsonObject) => JsonObject,
): Promise<boolean> {
  try {
    const parsed: unknown = JSON.parse(await Deno.readTextFile(path));
    if (!isJsonObject(parsed)) return false;
    const plugins = isJsonObject(parsed.plugins) ? parsed.plugins : {};
    const section = plugins[pluginId];
    plugins[pluginId] = update(isJsonObject(section) ? section : {});
    parsed.plugins = plugins;
    const tmp = `${path}.tmp`;
    await Deno.writeTextFile(tmp, JSON.stringify(parsed, null, 2) + "\n");
    await Deno.rename(tmp, path);
    return true;
  } catch {
    return false;
  }
}
