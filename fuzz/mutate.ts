/**
 * Mutations of a generated request: on the value (wrong types, deep nesting, huge
 * strings and arrays, removed or extra fields) and on its text (cut, flipped bytes,
 * stray tokens), so most mutants are near-valid Janus requests.
 *
 * @module
 */
import type { Json, JsonObject } from "../core/protocol.ts";
import { tame } from "./grammar.ts";
import type { Rng } from "./prng.ts";

/** A mutated request: JSON text (possibly not JSON) to send as one message or body. */
export interface Mutant {
  text: string;
  /** What was done, for the failure report. */
  how: string;
}

function randomValue(rng: Rng, limit: number): Json {
  return rng.weighted<() => Json>([
    [2, () => rng.string(20)],
    [2, () => rng.pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308, Number.MIN_VALUE])],
    [1, () => rng.chance(0.5)],
    [1, () => null],
    [1, () => []],
    [1, () => ({})],
    [1, () => [rng.string(5), rng.int(0, 9)]],
    [1, () => ({ [rng.string(5)]: rng.string(5) })],
    [1, () => "x".repeat(rng.int(1, limit))],
  ])();
}

/** A value nested `depth` levels (objects or arrays). */
export function deep(depth: number, arrays: boolean, leaf: Json = 1): Json {
  let v: Json = leaf;
  for (let i = 0; i < depth; i++) v = arrays ? [v] : { a: v };
  return v;
}

/** Every object inside `value` (for picking a place to mutate). */
function objects(value: Json, out: JsonObject[] = [], depth = 0): JsonObject[] {
  if (depth > 8 || typeof value !== "object" || value === null) return out;
  if (Array.isArray(value)) {
    for (const v of value) objects(v, out, depth + 1);
  } else {
    out.push(value);
    for (const v of Object.values(value)) if (v !== undefined) objects(v, out, depth + 1);
  }
  return out;
}

/** Mutates a parsed request in place; returns what was done. */
function mutateValue(rng: Rng, request: JsonObject, limit: number): string {
  const target = rng.pick(objects(request));
  const keys = Object.keys(target);
  const key = keys.length > 0 && rng.chance(0.8) ? rng.pick(keys) : rng.string(8);
  // Deep and huge values are rare: each costs tens of milliseconds on both sides.
  const kind = rng.chance(0.06) ? rng.pick([4, 5, 6]) : rng.pick([0, 1, 2, 3, 7, 8, 9]);
  switch (kind) {
    case 0:
      delete target[key];
      return `delete ${key}`;
    case 1:
    case 2:
    case 3:
      target[key] = randomValue(rng, 64);
      return `retype ${key}`;
    case 4:
      target[key] = deep(rng.pick([100, 1000, 5000, 20_000]), rng.chance(0.5));
      return `deep ${key}`;
    case 5: {
      // Strings near and over the message limit.
      const n = rng.pick([limit - 200, limit + 10, rng.int(1000, 100_000)]);
      target[key] = rng.chance(0.5) ? "a".repeat(Math.max(0, n)) : "\u00e9\ud800".repeat(n >> 2);
      return `huge string ${key}`;
    }
    case 6:
      target[key] = new Array(rng.pick([1000, 50_000, 200_000])).fill(0);
      return `huge array ${key}`;
    case 7:
      // An own property even for "__proto__" (as JSON.parse makes it).
      Object.defineProperty(target, rng.pick(["__proto__", "constructor", "toString"]), {
        value: randomValue(rng, 10),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return `prototype key`;
    case 8:
      target[key] = rng.pick(["", "\u0000", "0", "-1", "1e400", "null", "NaN"]);
      return `odd string ${key}`;
    default:
      for (let i = 0; i < rng.int(1, 20); i++) target[rng.string(10)] = randomValue(rng, 32);
      return "extra fields";
  }
}

/** Mutates JSON text; returns the new text and what was done. */
function mutateText(rng: Rng, text: string): Mutant {
  const at = rng.int(0, text.length);
  switch (rng.chance(0.1) ? rng.pick([6, 7, 8]) : rng.pick([0, 1, 2, 3, 4, 5, 9])) {
    case 0:
      return { text: text.slice(0, at), how: `cut at ${at}` };
    case 1:
      return {
        text: text.slice(0, at) + rng.pick([",", "}", "]", ":", '"', "{", "[", "\\"]) +
          text.slice(at),
        how: "stray token",
      };
    case 2:
      return { text: text.slice(0, at) + text.slice(at + rng.int(1, 10)), how: "bytes dropped" };
    case 3:
      return { text: "\ufeff" + text, how: "BOM" };
    case 4:
      return { text: text + rng.pick(["x", "}", " {}", "\u0000", "\n\n", "[]"]), how: "trailing" };
    case 5:
      return {
        text: rng.pick(["", " ", "null", "5", '"x"', "[]", "[{}]", "{}", "true", "\u0000"]),
        how: "scalar",
      };
    case 6:
      return { text: "[".repeat(rng.int(1000, 300_000)), how: "open arrays" };
    case 7:
      return { text: '{"a":'.repeat(rng.int(1000, 200_000)), how: "open objects" };
    case 8: {
      const n = rng.int(1000, 100_000);
      return {
        text: `{"janus":"info","transaction":"t","x":${"[".repeat(n)}${"]".repeat(n)}}`,
        how: `closed nesting ${n}`,
      };
    }
    default:
      return {
        text: text.replace(
          /"(\w+)":/,
          (_m, k: string) =>
            `"${k}":${rng.pick(["", "0x1", "01", "+1", "'a'", "NaN", "undefined"])}`,
        ),
        how: "bad literal",
      };
  }
}

/** Turns a generated request into the text to send: mostly near-valid, sometimes broken. */
export function mutate(rng: Rng, request: JsonObject, limit: number): Mutant {
  const hows: string[] = [];
  if (rng.chance(0.55)) {
    for (let i = rng.int(1, 3); i > 0; i--) hows.push(mutateValue(rng, request, limit));
  }
  tame(request);
  let text: string;
  try {
    text = JSON.stringify(request);
  } catch {
    // Deep values past the encoder's stack: send them as text instead.
    text = `{"janus":"info","transaction":"t","x":${"[".repeat(50_000)}${"]".repeat(50_000)}}`;
    hows.push("deep text");
  }
  if (rng.chance(0.25)) {
    const m = mutateText(rng, text);
    text = m.text;
    hows.push(m.how);
  }
  return { text, how: hows.join(", ") || "as generated" };
}
