/**
 * A minimal HTTP/1.1 keep-alive client over one TCP connection. Much lighter
 * than `fetch` per request, so that on a small machine the load generator
 * does not eat the CPU the server under test needs: one write per request,
 * reads into one reused buffer, and one deadline timer per connection rather
 * than one per request.
 *
 * @module
 */

/** A response: status and body text. */
export interface HttpResponse {
  status: number;
  body: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const NON_ASCII = /[\u0080-\uffff]/;

/** One keep-alive connection to `host:port`; requests on it are sequential. */
export class HttpConnection {
  readonly #host: string;
  readonly #port: number;
  #conn: Deno.TcpConn | undefined;
  #buf = new Uint8Array(16 * 1024);
  /** Unread bytes are `#buf[#start, #end)`. */
  #start = 0;
  #end = 0;
  #out = new Uint8Array(4 * 1024);
  #busy = false;
  /** `performance.now()` after which the request in flight is abandoned. */
  #deadline = Infinity;
  #timedOut = false;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  /** Sends one request and reads its whole response; rejects after `timeoutMs`. */
  async request(
    method: "GET" | "POST",
    path: string,
    body: string | undefined,
    timeoutMs: number,
  ): Promise<HttpResponse> {
    if (this.#busy) throw new Error("HttpConnection: one request at a time");
    this.#busy = true;
    this.#timedOut = false;
    this.#deadline = performance.now() + timeoutMs;
    try {
      const conn = this.#conn ?? await this.#connect(timeoutMs);
      await writeAll(conn, this.#encode(method, path, body));
      return await this.#readResponse(conn);
    } catch (e) {
      this.close();
      if (this.#timedOut) throw new Error(`timeout after ${timeoutMs} ms: ${method} ${path}`);
      throw e;
    } finally {
      this.#deadline = Infinity;
      this.#busy = false;
    }
  }

  /** Closes the connection; the next request opens a new one. */
  close(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    const conn = this.#conn;
    this.#conn = undefined;
    this.#start = this.#end = 0;
    if (conn) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }

  /** The request's head and body as bytes, encoded once into the reused output buffer. */
  #encode(method: string, path: string, body: string | undefined): Uint8Array {
    let text = `${method} ${path} HTTP/1.1\r\nHost: ${this.#host}:${this.#port}\r\n`;
    if (body !== undefined) {
      const length = NON_ASCII.test(body) ? encoder.encode(body).length : body.length;
      text += `Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${body}`;
    } else {
      text += "\r\n";
    }
    if (this.#out.length < text.length * 3) this.#out = new Uint8Array(text.length * 3);
    const { written } = encoder.encodeInto(text, this.#out);
    return this.#out.subarray(0, written);
  }

  async #connect(timeoutMs: number): Promise<Deno.TcpConn> {
    const conn = await Deno.connect({ hostname: this.#host, port: this.#port });
    conn.setNoDelay(true);
    this.#conn = conn;
    // Closing the connection makes a pending read or write reject.
    this.#sweeper = setInterval(() => {
      if (performance.now() <= this.#deadline) return;
      this.#timedOut = true;
      this.close();
    }, Math.min(250, timeoutMs));
    return conn;
  }

  /** Reads more bytes into the buffer, compacting or growing it first; false at end of stream. */
  async #fill(conn: Deno.TcpConn): Promise<boolean> {
    if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#end === this.#buf.length) {
      const grown = new Uint8Array(this.#buf.length * 2);
      grown.set(this.#buf);
      this.#buf = grown;
    }
    const n = await conn.read(this.#buf.subarray(this.#end));
    if (n === null) return false;
    this.#end += n;
    return true;
  }

  /** Index of `\r\n\r\n` at or after `from`, or -1. */
  #headEnd(from: number): number {
    const buf = this.#buf.subarray(0, this.#end);
    for (let i = buf.indexOf(13, from); i >= 0 && i + 3 < this.#end; i = buf.indexOf(13, i + 1)) {
      if (buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
    }
    return -1;
  }

  /** Index of `\r\n` at or after `from`, or -1. */
  #lineEnd(from: number): number {
    const buf = this.#buf.subarray(0, this.#end);
    for (let i = buf.indexOf(13, from); i >= 0 && i + 1 < this.#end; i = buf.indexOf(13, i + 1)) {
      if (buf[i + 1] === 10) return i;
    }
    return -1;
  }

  /** Takes `n` unread bytes as text. */
  #takeText(n: number): string {
    const text = decoder.decode(this.#buf.subarray(this.#start, this.#start + n));
    this.#start += n;
    return text;
  }

  async #need(conn: Deno.TcpConn, bytes: number): Promise<void> {
    while (this.#end - this.#start < bytes) {
      if (!await this.#fill(conn)) throw new Error("connection closed mid-response");
    }
  }

  async #readResponse(conn: Deno.TcpConn): Promise<HttpResponse> {
    let end = this.#headEnd(this.#start);
    while (end < 0) {
      const scanned = Math.max(this.#start, this.#end - 3) - this.#start;
      if (!await this.#fill(conn)) throw new Error("connection closed before a response");
      end = this.#headEnd(this.#start + scanned);
    }
    const head = this.#takeText(end + 4 - this.#start).toLowerCase();
    const status = Number.parseInt(head.slice(9, 12), 10);
    if (!head.startsWith("http/1.") || !Number.isFinite(status)) {
      throw new Error(`bad status line '${head.slice(0, head.indexOf("\r"))}'`);
    }
    const length = header(head, "content-length");
    let body: string;
    if (length !== undefined) {
      const n = Number.parseInt(length, 10);
      await this.#need(conn, n);
      body = this.#takeText(n);
    } else if (header(head, "transfer-encoding")?.includes("chunked")) {
      body = await this.#readChunked(conn);
    } else if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = "";
    } else {
      while (await this.#fill(conn)) { /* read to end of stream */ }
      body = this.#takeText(this.#end - this.#start);
      this.close();
    }
    if (header(head, "connection") === "close") this.close();
    return { status, body };
  }

  async #readChunked(conn: Deno.TcpConn): Promise<string> {
    // A streaming decoder: a character may straddle two chunks.
    const chunks = new TextDecoder();
    let body = "";
    for (;;) {
      let eol = this.#lineEnd(this.#start);
      while (eol < 0) {
        if (!await this.#fill(conn)) throw new Error("connection closed in a chunk header");
        eol = this.#lineEnd(this.#start);
      }
      const size = Number.parseInt(this.#takeText(eol + 2 - this.#start), 16);
      if (!Number.isFinite(size)) throw new Error("bad chunk size");
      if (size === 0) {
        // Trailers end with an empty line.
        for (;;) {
          let lineEnd = this.#lineEnd(this.#start);
          while (lineEnd < 0) {
            if (!await this.#fill(conn)) throw new Error("connection closed in trailers");
            lineEnd = this.#lineEnd(this.#start);
          }
          const empty = lineEnd === this.#start;
          this.#start = lineEnd + 2;
          if (empty) break;
        }
        return body + chunks.decode();
      }
      await this.#need(conn, size + 2);
      body += chunks.decode(this.#buf.subarray(this.#start, this.#start + size), { stream: true });
      this.#start += size + 2;
    }
  }
}

/** Writes all of `data` (a write may take only part of it). */
export async function writeAll(conn: Deno.TcpConn, data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.length) at += await conn.write(data.subarray(at));
}

/** The value of header `name` in a lowercased response head, trimmed. */
function header(head: string, name: string): string | undefined {
  const at = head.indexOf(`\r\n${name}:`);
  if (at < 0) return undefined;
  const from = at + name.length + 3;
  const to = head.indexOf("\r\n", from);
  return head.slice(from, to < 0 ? undefined : to).trim();
}
