/**
 * VideoRoom's own error codes (as the reference's plugin numbers them) and small
 * builders for the errors whose wording recurs.
 *
 * @module
 */
import { PluginError } from "../../core/plugin.ts";

/** The plugin's error codes. */
export const VIDEOROOM_ERROR = {
  NO_MESSAGE: 421,
  INVALID_JSON: 422,
  INVALID_REQUEST: 423,
  JOIN_FIRST: 424,
  ALREADY_JOINED: 425,
  NO_SUCH_ROOM: 426,
  ROOM_EXISTS: 427,
  NO_SUCH_FEED: 428,
  MISSING_ELEMENT: 429,
  INVALID_ELEMENT: 430,
  INVALID_SDP_TYPE: 431,
  PUBLISHERS_FULL: 432,
  UNAUTHORIZED: 433,
  ALREADY_PUBLISHED: 434,
  NOT_PUBLISHED: 435,
  ID_EXISTS: 436,
  INVALID_SDP: 437,
  UNKNOWN: 499,
} as const;

/** The (missing, invalid) pair for `checkBody`. */
export const FIELD_CODES = {
  missing: VIDEOROOM_ERROR.MISSING_ELEMENT,
  invalid: VIDEOROOM_ERROR.INVALID_ELEMENT,
} as const;

/** 426 `No such room (R)`. */
export function noSuchRoom(room: number): PluginError {
  return new PluginError(VIDEOROOM_ERROR.NO_SUCH_ROOM, `No such room (${room})`);
}

/** 428 `No such feed (F)`. */
export function noSuchFeed(feed: number): PluginError {
  return new PluginError(VIDEOROOM_ERROR.NO_SUCH_FEED, `No such feed (${feed})`);
}

/** 429 `Missing mandatory element (NAME)`. */
export function missing(name: string): PluginError {
  return new PluginError(VIDEOROOM_ERROR.MISSING_ELEMENT, `Missing mandatory element (${name})`);
}

/** 433 `Unauthorized (WHY)`. */
export function unauthorized(why: string): PluginError {
  return new PluginError(VIDEOROOM_ERROR.UNAUTHORIZED, `Unauthorized (${why})`);
}

/** 424, for requests on a handle that never joined. */
export function joinFirst(): PluginError {
  return new PluginError(
    VIDEOROOM_ERROR.JOIN_FIRST,
    "Invalid request on unconfigured participant",
  );
}

/** 423 `Unknown request 'NAME'`. */
export function unknownRequest(name: string): PluginError {
  return new PluginError(VIDEOROOM_ERROR.INVALID_REQUEST, `Unknown request '${name}'`);
}
