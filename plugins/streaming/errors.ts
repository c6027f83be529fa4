/**
 * The Streaming plugin's error codes (`janus_streaming.c`).
 *
 * @module
 */
export const STREAMING_ERROR = {
  NO_MESSAGE: 450,
  INVALID_JSON: 451,
  INVALID_REQUEST: 452,
  MISSING_ELEMENT: 453,
  INVALID_ELEMENT: 454,
  NO_SUCH_MOUNTPOINT: 455,
  CANT_CREATE: 456,
  UNAUTHORIZED: 457,
  CANT_SWITCH: 458,
  CANT_RECORD: 459,
  INVALID_STATE: 460,
  UNKNOWN_ERROR: 470,
} as const;

/** Missing and invalid element codes, for `checkBody`. */
export const CODES = {
  missing: STREAMING_ERROR.MISSING_ELEMENT,
  invalid: STREAMING_ERROR.INVALID_ELEMENT,
};
