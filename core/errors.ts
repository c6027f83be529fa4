/**
 * Errors that know how to answer: a `JanusError` carries a core code and builds
 * the `janus: "error"` reply; a `PluginError` carries a plugin's own code.
 *
 * @module
 */
import { DEFAULT_REASON, type JanusErrorCode, type JsonObject } from "./protocol.ts";

/** Where an error reply goes: the ids that were readable in the request. */
export interface ErrorContext {
  sessionId?: number | undefined;
  transaction?: string | undefined;
}

/** A core API failure with a Janus error code. */
export class JanusError extends Error {
  readonly code: JanusErrorCode;
  /** False for envelope errors, which never echo the transaction. */
  readonly echoTransaction: boolean;

  constructor(code: JanusErrorCode, reason?: string, options?: { echoTransaction?: boolean }) {
    super(reason ?? DEFAULT_REASON[code] ?? "Unknown error");
    this.name = "JanusError";
    this.code = code;
    this.echoTransaction = options?.echoTransaction ?? true;
  }

  /** The wire reply for this error. */
  toReply(context: ErrorContext): JsonObject {
    return errorReply(this.code, this.message, {
      sessionId: context.sessionId,
      transaction: this.echoTransaction ? context.transaction : undefined,
    });
  }
}

/** Builds `{"janus":"error",...}` with Janus's key order. */
export function errorReply(code: number, reason: string, context: ErrorContext): JsonObject {
  const reply: JsonObject = { janus: "error" };
  if (context.sessionId) reply.session_id = context.sessionId;
  if (context.transaction !== undefined) reply.transaction = context.transaction;
  reply.error = { code, reason };
  return reply;
}

/** A plugin-level failure: travels inside `plugindata.data`. */
export class PluginError extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.name = "PluginError";
    this.code = code;
  }
}
