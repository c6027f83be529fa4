/**
 * VideoRoom request fields, in the order the reference checks them, plus the plugin's
 * configuration schema. Each list is checked with `checkBody` (429 missing, 430 invalid).
 *
 * @module
 */
import { z } from "zod";
import type { JsonObject } from "../../core/plugin.ts";
import { BODY, type BodyField, checkBody } from "../_shared/validate.ts";
import { FIELD_CODES } from "./errors.ts";

const ARRAY = { schema: z.array(z.unknown()), expected: "an array" } as const;
const OBJECT = { schema: z.record(z.string(), z.unknown()), expected: "an object" } as const;

const f = (
  name: string,
  rule: { schema: z.ZodType; expected: string },
  required = false,
): BodyField => ({ name, ...rule, required });

const str = (name: string, required = false) => f(name, BODY.string, required);
const bool = (name: string, required = false) => f(name, BODY.bool, required);
const int = (name: string, required = false) => f(name, BODY.positiveInt, required);
const integer = (name: string) =>
  f(name, { schema: z.number().int(), expected: "an integer" }, false);

/** `room` as most requests need it. */
export const ROOM_FIELD: readonly BodyField[] = [int("room", true)];

/** Room properties of `create` (and of rooms in the configuration). */
export const CREATE_FIELDS: readonly BodyField[] = [
  int("room"),
  bool("permanent"),
  str("description"),
  str("secret"),
  str("pin"),
  bool("is_private"),
  f("allowed", ARRAY),
  bool("require_pvtid"),
  bool("signed_tokens"),
  int("publishers"),
  int("bitrate"),
  bool("bitrate_cap"),
  int("fir_freq"),
  str("audiocodec"),
  str("videocodec"),
  str("vp9_profile"),
  str("h264_profile"),
  bool("opus_fec"),
  bool("opus_dtx"),
  bool("video_svc"),
  bool("audiolevel_ext"),
  bool("audiolevel_event"),
  int("audio_active_packets"),
  int("audio_level_average"),
  bool("videoorient_ext"),
  bool("playoutdelay_ext"),
  bool("transport_wide_cc_ext"),
  bool("record"),
  str("rec_dir"),
  bool("lock_record"),
  bool("notify_joining"),
  bool("require_e2ee"),
  bool("dummy_publisher"),
  str("admin_key"),
];

/** `edit`'s optional changes. */
export const EDIT_FIELDS: readonly BodyField[] = [
  str("secret"),
  str("new_description"),
  str("new_secret"),
  str("new_pin"),
  bool("new_is_private"),
  bool("new_require_pvtid"),
  int("new_bitrate"),
  int("new_fir_freq"),
  int("new_publishers"),
  bool("new_lock_record"),
  str("new_rec_dir"),
  bool("permanent"),
];

/**
 * Fields checked before the room, per request (the reference's order). `kick`, `moderate` and
 * `enable_recording` then read `room` unchecked (see `ROOM_UNCHECKED`).
 */
export const BEFORE_ROOM_FIELDS: Readonly<Record<string, readonly BodyField[]>> = {
  kick: [int("id", true), str("secret")],
  moderate: [int("id", true), str("secret"), str("mid", true), bool("mute", true)],
  enable_recording: [bool("record", true)],
  rtp_forward: [
    str("secret"),
    str("host", true),
    str("host_family"),
    bool("simulcast"),
    int("srtp_suite"),
    str("srtp_crypto"),
    f("streams", ARRAY),
    ...[
      "video_port",
      "video_rtcp_port",
      "video_ssrc",
      "video_pt",
      "video_port_2",
      "video_ssrc_2",
      "video_pt_2",
      "video_port_3",
      "video_ssrc_3",
      "video_pt_3",
      "audio_port",
      "audio_rtcp_port",
      "audio_ssrc",
      "audio_pt",
      "data_port",
    ].map((name) => int(name)),
  ],
};

/** Requests whose `room` the reference reads without a type check (a non-integer is 0). */
export const ROOM_UNCHECKED: ReadonlySet<string> = new Set([
  "kick",
  "moderate",
  "enable_recording",
]);

/** Fields checked after `room` (after the room lookup where `room` is unchecked). */
export const REQUEST_FIELDS: Readonly<Record<string, readonly BodyField[]>> = {
  destroy: [str("secret"), bool("permanent")],
  allowed: [str("secret"), str("action", true), f("allowed", ARRAY)],
  enable_recording: [str("secret")],
  listforwarders: [str("secret")],
  rtp_forward: [int("publisher_id", true)],
  stop_rtp_forward: [str("secret"), int("publisher_id", true), int("stream_id", true)],
};

/** `join` for both kinds (after `room`), legacy media flags included (the reference). */
export const JOIN_FIELDS: readonly BodyField[] = [
  str("ptype", true),
  bool("audio"),
  bool("video"),
  bool("data"),
  int("bitrate"),
  bool("record"),
  str("filename"),
  str("token"),
];

/** The publisher's identity fields of `join`. */
export const PUBLISHER_JOIN_FIELDS: readonly BodyField[] = [str("display"), int("id")];

/**
 * Publisher `configure` / `publish` fields. The reference checks `audio_level_averge` (sic),
 * so `audio_level_average` is never refused; `metadata` is not checked either.
 */
export const CONFIGURE_FIELDS: readonly BodyField[] = [
  f("descriptions", ARRAY),
  str("audiocodec"),
  str("videocodec"),
  int("bitrate"),
  bool("keyframe"),
  bool("record"),
  str("filename"),
  str("display"),
  str("secret"),
  int("audio_active_packets"),
  bool("audio"),
  bool("video"),
  bool("data"),
  bool("update"),
  bool("restart"),
];

/** One entry of `configure`'s `descriptions` (a non-object entry misses `mid`). */
export const DESCRIPTION_FIELDS: readonly BodyField[] = [
  str("mid", true),
  str("description", true),
];

/** One object entry of a publisher's `configure` `streams` (others are skipped). */
export const PUBLISH_STREAM_FIELDS: readonly BodyField[] = [
  str("mid"),
  bool("send"),
  integer("min_delay"),
  integer("max_delay"),
];

/** Subscriber `join` fields (`use_msid` and `close_pc` are not checked by the reference). */
export const SUBSCRIBER_JOIN_FIELDS: readonly BodyField[] = [
  f("streams", ARRAY),
  int("private_id"),
  bool("autoupdate"),
  bool("offer_audio"),
  bool("offer_video"),
  bool("offer_data"),
  int("substream"),
  int("temporal"),
  int("fallback"),
  int("spatial_layer"),
  int("temporal_layer"),
];

/** `feed`, checked after the other fields of a subscription (top level or stream entry). */
export const FEED_FIELD: readonly BodyField[] = [int("feed", true)];

/**
 * One entry of a subscriber `join`'s `streams`, before its `feed` (a non-object entry misses
 * `feed`). Each entry is checked, then looked up, in turn.
 */
export const SUBSCRIBE_STREAM_FIELDS: readonly BodyField[] = [
  str("mid"),
  str("crossrefid"),
  bool("send"),
  int("substream"),
  int("temporal"),
  int("spatial_layer"),
  int("temporal_layer"),
  integer("min_delay"),
  integer("max_delay"),
];

/** One entry of a subscriber's `streams` array. */
export const STREAM_FIELDS: readonly BodyField[] = [
  int("feed"),
  str("mid"),
  str("sub_mid"),
  bool("send"),
];

/** Subscriber `update` lists. */
export const UPDATE_FIELDS: readonly BodyField[] = [f("subscribe", ARRAY), f("unsubscribe", ARRAY)];

/** Checks `body` against `fields` with VideoRoom's codes. */
export function check(body: JsonObject, fields: readonly BodyField[]): void {
  checkBody(body, fields, FIELD_CODES);
}

/** An array entry as an object to check (a non-object has none of the fields). */
export function entryObject(item: unknown): JsonObject {
  return OBJECT.schema.safeParse(item).success ? item as JsonObject : {};
}

/** Checks each element of an array field is an object with `fields`. */
export function checkEach(items: readonly unknown[], fields: readonly BodyField[]): JsonObject[] {
  const out: JsonObject[] = [];
  for (const item of items) {
    if (!OBJECT.schema.safeParse(item).success) continue;
    const entry = item as JsonObject;
    check(entry, fields);
    out.push(entry);
  }
  return out;
}

/** The plugin's section of the gateway configuration. */
export const VideoRoomConfig = z.object({
  /** Rooms to create at start-up (default: the reference's stock rooms 1234 and 5678). */
  rooms: z.array(z.record(z.string(), z.unknown())).optional(),
  /** JSON file that `permanent: true` rooms are written to (and read from at start-up). */
  rooms_file: z.string().optional(),
  /** Admission control: forwarded subscriber streams a room may carry. */
  max_streams_per_room: z.number().int().positive().default(64),
}).passthrough();

/** The parsed plugin configuration. */
export type VideoRoomConfig = z.infer<typeof VideoRoomConfig>;
