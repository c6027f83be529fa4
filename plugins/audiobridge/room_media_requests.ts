/**
 * The requests of a room's own media work: `play_file`, `is_playing`, `stop_file`,
 * `enable_recording`, `rtp_forward`, `stop_rtp_forward` and `listforwarders`, with the
 * reference's checks (in its order), codes and replies.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type JsonObject, PluginError } from "../../core/plugin.ts";
import { srtpMasterKey } from "../../core/media/rtp/srtp.ts";
import { resolveHost } from "../_shared/resolve_host.ts";
import { BODY, type BodyField } from "../_shared/validate.ts";
import { AUDIOBRIDGE_ERROR, groupOf } from "./errors.ts";
import type { AudioBridgeContext } from "./requests.ts";
import { randomId, type Room } from "./room.ts";
import type { MixForwarder } from "./room_media.ts";
import { check, checkSecret, ROOM_FIELD } from "./schemas.ts";

const str = (name: string, required = false): BodyField => ({ name, ...BODY.string, required });
const bool = (name: string, required = false): BodyField => ({ name, ...BODY.bool, required });
const int = (name: string, required = false): BodyField => ({
  name,
  ...BODY.positiveInt,
  required,
});

export const PLAY_FILE_FIELDS: readonly BodyField[] = [
  str("filename", true),
  str("file_id"),
  str("group"),
  bool("loop"),
];
export const FILE_ID_FIELDS: readonly BodyField[] = [str("file_id", true)];
export const RECORD_FIELDS: readonly BodyField[] = [
  bool("record", true),
  str("record_file"),
  str("record_dir"),
];
export const RTP_FORWARD_FIELDS: readonly BodyField[] = [
  str("group"),
  int("ssrc"),
  str("codec"),
  int("ptype"),
  int("port", true),
  str("host", true),
  str("host_family"),
  int("srtp_suite"),
  str("srtp_crypto"),
  bool("always_on"),
];
export const STOP_FORWARD_FIELDS: readonly BodyField[] = [int("stream_id", true)];

/** The room of a request, its secret checked. */
function roomWithSecret(ctx: AudioBridgeContext, root: JsonObject): Room {
  const room = ctx.rooms.get(root.room as number);
  checkSecret(room.props.secret, root, "secret");
  return room;
}

/** Answers one of the room media requests (`request` is checked and lower case). */
export async function answerRoomMedia(
  ctx: AudioBridgeContext,
  request: string,
  root: JsonObject,
): Promise<JsonObject> {
  switch (request) {
    case "play_file": {
      check(root, ROOM_FIELD);
      check(root, PLAY_FILE_FIELDS);
      const room = roomWithSecret(ctx, root);
      const group = groupOf(room.props.groups, root.group);
      const fileId = (root.file_id as string | undefined) ?? String(randomId());
      if (room.media.announcements.has(fileId)) {
        throw new PluginError(AUDIOBRIDGE_ERROR.ID_EXISTS, `File ID exists (${fileId})`);
      }
      try {
        await room.media.play(fileId, root.filename as string, root.loop === true, group);
      } catch {
        throw new PluginError(AUDIOBRIDGE_ERROR.UNKNOWN, "Error opening file");
      }
      return { audiobridge: "success", room: room.id, file_id: fileId };
    }
    case "is_playing": {
      check(root, ROOM_FIELD);
      check(root, FILE_ID_FIELDS);
      const room = roomWithSecret(ctx, root);
      const fileId = root.file_id as string;
      return {
        audiobridge: "success",
        room: room.id,
        file_id: fileId,
        playing: room.media.announcements.has(fileId),
      };
    }
    case "stop_file": {
      check(root, ROOM_FIELD);
      check(root, FILE_ID_FIELDS);
      const room = roomWithSecret(ctx, root);
      const fileId = root.file_id as string;
      // The reference answers success for an unknown id too.
      room.media.stop(fileId);
      return { audiobridge: "success", room: room.id, file_id: fileId };
    }
    case "enable_recording": {
      check(root, RECORD_FIELDS);
      check(root, ROOM_FIELD);
      const room = roomWithSecret(ctx, root);
      const on = root.record === true;
      const dir = root.record_dir as string | undefined;
      if (on && dir !== undefined) {
        try {
          await Deno.mkdir(dir, { recursive: true });
        } catch (e) {
          throw new PluginError(AUDIOBRIDGE_ERROR.UNKNOWN, `mkdir error: ${(e as Error).message}`);
        }
      }
      if (on !== room.props.record) {
        room.props.record = on;
        if (on && root.record_file !== undefined) {
          room.props.record_file = root.record_file as string;
        }
        if (on && dir !== undefined) room.props.record_dir = dir;
        room.media.setRecording(on);
      }
      return { audiobridge: "success", record: room.props.record };
    }
    case "rtp_forward":
      return await rtpForward(ctx, root);
    case "stop_rtp_forward": {
      check(root, STOP_FORWARD_FIELDS);
      check(root, ROOM_FIELD);
      const room = roomWithSecret(ctx, root);
      const streamId = root.stream_id as number;
      room.media.removeForwarder(streamId);
      return { audiobridge: "success", room: room.id, stream_id: streamId };
    }
    case "listforwarders": {
      check(root, ROOM_FIELD);
      const room = roomWithSecret(ctx, root);
      return {
        audiobridge: "forwarders",
        room: room.id,
        rtp_forwarders: [...room.media.forwarders.values()].map((f) => ({
          stream_id: f.streamId,
          ...(f.group !== undefined ? { group: f.group } : {}),
          ip: f.host,
          port: f.port,
          ssrc: f.ssrc,
          codec: f.codec,
          ptype: f.ptype,
          ...(f.srtp ? { srtp: true } : {}),
          always_on: f.alwaysOn,
        })),
      };
    }
  }
  throw new PluginError(AUDIOBRIDGE_ERROR.INVALID_REQUEST, `Unknown request '${request}'`);
}

async function rtpForward(ctx: AudioBridgeContext, root: JsonObject): Promise<JsonObject> {
  check(root, RTP_FORWARD_FIELDS);
  check(root, ROOM_FIELD);
  const codec = ((root.codec as string | undefined) ?? "opus").toLowerCase();
  if (codec !== "opus" && codec !== "pcma" && codec !== "pcmu") {
    throw new PluginError(
      AUDIOBRIDGE_ERROR.INVALID_ELEMENT,
      `Unsupported codec (${root.codec as string})`,
    );
  }
  const port = root.port as number;
  if (port === 0 || port > 65535) {
    throw new PluginError(AUDIOBRIDGE_ERROR.INVALID_ELEMENT, `Invalid port number (${port})`);
  }
  const family = root.host_family as string | undefined;
  if (family !== undefined && !["ipv4", "ipv6"].includes(family.toLowerCase())) {
    throw new PluginError(
      AUDIOBRIDGE_ERROR.INVALID_ELEMENT,
      `Unsupported protocol family (${family})`,
    );
  }
  // Resolved before the room is looked at; the forwarder and the reply use the address.
  const fam = family === undefined ? 0 : family.toLowerCase() === "ipv4" ? 4 : 6;
  const host = await resolveHost(root.host as string, fam);
  if (host === undefined) {
    throw new PluginError(
      AUDIOBRIDGE_ERROR.INVALID_ELEMENT,
      `Could not resolve address (${root.host as string})...`,
    );
  }
  // Only both together ask for SRTP (one alone is ignored, as the reference).
  const srtp = root.srtp_suite !== undefined && root.srtp_crypto !== undefined;
  const suite = root.srtp_suite as number;
  if (srtp && suite !== 32 && suite !== 80) {
    throw new PluginError(AUDIOBRIDGE_ERROR.INVALID_ELEMENT, `Invalid SRTP suite (${suite})`);
  }
  const room = roomWithSecret(ctx, root);
  // Optional here (none: the full mix); ignored without groups; its error names no group.
  const groups = room.props.groups;
  const group = groups ? root.group as string | undefined : undefined;
  if (group !== undefined && !groups?.includes(group)) {
    throw new PluginError(AUDIOBRIDGE_ERROR.NO_SUCH_GROUP, "No such group");
  }
  if (room.media.forwarders.size >= ctx.maxForwarders) {
    throw new PluginError(
      AUDIOBRIDGE_ERROR.UNKNOWN,
      `Too many RTP forwarders (max ${ctx.maxForwarders})`,
    );
  }
  let streamId = randomId() % 0x100000000 || 1;
  while (room.media.forwarders.has(streamId)) streamId = randomId() % 0x100000000 || 1;
  const master = srtp ? srtpMasterKey(root.srtp_crypto as string) : undefined;
  // A crypto of fewer than 30 bytes: no forwarder, yet "success" with stream_id 0 (reference).
  if (srtp && !master) streamId = 0;
  const f: MixForwarder = {
    streamId,
    host,
    port,
    ssrc: (root.ssrc as number | undefined) || streamId,
    codec,
    ptype: (root.ptype as number | undefined) ?? 100,
    alwaysOn: root.always_on === true,
    ...(group !== undefined ? { group } : {}),
    ...(master
      ? { srtp: { suite: suite as 32 | 80, key: Buffer.from(master).toString("base64") } }
      : {}),
  };
  if (streamId !== 0) room.media.addForwarder(f);
  return {
    audiobridge: "success",
    room: room.id,
    ...(group !== undefined ? { group } : {}),
    stream_id: streamId,
    host,
    port,
  };
}
