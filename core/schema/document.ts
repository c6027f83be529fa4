/**
 * The API as one JSON Schema (draft 2020-12), generated from the zod schemas: requests and
 * messages of the Janus and Admin APIs, event-handler events, and each registered plugin's
 * bodies and data. A message carrying `plugindata` of a registered plugin is checked against
 * that plugin's data schema too. Served at `GET /janus/schema`, written by `deno task schema`.
 *
 * @module
 */
import { z } from "zod";
import type { JsonObject } from "../protocol.ts";
import { HandlerEventSchema } from "./events.ts";
import { AdminMessageSchema, CoreMessageSchema } from "./messages.ts";
import { AdminRequestSchema, CoreRequestSchema } from "./requests.ts";
import type { PluginApiSchema } from "./types.ts";

/** The definitions every document has (plugins add `<package>.request` and `<package>.data`). */
export const API_DEFS = [
  "CoreRequest",
  "CoreMessage",
  "AdminRequest",
  "AdminMessage",
  "HandlerEvent",
] as const;

function toJson(schema: z.ZodType, io: "input" | "output"): JsonObject {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    unrepresentable: "any",
  }) as JsonObject;
  return rest;
}

/** `plugindata.data` of `plugin`'s messages must match its data schema. */
function pluginDataRule(plugin: string): JsonObject {
  return {
    if: {
      required: ["plugindata"],
      properties: {
        plugindata: { required: ["plugin"], properties: { plugin: { const: plugin } } },
      },
    },
    then: {
      properties: { plugindata: { properties: { data: { $ref: `#/$defs/${plugin}.data` } } } },
    },
  };
}

/** The whole document for the gateway with `plugins`. */
export function apiSchemaDocument(plugins: readonly PluginApiSchema[]): JsonObject {
  const defs: JsonObject = {
    CoreRequest: toJson(CoreRequestSchema, "input"),
    CoreMessage: {
      allOf: [toJson(CoreMessageSchema, "output"), ...plugins.map((p) => pluginDataRule(p.plugin))],
    },
    AdminRequest: toJson(AdminRequestSchema, "input"),
    AdminMessage: toJson(AdminMessageSchema, "output"),
    HandlerEvent: toJson(HandlerEventSchema, "output"),
  };
  for (const p of plugins) {
    defs[`${p.plugin}.request`] = toJson(p.request, "input");
    defs[`${p.plugin}.data`] = toJson(p.data, "output");
  }
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: "urn:janus-gateway:api",
    title: "Janus API (1.1.2 wire format)",
    description: "Requests and messages of the Janus and Admin APIs, event-handler events, and " +
      "each plugin's message bodies (<package>.request) and plugindata.data (<package>.data).",
    $defs: defs,
  };
}
