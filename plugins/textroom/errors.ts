/**
 * TextRoom's own error codes (as the reference's plugin numbers them) and builders for the
 * errors whose wording recurs.
 *
 * @module
 */
import { PluginError } from "../../core/plugin.ts";

/** The plugin's error codes. */
export const TEXTROOM_ERROR = {
  NO_MESSAGE: 411,
  INVALID_JSON: 412,
  MISSING_ELEMENT: 413,
  INVALID_ELEMENT: 414,
  INVALID_REQUEST: 415,
  ALREADY_SETUP: 416,
  NO_SUCH_ROOM: 417,
  ROOM_EXISTS: 418,
  UNAUTHORIZED: 419,
  USERNAME_EXISTS: 420,
  ALREADY_IN_ROOM: 421,
  NOT_IN_ROOM: 422,
  NO_SUCH_USER: 423,
  UNKNOWN: 499,
} as const;

/** The (missing, invalid) pair for `checkBody`. */
export const FIELD_CODES = {
  missing: TEXTROOM_ERROR.MISSING_ELEMENT,
  invalid: TEXTROOM_ERROR.INVALID_ELEMENT,
} as const;

/** 417 `No such room (R)`. */
export function noSuchRoom(room: number): PluginError {
  return new PluginError(TEXTROOM_ERROR.NO_SUCH_ROOM, `No such room (${room})`);
}

/** 422 `Not in room R`. */
export function notInRoom(room: number): PluginError {
  return new PluginError(TEXTROOM_ERROR.NOT_IN_ROOM, `Not in room ${room}`);
}

/** 414 for an array that must hold only strings (`allowed`, `tos`). */
export function notStrings(name: string): PluginError {
  return new PluginError(
    TEXTROOM_ERROR.INVALID_ELEMENT,
    `Invalid element in the ${name} array (not a string)`,
  );
}

/** 499 for a `permanent` change with nowhere to write it (the reference: no config file). */
export function noConfigFile(what: string): PluginError {
  return new PluginError(TEXTROOM_ERROR.UNKNOWN, `No configuration file, can't ${what}`);
}
