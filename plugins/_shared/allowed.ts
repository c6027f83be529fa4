/**
 * The `allowed` request of the reference's AudioBridge and TextRoom (a room's token list):
 * `enable`/`disable` token checks, `add`/`remove` the tokens of `allowed`; the reply lists the
 * tokens, except for `disable`.
 *
 * @module
 */
import { type JsonObject, PluginError } from "../../core/plugin.ts";

/** A room with a token list that `join` checks while `checkTokens` is on. */
export interface TokenRoom {
  readonly id: number;
  readonly allowed: Set<string>;
  checkTokens: boolean;
}

const ACTIONS: ReadonlySet<string> = new Set(["enable", "disable", "add", "remove"]);

/**
 * Answers `allowed` for `plugin` (the reply's first key) on the body's fields already checked:
 * the action is checked first (`invalidCode`), then `roomOf` finds the room and checks its
 * secret, then the tokens (`invalidCode` unless each is a string).
 */
export function answerAllowed(
  root: JsonObject,
  plugin: string,
  invalidCode: number,
  roomOf: () => TokenRoom,
): JsonObject {
  const action = (root.action as string).toLowerCase();
  if (!ACTIONS.has(action)) {
    throw new PluginError(invalidCode, `Unsupported action '${root.action as string}' (allowed)`);
  }
  const room = roomOf();
  if (action === "enable") room.checkTokens = true;
  else if (action === "disable") room.checkTokens = false;
  else if (root.allowed !== undefined) {
    const tokens = root.allowed as unknown[];
    if (tokens.some((t) => typeof t !== "string")) {
      throw new PluginError(invalidCode, "Invalid element in the allowed array (not a string)");
    }
    for (const t of tokens as string[]) {
      if (action === "add") room.allowed.add(t);
      else room.allowed.delete(t);
    }
  }
  const reply: JsonObject = { [plugin]: "success", room: room.id };
  if (action !== "disable") reply.allowed = [...room.allowed];
  return reply;
}
