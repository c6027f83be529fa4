/**
 * `deno task schema`: writes the API's JSON Schema (built-in plugins included) to
 * `docs/api.schema.json`, or to the path given.
 *
 * @module
 */
import { PLUGIN_API_SCHEMAS } from "../../plugins/schemas.ts";
import { apiSchemaDocument } from "./document.ts";

/** Where the document is kept in the repository. */
export const SCHEMA_FILE = new URL("../../docs/api.schema.json", import.meta.url);

/** The document's text, as written and committed. */
export function apiSchemaText(): string {
  return JSON.stringify(apiSchemaDocument(PLUGIN_API_SCHEMAS), null, 2) + "\n";
}

if (import.meta.main) {
  const target = Deno.args[0] ?? SCHEMA_FILE;
  if (target === SCHEMA_FILE) await Deno.mkdir(new URL(".", SCHEMA_FILE), { recursive: true });
  await Deno.writeTextFile(target, apiSchemaText());
}
