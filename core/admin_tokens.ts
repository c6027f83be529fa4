/**
 * Admin token requests (`add_token`, `allow_token`, `disallow_token`,
 * `list_tokens`, `remove_token`) over the gateway's stored tokens, with the
 * reference's checks in its order.
 *
 * @module
 */
import { z } from "zod";
import type { AdminRequest } from "./admin_common.ts";
import { JanusError } from "./errors.ts";
import type { Gateway } from "./gateway.ts";
import { JANUS_ERROR, type JsonObject } from "./protocol.ts";
import { FIELD, type FieldRule, optional, required } from "./schemas.ts";

const ARRAY: FieldRule<unknown[]> = { schema: z.array(z.unknown()), expected: "an array" };

/**
 * Answers a token request with its reply fields (after `janus` and `transaction`),
 * or returns undefined when `req` is not a token request.
 *
 * @throws {JanusError} 490 when stored tokens are off, 456/467 for bad fields, 470 for an unknown token
 */
export function tokenRequest(gateway: Gateway, req: AdminRequest): JsonObject | undefined {
  switch (req.name) {
    case "add_token":
    case "allow_token":
    case "disallow_token":
      storedMode(gateway);
      return { data: { plugins: allowToken(gateway, req) } };
    case "list_tokens":
      storedMode(gateway);
      // Tokens that may access no plugin are left out, as the reference does.
      return {
        data: { tokens: gateway.tokens.list().filter((t) => t.allowed_plugins.length > 0) },
      };
    case "remove_token": {
      storedMode(gateway);
      const token = required(req.body, "token", FIELD.string);
      if (!gateway.tokens.remove(token)) {
        throw new JanusError(JANUS_ERROR.UNKNOWN, "Error removing token");
      }
      return {};
    }
    default:
      return undefined;
  }
}

function storedMode(gateway: Gateway): void {
  if (!gateway.config.general.token_auth) {
    throw new JanusError(JANUS_ERROR.UNKNOWN, "Stored-Token based authentication disabled");
  }
}

function allowToken(gateway: Gateway, req: AdminRequest): string[] {
  const add = req.name === "add_token";
  const token = required(req.body, "token", FIELD.string);
  const plugins = optional(req.body, "plugins", ARRAY) ?? [];
  if (!add && plugins.length === 0) {
    throw new JanusError(
      JANUS_ERROR.INVALID_ELEMENT_TYPE,
      "Invalid element type (plugins should be a non-empty array)",
    );
  }
  if (add) {
    // No list (or an empty one) allows every loaded plugin; unknown names are skipped.
    const known = plugins.length === 0
      ? [...gateway.plugins.keys()]
      : plugins.filter((p): p is string => typeof p === "string" && gateway.plugins.has(p));
    return gateway.tokens.add(token, known);
  }
  if (!gateway.tokens.has(token)) {
    throw new JanusError(JANUS_ERROR.TOKEN_NOT_FOUND, `Token ${token} not found`);
  }
  const names = plugins.filter((p): p is string => typeof p === "string" && gateway.plugins.has(p));
  if (names.length !== plugins.length) {
    throw new JanusError(
      JANUS_ERROR.INVALID_ELEMENT_TYPE,
      "Invalid element type (some of the provided plugins are invalid)",
    );
  }
  const result = req.name === "allow_token"
    ? gateway.tokens.allow(token, names)
    : gateway.tokens.disallow(token, names);
  return result ?? [];
}
