/**
 * A raw HTTP/1.1 client over one TCP connection: it sends any bytes (broken framing,
 * pipelined requests, truncated bodies) and parses whatever comes back.
 *
 * @module
 */

/** One reply read off the wire. */
export interface RawReply {
  status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Map<string, string>;
  body: string;
}

/** What one connection gave back. */
export interface RawExchange {
  replies: RawReply[];
  /** The server closed the connection (or reset it). */
  closed: boolean;
  /** Neither every expected reply nor a close came in time. */
  timedOut: boolean;
  /** Bytes after the last whole reply that do not parse as one. */
  garbage: string;
}

/** How to send. */
export interface ExchangeOptions {
  /** Replies to wait for (HEAD replies have no body: give their indexes). */
  expect: number;
  headIndexes?: ReadonlySet<number>;
  /** Half-close after sending (the server sees end of input). */
  closeWrite?: boolean;
  /** Close the socket right after sending, without reading (an abandoned socket). */
  abandon?: boolean;
  timeoutMs: number;
}

const decoder = new TextDecoder();

function indexOf(bytes: Uint8Array, from: number, needle: number[]): number {
  outer: for (let i = from; i <= bytes.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const CRLFCRLF = [13, 10, 13, 10];
const CRLF = [13, 10];

/** Parses one reply at `at`; undefined when more bytes are needed, "bad" when it cannot parse. */
function parseReply(
  bytes: Uint8Array,
  at: number,
  head: boolean,
  eof: boolean,
): { reply: RawReply; end: number } | undefined | "bad" {
  const headEnd = indexOf(bytes, at, CRLFCRLF);
  if (headEnd < 0) return eof && at < bytes.length ? "bad" : undefined;
  const lines = decoder.decode(bytes.subarray(at, headEnd)).split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
  if (!m) return "bad";
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon < 0) return "bad";
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  const status = Number(m[1]);
  let pos = headEnd + 4;
  const noBody = head || status === 204 || status === 304 || (status >= 100 && status < 200);
  if (noBody) return { reply: { status, headers, body: "" }, end: pos };
  if (headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
    const parts: Uint8Array[] = [];
    for (;;) {
      const lineEnd = indexOf(bytes, pos, CRLF);
      if (lineEnd < 0) return eof ? "bad" : undefined;
      const size = parseInt(decoder.decode(bytes.subarray(pos, lineEnd)), 16);
      if (!Number.isFinite(size)) return "bad";
      pos = lineEnd + 2;
      if (size === 0) {
        const trailerEnd = indexOf(bytes, pos - 2, CRLFCRLF);
        if (trailerEnd < 0) return eof ? "bad" : undefined;
        pos = trailerEnd + 4;
        break;
      }
      if (bytes.length < pos + size + 2) return eof ? "bad" : undefined;
      parts.push(bytes.subarray(pos, pos + size));
      pos += size + 2;
    }
    const body = decoder.decode(concat(parts));
    return { reply: { status, headers, body }, end: pos };
  }
  const length = headers.get("content-length");
  if (length === undefined) {
    // Delimited by the close.
    if (!eof) return undefined;
    return {
      reply: { status, headers, body: decoder.decode(bytes.subarray(pos)) },
      end: bytes.length,
    };
  }
  const n = Number(length);
  if (!Number.isInteger(n) || n < 0) return "bad";
  if (bytes.length < pos + n) return eof ? "bad" : undefined;
  return {
    reply: { status, headers, body: decoder.decode(bytes.subarray(pos, pos + n)) },
    end: pos + n,
  };
}

/** Joins byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.length) at += await conn.write(data.subarray(at));
}

/** Sends `data` on a new connection to `port` and reads the replies. */
export async function exchange(
  port: number,
  data: Uint8Array,
  options: ExchangeOptions,
): Promise<RawExchange> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const result: RawExchange = { replies: [], closed: false, timedOut: false, garbage: "" };
  if (options.abandon) {
    // Half a request, then gone: nothing to read.
    await writeAll(conn, data).catch(() => {});
    conn.close();
    return result;
  }
  // Writing runs beside reading: the server may answer (and close) before the body is all sent.
  const writing = writeAll(conn, data).then(
    () => options.closeWrite ? conn.closeWrite() : undefined,
  ).catch(() => {});
  let buffer = new Uint8Array(0);
  let at = 0;
  const chunk = new Uint8Array(64 * 1024);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), options.timeoutMs);
  });
  const take = (eof: boolean): boolean => {
    while (result.replies.length < options.expect) {
      const head = options.headIndexes?.has(result.replies.length) ?? false;
      const parsed = parseReply(buffer, at, head, eof);
      if (parsed === undefined) return false;
      if (parsed === "bad") {
        result.garbage = decoder.decode(buffer.subarray(at)).slice(0, 300);
        at = buffer.length;
        return true;
      }
      result.replies.push(parsed.reply);
      at = parsed.end;
    }
    return true;
  };
  try {
    for (;;) {
      if (take(false)) break;
      const n = await Promise.race([conn.read(chunk), timeout]).catch(() => null);
      if (n === "timeout") {
        result.timedOut = true;
        break;
      }
      if (n === null) {
        result.closed = true;
        take(true);
        break;
      }
      const grown = new Uint8Array(buffer.length + n);
      grown.set(buffer);
      grown.set(chunk.subarray(0, n), buffer.length);
      buffer = grown;
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // already closed
    }
    await writing;
  }
  if (at < buffer.length && result.garbage === "") {
    result.garbage = decoder.decode(buffer.subarray(at)).slice(0, 300);
  }
  return result;
}

/** A chunked body: `body` cut into chunks of `size` bytes, then `tail` (the 0-chunk unless told). */
export function chunked(body: Uint8Array, size: number, tail = "0\r\n\r\n"): Uint8Array {
  const encoder = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (let i = 0; i < body.length; i += size) {
    const part = body.subarray(i, i + size);
    parts.push(encoder.encode(`${part.length.toString(16)}\r\n`), part, encoder.encode("\r\n"));
  }
  parts.push(encoder.encode(tail));
  return concat(parts);
}
