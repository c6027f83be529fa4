/**
 * VideoCall's own error codes (as the reference's plugin numbers them).
 *
 * @module
 */

/** The plugin's error codes. */
export const VIDEOCALL_ERROR = {
  NO_MESSAGE: 470,
  INVALID_JSON: 471,
  INVALID_REQUEST: 472,
  REGISTER_FIRST: 473,
  INVALID_ELEMENT: 474,
  MISSING_ELEMENT: 475,
  USERNAME_TAKEN: 476,
  ALREADY_REGISTERED: 477,
  NO_SUCH_USERNAME: 478,
  USE_ECHO_TEST: 479,
  ALREADY_IN_CALL: 480,
  NO_CALL: 481,
  MISSING_SDP: 482,
  INVALID_SDP: 483,
  UNKNOWN: 499,
} as const;

/** The (missing, invalid) pair for `checkBody`. */
export const FIELD_CODES = {
  missing: VIDEOCALL_ERROR.MISSING_ELEMENT,
  invalid: VIDEOCALL_ERROR.INVALID_ELEMENT,
} as const;
