/**
 * One fuzz case: what to send on one connection (HTTP API, admin HTTP, or a WebSocket)
 * and what to expect back, built from a generated request and its mutations.
 *
 * @module
 */
import type { JsonObject } from "../core/protocol.ts";
import { adminRequest, coreRequest, handleId, type IdPool, sessionId } from "./grammar.ts";
import { mutate } from "./mutate.ts";
import type { Rng } from "./prng.ts";
import { chunked, concat } from "./raw_http.ts";
import { fragments, type Frame } from "./raw_ws.ts";

/** Where the gateway listens. */
export interface Ports {
  http: number;
  admin: number;
  ws: number;
  adminWs: number;
}

/** Bytes for one HTTP connection and the replies they should get. */
export interface HttpCase {
  kind: "http";
  port: number;
  bytes: Uint8Array;
  /** One entry per request that expects a reply, in order. */
  methods: string[];
  closeWrite: boolean;
  abandon: boolean;
  /** The framing is broken on purpose: the server may refuse it or close. */
  framing: boolean;
  what: string;
  requests: number;
}

/** Frames for one WebSocket and the replies they should get. */
export interface WsCase {
  kind: "ws";
  port: number;
  protocol: string;
  frames: Frame[];
  /** Text replies to wait for. */
  expect: number;
  /** A protocol violation or oversized message: the server should close. */
  mustClose: boolean;
  /** The server may close instead of answering (invalid UTF-8 in a text frame). */
  mayClose: boolean;
  abandon: boolean;
  what: string;
  requests: number;
}

export type FuzzCase = HttpCase | WsCase;

const encoder = new TextEncoder();

function target(rng: Rng, pool: IdPool, base: string, body: JsonObject): string {
  // Ids move from the body to the path now and then (the path wins or conflicts).
  const r = rng.int(0, 9);
  if (r < 4) return base;
  const s = typeof body.session_id === "number" && rng.chance(0.7)
    ? body.session_id
    : sessionId(rng, pool);
  if (rng.chance(0.6)) delete body.session_id;
  if (r < 7) return `${base}/${s}`;
  const h = typeof body.handle_id === "number" && rng.chance(0.7)
    ? body.handle_id
    : handleId(rng, pool, s);
  if (rng.chance(0.6)) delete body.handle_id;
  if (r < 9) return `${base}/${s}/${h}`;
  return rng.pick([
    `${base}/${s}/${h}/x`,
    `${base}/0`,
    `${base}/-1`,
    `${base}/${"9".repeat(30)}`,
    `${base}/abc/${h}`,
    `${base}/%zz`,
    `${base}//${s}`,
    `${base}/${s}?x=%`,
    `${base}/info`,
  ]);
}

/** The verb for a report (a mutated one may be anything, even a 20,000-deep array). */
function verb(request: JsonObject): string {
  const v = request.janus;
  return typeof v === "string"
    ? v.slice(0, 40)
    : `(janus ${Array.isArray(v) ? "array" : typeof v})`;
}

/** A request target as sent: bytes outside visible ASCII percent-encoded, a bare `%` kept. */
function target8(path: string): string {
  return path.replace(
    /[^\x21-\x7e]+/gu,
    (run) => [...encoder.encode(run)].map((b) => `%${b.toString(16).padStart(2, "0")}`).join(""),
  );
}

function request(
  method: string,
  path: string,
  body: Uint8Array | undefined,
  extra = "",
): Uint8Array {
  const length = body === undefined ? "" : `Content-Length: ${body.length}\r\n`;
  const head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${length}${extra}\r\n`;
  return body === undefined ? encoder.encode(head) : concat([encoder.encode(head), body]);
}

/** A POST of a mutated API or admin request (path and body). */
function post(rng: Rng, pool: IdPool, admin: boolean, limit: number) {
  const generated = admin ? adminRequest(rng, pool) : coreRequest(rng, pool);
  const path = target(rng, pool, admin ? "/admin" : "/janus", generated);
  const m = mutate(rng, generated, limit);
  return { path, body: encoder.encode(m.text), how: `${verb(generated)} ${m.how}` };
}

function getRequest(rng: Rng, pool: IdPool): { path: string; what: string } {
  const s = sessionId(rng, pool);
  const path = rng.weighted([
    [3, "/janus/info"],
    [2, `/janus/${s}?maxev=${rng.pick([1, 5, 0, -1, "x"])}`],
    [2, `/janus/${s}/${handleId(rng, pool, s)}`],
    [1, "/admin/info"],
    [1, "/admin"],
    [1, `/janus/${s}?apisecret=${rng.string(5)}&token=%&maxev`],
  ]);
  return { path: target8(path), what: `GET ${path}` };
}

const ODD_METHODS = [
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
  "HEAD",
  "FOO",
  "PROPFIND",
  "get",
  "TRACE",
];
const ODD_PATHS = [
  "/",
  "/janus/../admin",
  "/janus//1",
  "/janus/%zz",
  "/janus/1/2/3/4",
  "/admin/info",
  `/janus/${"a".repeat(8000)}`,
  "/janus?x=%",
  "/janus/\u00e9",
  "*",
  "/janus/info/",
  "/demo/",
];

/** An HTTP case: one of the shapes the brief lists. */
function httpCase(rng: Rng, pool: IdPool, ports: Ports, limit: number): HttpCase {
  const admin = rng.chance(0.35);
  const port = admin ? ports.admin : ports.http;
  const base = {
    kind: "http" as const,
    port,
    closeWrite: false,
    abandon: false,
    framing: false,
    requests: 1,
  };
  const shape = rng.weighted(
    [
      [40, "post"],
      [8, "get"],
      [6, "odd"],
      [8, "chunked"],
      [4, "truncated"],
      [16, "pipelined"],
      [4, "abandoned"],
      [3, "garbage"],
    ] as const,
  );
  switch (shape) {
    case "post": {
      const p = post(rng, pool, admin, limit);
      return {
        ...base,
        bytes: request("POST", p.path, p.body),
        methods: ["POST"],
        what: `POST ${p.path} ${p.how}`,
      };
    }
    case "get": {
      const g = getRequest(rng, pool);
      return {
        ...base,
        port: ports.http,
        bytes: request("GET", g.path, undefined),
        methods: ["GET"],
        what: g.what,
      };
    }
    case "odd": {
      const method = rng.pick(ODD_METHODS);
      const path = target8(rng.pick(ODD_PATHS));
      const body = method === "GET" || method === "HEAD" ? undefined : encoder.encode("{}");
      return {
        ...base,
        bytes: request(method, path, body),
        methods: [method],
        what: `${method} ${path}`,
      };
    }
    case "chunked": {
      const p = post(rng, pool, admin, limit);
      const broken = rng.chance(0.3);
      const tail = broken
        ? rng.pick(["zz\r\n", "", "1\r\n", "0\r\n", "ffffffffffff\r\n"])
        : undefined;
      // At most 20,000 chunks: each costs the server a read of its own (about 9 us; a MiB in
      // 1-byte chunks would hold the event loop for seconds, fuzzer and gateway alike).
      const size = Math.max(rng.pick([1, 7, 100, 4096, 65536]), Math.ceil(p.body.length / 20_000));
      const body = chunked(p.body, size, tail);
      return {
        ...base,
        bytes: concat([
          encoder.encode(
            `POST ${p.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n`,
          ),
          body,
        ]),
        methods: ["POST"],
        closeWrite: broken,
        framing: broken,
        what: `chunked${broken ? ` broken ${JSON.stringify(tail)}` : ""} POST ${p.path} ${p.how}`,
      };
    }
    case "truncated": {
      const p = post(rng, pool, admin, limit);
      const cut = rng.int(0, Math.max(0, p.body.length - 1));
      const head =
        `POST ${p.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${p.body.length}\r\n\r\n`;
      return {
        ...base,
        bytes: concat([encoder.encode(head), p.body.subarray(0, cut)]),
        methods: ["POST"],
        closeWrite: true,
        framing: true,
        what: `truncated at ${cut}/${p.body.length} POST ${p.path} ${p.how}`,
      };
    }
    case "pipelined": {
      const n = rng.int(2, 8);
      const parts: Uint8Array[] = [];
      const methods: string[] = [];
      const whats: string[] = [];
      for (let i = 0; i < n; i++) {
        if (rng.chance(0.8) || admin) {
          const p = post(rng, pool, admin, Math.min(limit, 4096));
          parts.push(request("POST", p.path, p.body));
          methods.push("POST");
          whats.push(`POST ${p.path} ${p.how}`);
        } else {
          const g = getRequest(rng, pool);
          parts.push(request("GET", g.path, undefined));
          methods.push("GET");
          whats.push(g.what);
        }
      }
      return {
        ...base,
        bytes: concat(parts),
        methods,
        requests: n,
        what: `pipelined ${whats.join(" | ")}`,
      };
    }
    case "abandoned": {
      const p = post(rng, pool, admin, limit);
      const full = request("POST", p.path, p.body);
      const cut = rng.int(1, full.length - 1);
      return {
        ...base,
        bytes: full.subarray(0, cut),
        methods: [],
        abandon: true,
        what: `abandoned at ${cut}/${full.length} POST ${p.path}`,
      };
    }
    case "garbage": {
      const text = rng.pick([
        "GARBAGE\r\n\r\n",
        "POST /janus HTTP/9.9\r\n\r\n",
        "POST /janus HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST /janus HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{}{}{}",
        "POST /janus HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
        `POST /janus HTTP/1.1\r\nX: ${"a".repeat(100_000)}\r\n\r\n`,
        "POST /janus HTTP/1.1\r\nHost\r\n\r\n",
        "\u0000\u0001\u0002\r\n\r\n",
        "POST /janus HTTP/1.1\nContent-Length: 2\n\n{}",
      ]);
      return {
        ...base,
        bytes: encoder.encode(text),
        methods: ["?"],
        closeWrite: true,
        framing: true,
        what: `garbage ${JSON.stringify(text.slice(0, 80))}`,
      };
    }
  }
}

/** A WebSocket case on the API or admin listener. */
function wsCase(rng: Rng, pool: IdPool, ports: Ports, limit: number): WsCase {
  const admin = rng.chance(0.3);
  const base = {
    kind: "ws" as const,
    port: admin ? ports.adminWs : ports.ws,
    protocol: admin ? "janus-admin-protocol" : "janus-protocol",
    mustClose: false,
    mayClose: false,
    abandon: false,
  };
  const message = () => {
    const generated = admin ? adminRequest(rng, pool) : coreRequest(rng, pool);
    const m = mutate(rng, generated, limit);
    return { bytes: encoder.encode(m.text), how: `${verb(generated)} ${m.how}` };
  };
  const shape = rng.weighted(
    [
      [10, "messages"],
      [5, "fragments"],
      [4, "violation"],
      [1, "oversized"],
      [2, "abandoned"],
    ] as const,
  );
  switch (shape) {
    case "messages": {
      const n = rng.int(1, 10);
      const frames: Frame[] = [];
      const hows: string[] = [];
      let over = false;
      for (let i = 0; i < n; i++) {
        const m = message();
        over ||= m.bytes.length > limit;
        frames.push({ opcode: rng.chance(0.85) ? 1 : 2, payload: m.bytes });
        if (rng.chance(0.1)) frames.push({ opcode: 9, payload: encoder.encode("p") });
        hows.push(m.how);
      }
      return {
        ...base,
        frames,
        expect: n,
        mustClose: over,
        what: `ws messages ${hows.join(" | ")}`,
        requests: n,
      };
    }
    case "fragments": {
      const m = message();
      const frames = fragments(m.bytes, rng.int(2, 30), rng.chance(0.8) ? 1 : 2);
      // A ping between fragments is allowed (control frames may interleave).
      if (frames.length > 1 && rng.chance(0.3)) {
        frames.splice(1, 0, { opcode: 9, payload: encoder.encode("x") });
      }
      return {
        ...base,
        frames,
        expect: 1,
        mustClose: m.bytes.length > limit,
        what: `ws ${frames.length} fragments ${m.how}`,
        requests: 1,
      };
    }
    case "violation": {
      const text = encoder.encode('{"janus":"ping","transaction":"v"}');
      const violation = rng.pick(
        [
          ["bad opcode", [{
            opcode: rng.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]),
            payload: text,
          }]],
          ["lone continuation", [{ opcode: 0, payload: text }]],
          ["unmasked", [{ opcode: 1, payload: text, masked: false }]],
          ["rsv bits", [{ opcode: 1, payload: text, rsv: rng.int(1, 7) }]],
          ["long ping", [{ opcode: 9, payload: new Uint8Array(200) }]],
          ["fragmented ping", [{ opcode: 9, payload: text, fin: false }]],
          ["text inside fragments", [{ opcode: 1, payload: text, fin: false }, {
            opcode: 1,
            payload: text,
          }]],
          ["bad utf-8", [{ opcode: 1, payload: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) }]],
          ["bad close code", [{ opcode: 8, payload: new Uint8Array([0x03, 0xe7]) }]],
        ] as const,
      );
      return {
        ...base,
        frames: violation[1].map((f) => ({ ...f })),
        expect: 1,
        // Deno's WebSocket server takes unmasked client frames: a reply is fine there too.
        mustClose: violation[0] !== "bad utf-8" && violation[0] !== "unmasked",
        mayClose: true,
        what: `ws violation ${violation[0]}`,
        requests: 1,
      };
    }
    case "oversized": {
      const payload = encoder.encode(`{"janus":"ping","transaction":"${"a".repeat(limit)}"}`);
      const frames = rng.chance(0.5)
        ? [{ opcode: 1, payload }]
        : fragments(payload, rng.int(2, 20));
      return {
        ...base,
        frames,
        expect: 1,
        mustClose: true,
        what: `ws oversized ${frames.length} frames`,
        requests: 1,
      };
    }
    case "abandoned": {
      const m = message();
      const frames = fragments(m.bytes, rng.int(2, 6));
      return {
        ...base,
        frames: frames.slice(0, Math.max(1, frames.length - 1)),
        expect: 0,
        abandon: true,
        what: `ws abandoned mid-message ${m.how}`,
        requests: 1,
      };
    }
  }
}

/** The case for one PRNG draw. */
export function makeCase(rng: Rng, pool: IdPool, ports: Ports, limit: number): FuzzCase {
  return rng.chance(0.7) ? httpCase(rng, pool, ports, limit) : wsCase(rng, pool, ports, limit);
}
