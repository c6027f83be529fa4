/**
 * TextRoom request fields, in the order the reference checks them, and the plugin's section
 * of the gateway configuration (zod).
 *
 * @module
 */
import { z } from "zod";
import type { JsonObject } from "../../core/plugin.ts";
import {
  BODY,
  type BodyField,
  checkBody,
  checkSecret as sharedCheckSecret,
} from "../_shared/validate.ts";
import { FIELD_CODES, TEXTROOM_ERROR } from "./errors.ts";

const ARRAY = { schema: z.array(z.unknown()), expected: "an array" } as const;
const str = (name: string, required = false): BodyField => ({ name, ...BODY.string, required });
const bool = (name: string): BodyField => ({ name, ...BODY.bool });
const int = (name: string, required = false): BodyField => ({
  name,
  ...BODY.positiveInt,
  required,
});
const array = (name: string): BodyField => ({ name, ...ARRAY });

/** `request` of a Janus API body. */
export const REQUEST_FIELD: readonly BodyField[] = [str("request", true)];
/** What every data-channel request carries. */
export const TRANSACTION_FIELDS: readonly BodyField[] = [
  str("textroom", true),
  str("transaction", true),
];
/** A room the request acts on. */
export const ROOM_FIELD: readonly BodyField[] = [int("room", true)];
/** `create`'s optional room id. */
export const ROOM_OPTIONAL: readonly BodyField[] = [int("room")];

export const CREATE_FIELDS: readonly BodyField[] = [
  str("description"),
  str("secret"),
  str("pin"),
  str("post"),
  bool("is_private"),
  int("history"),
  array("allowed"),
  bool("permanent"),
];
export const DESTROY_FIELDS: readonly BodyField[] = [bool("permanent")];
export const EDIT_FIELDS: readonly BodyField[] = [
  str("secret"),
  str("new_description"),
  str("new_secret"),
  str("new_pin"),
  str("new_post"),
  bool("new_is_private"),
  bool("permanent"),
];
export const ALLOWED_FIELDS: readonly BodyField[] = [
  str("secret"),
  str("action", true),
  array("allowed"),
];
export const KICK_FIELDS: readonly BodyField[] = [str("secret"), str("username", true)];
export const JOIN_FIELDS: readonly BodyField[] = [
  str("username", true),
  str("pin"),
  str("token"),
  str("display"),
  bool("history"),
];
export const MESSAGE_FIELDS: readonly BodyField[] = [
  str("text", true),
  str("to"),
  array("tos"),
  bool("ack"),
];
export const ANNOUNCEMENT_FIELDS: readonly BodyField[] = [str("secret"), str("text", true)];

/** Checks `body` against `fields` with TextRoom's codes (413 missing, 414 wrong type). */
export function check(body: JsonObject, fields: readonly BodyField[]): void {
  checkBody(body, fields, FIELD_CODES);
}

/**
 * The reference's secret check (JANUS_CHECK_SECRET): nothing to do without a secret; else the
 * field is required (413), a string (414) and equal (419 `Unauthorized (wrong NAME)`).
 */
export function checkSecret(secret: string | undefined, body: JsonObject, name: string): void {
  sharedCheckSecret(secret, body, name, {
    ...FIELD_CODES,
    unauthorized: TEXTROOM_ERROR.UNAUTHORIZED,
  });
}

/** How data-channel JSON is written (the reference's `json` setting). */
export const JSON_FORMATS = ["indented", "plain", "compact"] as const;
export type JsonFormat = (typeof JSON_FORMATS)[number];

/** The plugin's section of the gateway configuration. */
export const TextRoomConfig = z.object({
  /** Data-channel JSON: indented (3 spaces, the reference's default), plain or compact. */
  json: z.enum(JSON_FORMATS).default("indented"),
  /** When set, `create` needs it and `list` shows private rooms to whoever gives it. */
  admin_key: z.string().min(1).optional(),
  /** Rooms to create at start-up (default: the reference's stock room 1234). */
  rooms: z.array(z.record(z.string(), z.unknown())).optional(),
  /** JSON file that `permanent: true` rooms are written to (and read from at start-up). */
  rooms_file: z.string().optional(),
  /**
   * Largest room `history` (messages kept and replayed to joiners). The reference keeps a
   * 16-bit count; more is refused with 414 so that a room's memory stays bounded.
   */
  max_history: z.number().int().min(0).max(65535).default(1000),
  /**
   * Longest data-channel message taken, in bytes. The reference offers no
   * `max-message-size`, so clients never send it more than 64 KiB (and its 16-bit length
   * drops 65536); longer ones are dropped here too.
   */
  max_message_bytes: z.number().int().positive().default(65535),
  /** Milliseconds a `post` backend may take to answer a message's HTTP POST. */
  post_timeout_ms: z.number().int().positive().default(5000),
}).passthrough();

/** The parsed plugin configuration. */
export type TextRoomConfig = z.infer<typeof TextRoomConfig>;
