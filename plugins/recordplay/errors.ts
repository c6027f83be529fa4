/** Record&Play's error codes (as the reference's plugin defines them). */
export const RECORDPLAY_ERROR = {
  NO_MESSAGE: 411,
  INVALID_JSON: 412,
  INVALID_REQUEST: 413,
  INVALID_ELEMENT: 414,
  MISSING_ELEMENT: 415,
  NOT_FOUND: 416,
  INVALID_RECORDING: 417,
  INVALID_STATE: 418,
  INVALID_SDP: 419,
  RECORDING_EXISTS: 420,
  UNKNOWN_ERROR: 499,
} as const;

/** Codes of a missing and a mistyped field. */
export const FIELD_CODES = {
  missing: RECORDPLAY_ERROR.MISSING_ELEMENT,
  invalid: RECORDPLAY_ERROR.INVALID_ELEMENT,
} as const;
