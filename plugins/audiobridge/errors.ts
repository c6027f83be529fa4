/**
 * AudioBridge's own error codes (as the reference's plugin numbers them) and builders for the
 * errors whose wording recurs.
 *
 * @module
 */
import { PluginError } from "../../core/plugin.ts";

/** The plugin's error codes. */
export const AUDIOBRIDGE_ERROR = {
  NO_MESSAGE: 480,
  INVALID_JSON: 481,
  INVALID_REQUEST: 482,
  MISSING_ELEMENT: 483,
  INVALID_ELEMENT: 484,
  NO_SUCH_ROOM: 485,
  ROOM_EXISTS: 486,
  NOT_JOINED: 487,
  LIBOPUS_ERROR: 488,
  UNAUTHORIZED: 489,
  ID_EXISTS: 490,
  ALREADY_JOINED: 491,
  NO_SUCH_USER: 492,
  INVALID_SDP: 493,
  NO_SUCH_GROUP: 494,
  UNKNOWN: 499,
} as const;

/** The (missing, invalid) pair for `checkBody`. */
export const FIELD_CODES = {
  missing: AUDIOBRIDGE_ERROR.MISSING_ELEMENT,
  invalid: AUDIOBRIDGE_ERROR.INVALID_ELEMENT,
} as const;

/** 485 `No such room (R)`. */
export function noSuchRoom(room: number): PluginError {
  return new PluginError(AUDIOBRIDGE_ERROR.NO_SUCH_ROOM, `No such room (${room})`);
}

/** 492 `No such user U in room R`. */
export function noSuchUser(user: number, room: number): PluginError {
  return new PluginError(AUDIOBRIDGE_ERROR.NO_SUCH_USER, `No such user ${user} in room ${room}`);
}

/** 494 `No such group (G)`. */
export function noSuchGroup(group: string): PluginError {
  return new PluginError(AUDIOBRIDGE_ERROR.NO_SUCH_GROUP, `No such group (${group})`);
}

/**
 * The group a request names in a room with groups (483 without one, 484 when not a string, 494
 * when unknown); undefined in a room without groups, whatever the request says.
 */
export function groupOf(groups: readonly string[] | undefined, group: unknown): string | undefined {
  if (!groups) return undefined;
  if (group === undefined) {
    throw new PluginError(AUDIOBRIDGE_ERROR.MISSING_ELEMENT, "Missing mandatory element (group)");
  }
  if (typeof group !== "string") {
    throw new PluginError(
      AUDIOBRIDGE_ERROR.INVALID_ELEMENT,
      "Invalid element type (group should be a string)",
    );
  }
  if (!groups.includes(group)) throw noSuchGroup(group);
  return group;
}

/** 487 with the reference's wording for what could not be done. */
export function notJoined(what: string): PluginError {
  return new PluginError(AUDIOBRIDGE_ERROR.NOT_JOINED, what);
}

/** 484 for an array that must hold only strings (`allowed`, `groups`). */
export function notStrings(name: string): PluginError {
  return new PluginError(
    AUDIOBRIDGE_ERROR.INVALID_ELEMENT,
    `Invalid element in the ${name} array (not a string)`,
  );
}

/** 499 for a `permanent` change with nowhere to write it (the reference: no config file). */
export function noConfigFile(what: string): PluginError {
  return new PluginError(AUDIOBRIDGE_ERROR.UNKNOWN, `No configuration file, can't ${what}`);
}
