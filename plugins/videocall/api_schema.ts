/**
 * VideoCall's part of the API's JSON Schema: a body per request, from the field lists the
 * plugin checks them with, and its data (results, errors).
 *
 * @module
 */
import { z } from "zod";
import type { PluginApiSchema } from "../../core/schema/types.ts";
import { fieldsObject, pluginError } from "../_shared/api_schema.ts";
import { SET_FIELDS, USERNAME_FIELDS } from "./schemas.ts";

const request = <T extends string>(name: T) => ({ request: z.literal(name) });

/** What `result` of an event says (the reference's `event` names). */
const RESULT_EVENTS = [
  "registered",
  "calling",
  "incomingcall",
  "accepted",
  "hangup",
  "set",
  "update",
  "simulcast",
] as const;

/** `janus.plugin.videocall`. */
export const VIDEOCALL_API: PluginApiSchema = {
  plugin: "janus.plugin.videocall",
  request: z.union([
    fieldsObject([], { request: z.enum(["list", "accept"]) }),
    fieldsObject(USERNAME_FIELDS, request("register")),
    fieldsObject(USERNAME_FIELDS, request("call")),
    fieldsObject(SET_FIELDS, request("set")),
    fieldsObject([], { ...request("hangup"), reason: z.string().optional() }),
  ]),
  data: z.union([
    pluginError("videocall"),
    z.object({
      videocall: z.literal("event"),
      result: z.union([
        z.object({ list: z.array(z.string()) }),
        z.looseObject({
          event: z.enum(RESULT_EVENTS),
          username: z.string().nullable().optional(),
          reason: z.string().optional(),
        }),
      ]),
    }),
  ]),
};
