/**
 * AudioBridge request fields, in the order the reference checks them, and the plugin's section
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
import { AUDIOBRIDGE_ERROR, FIELD_CODES } from "./errors.ts";

const ARRAY = { schema: z.array(z.unknown()), expected: "an array" } as const;
const str = (name: string, required = false): BodyField => ({ name, ...BODY.string, required });
const bool = (name: string, required = false): BodyField => ({ name, ...BODY.bool, required });
const int = (name: string, required = false): BodyField => ({
  name,
  ...BODY.positiveInt,
  required,
});
const array = (name: string): BodyField => ({ name, ...ARRAY });

export const REQUEST_FIELD: readonly BodyField[] = [str("request", true)];
export const ROOM_FIELD: readonly BodyField[] = [int("room", true)];
export const ROOM_OPTIONAL: readonly BodyField[] = [int("room")];
export const ID_FIELD: readonly BodyField[] = [int("id", true)];
export const ID_OPTIONAL: readonly BodyField[] = [int("id")];
export const SECRET_FIELD: readonly BodyField[] = [str("secret")];
export const ADMIN_KEY_FIELD: readonly BodyField[] = [str("admin_key", true)];

export const CREATE_FIELDS: readonly BodyField[] = [
  str("description"),
  str("secret"),
  str("pin"),
  bool("is_private"),
  array("allowed"),
  int("sampling_rate"),
  int("sampling"),
  bool("spatial_audio"),
  bool("record"),
  str("record_file"),
  str("record_dir"),
  bool("mjrs"),
  str("mjrs_dir"),
  bool("allow_rtp_participants"),
  bool("permanent"),
  bool("audiolevel_ext"),
  bool("audiolevel_event"),
  int("audio_active_packets"),
  int("audio_level_average"),
  int("default_prebuffering"),
  int("default_expectedloss"),
  int("default_bitrate"),
  array("groups"),
];
export const EDIT_FIELDS: readonly BodyField[] = [
  str("secret"),
  str("new_description"),
  str("new_secret"),
  str("new_pin"),
  bool("new_is_private"),
  str("new_record_dir"),
  str("new_mjrs_dir"),
  bool("permanent"),
];
export const DESTROY_FIELDS: readonly BodyField[] = [bool("permanent")];
export const MJRS_FIELDS: readonly BodyField[] = [bool("mjrs", true), str("mjrs_dir")];
export const ALLOWED_FIELDS: readonly BodyField[] = [
  str("secret"),
  str("action", true),
  array("allowed"),
];
export const JOIN_FIELDS: readonly BodyField[] = [
  str("display"),
  str("token"),
  str("group"),
  bool("muted"),
  str("codec"),
  int("prebuffer"),
  int("bitrate"),
  int("quality"),
  int("expected_loss"),
  int("volume"),
  int("spatial_position"),
  int("audio_level_average"),
  int("audio_active_packets"),
  bool("record"),
  str("filename"),
  bool("generate_offer"),
  { name: "rtp", schema: z.record(z.string(), z.unknown()), expected: "an object" },
  str("secret"),
];
export const CONFIGURE_FIELDS: readonly BodyField[] = [
  bool("muted"),
  str("display"),
  int("prebuffer"),
  int("bitrate"),
  int("quality"),
  int("expected_loss"),
  int("volume"),
  int("spatial_position"),
  bool("record"),
  str("filename"),
  str("group"),
];
export const CHANGEROOM_FIELDS: readonly BodyField[] = [
  int("room", true),
  int("id"),
  str("group"),
  str("display"),
  str("token"),
  bool("muted"),
  int("bitrate"),
  int("quality"),
  int("expected_loss"),
];

/** Checks `body` against `fields` with AudioBridge's codes (483 missing, 484 wrong type). */
export function check(body: JsonObject, fields: readonly BodyField[]): void {
  checkBody(body, fields, FIELD_CODES);
}

/**
 * The reference's secret check (JANUS_CHECK_SECRET): nothing to do without a secret; else the
 * field is required (483), a string (484) and equal (489 `Unauthorized (wrong NAME)`).
 */
export function checkSecret(secret: string | undefined, body: JsonObject, name: string): void {
  sharedCheckSecret(secret, body, name, {
    ...FIELD_CODES,
    unauthorized: AUDIOBRIDGE_ERROR.UNAUTHORIZED,
  });
}

/** The mixing rates a room may use (the reference also takes 12000: Opus decodes at it). */
export const SAMPLING_RATES: readonly number[] = [8000, 12000, 16000, 24000, 48000];

/** The plugin's section of the gateway configuration. */
export const AudioBridgeConfig = z.object({
  /** When set, `create` needs it and `list` shows private rooms to whoever gives it. */
  admin_key: z.string().min(1).optional(),
  /** Rooms to create at start-up (default: the reference's stock room 1234). */
  rooms: z.array(z.record(z.string(), z.unknown())).optional(),
  /** JSON file that `permanent: true` rooms are written to (and read from at start-up). */
  rooms_file: z.string().optional(),
  /** Most participants in one room (each costs a decoder and an encoder in a media worker). */
  max_participants: z.number().int().positive().default(64),
  /** Most rooms at once. */
  max_rooms: z.number().int().positive().default(1000),
  /** Most RTP forwarders of one room's mix (each encodes the mix once more). */
  max_forwarders: z.number().int().positive().default(16),
  /** The address plain-RTP participants' sockets bind, told them in `joined`'s `rtp`. */
  local_ip: z.string().min(1).default("127.0.0.1"),
  /** Ports plain-RTP participants' sockets take, `"min-max"` (the reference's). */
  rtp_port_range: z.string().regex(/^\d+-\d+$/).default("10000-60000"),
}).passthrough();

/** The parsed plugin configuration. */
export type AudioBridgeConfig = z.infer<typeof AudioBridgeConfig>;
