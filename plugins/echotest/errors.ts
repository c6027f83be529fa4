/** EchoTest's own error codes (as the reference's plugin defines them). */
export const ECHOTEST_ERROR = {
  NO_MESSAGE: 411,
  INVALID_JSON: 412,
  INVALID_ELEMENT: 413,
  INVALID_SDP: 414,
} as const;
