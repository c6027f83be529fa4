/**
 * Streaming's part of the API's JSON Schema: a body per request, from the field lists the
 * plugin checks them with, and its data (replies, viewer events, errors).
 *
 * @module
 */
import { z } from "zod";
import type { PluginApiSchema } from "../../core/schema/types.ts";
import { fieldsObject, pluginError } from "../_shared/api_schema.ts";
import { EDIT_FIELDS, ID_FIELD, RECORDING_FIELDS } from "./requests.ts";
import { CONFIGURE_FIELDS, WATCH_FIELDS } from "./session.ts";
import { CREATE_FIELDS, MEDIA_FIELDS } from "./spec.ts";

const request = <T extends string>(name: T) => ({ request: z.literal(name) });
const id = z.number().int().min(0);
const secrets = { secret: z.string().optional(), admin_key: z.string().optional() };

/** A viewer's asynchronous results. */
const STATUSES = [
  "preparing",
  "updating",
  "starting",
  "started",
  "pausing",
  "stopping",
  "stopped",
  "kicked_all",
] as const;

/** `janus.plugin.streaming`. */
export const STREAMING_API: PluginApiSchema = {
  plugin: "janus.plugin.streaming",
  request: z.union([
    fieldsObject([], { ...request("list"), ...secrets }),
    fieldsObject(ID_FIELD, { request: z.enum(["info", "enable", "disable", "kick_all"]) }),
    // Multistream (`media`) or legacy (`audioport`, `videoport`, ...) mountpoints.
    fieldsObject(CREATE_FIELDS, {
      ...request("create"),
      ...secrets,
      id: id.optional(),
      media: z.array(fieldsObject(MEDIA_FIELDS)).optional(),
    }),
    fieldsObject([...ID_FIELD, ...EDIT_FIELDS], request("edit")),
    fieldsObject(ID_FIELD, { ...request("destroy"), permanent: z.boolean().optional() }),
    fieldsObject([...ID_FIELD, ...RECORDING_FIELDS], request("recording")),
    fieldsObject([...ID_FIELD, ...WATCH_FIELDS], request("watch")),
    fieldsObject(CONFIGURE_FIELDS, request("configure")),
    fieldsObject(ID_FIELD, request("switch")),
    fieldsObject([], { request: z.enum(["start", "pause", "stop"]) }),
  ]),
  data: z.union([
    pluginError("streaming"),
    z.object({ streaming: z.literal("list"), list: z.array(z.looseObject({ id })) }),
    z.object({ streaming: z.literal("info"), info: z.looseObject({ id }) }),
    z.object({
      streaming: z.literal("created"),
      created: z.string(),
      permanent: z.boolean(),
      stream: z.looseObject({ id }),
      warning: z.string().optional(),
    }),
    z.object({ streaming: z.literal("edited"), id, permanent: z.boolean() }),
    z.object({ streaming: z.literal("destroyed"), destroyed: id }),
    z.object({ streaming: z.enum(["ok", "kicked_all"]) }),
    z.object({
      streaming: z.literal("event"),
      result: z.union([
        z.looseObject({ status: z.enum(STATUSES) }),
        z.object({ switched: z.literal("ok"), id }),
      ]),
    }),
  ]),
};
