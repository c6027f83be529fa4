/**
 * A minimal HTTP/1.1 keep-alive client over one TCP connection. Much lighter
 * than `fetch` per request, so that on a small machine the load generator
 * does not eat the CPU the server under test needs.
 *
 * @module
 */

/** A response: status and body text. */
export interface HttpResponse {
  status: number;
  body: string;
}

const CRLFCRLF = [13, 10, 13, 10] as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function indexOfHeaderEnd(buf: Uint8Array, from: number): number {
  for (let i = Math.max(0, from); i + 3 < buf.length; i++) {
    if (
      buf[i] === CRLFCRLF[0] && buf[i + 1] === CRLFCRLF[1] && buf[i + 2] === CRLFCRLF[2] &&
      buf[i + 3] === CRLFCRLF[3]
    ) return i;
  }
  return -1;
}

function indexOfCrlf(buf: Uint8Array, from: number): number {
  for (let i = from; i + 1 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10) return i;
  }
  return -1;
}

/** One keep-alive connection to `host:port`; requests on it are sequential. */
export class HttpConnection {
  readonly #host: string;
  readonly #port: number;
  #conn: Deno.TcpConn | undefined;
  #buf: Uint8Array = new Uint8Array(0);
  readonly #chunk = new Uint8Array(64 * 1024);
  #busy = false;

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
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.close();
    }, timeoutMs);
    try {
      const conn = this.#conn ?? await this.#connect();
      const payload = body === undefined ? undefined : encoder.encode(body);
      const head = `${method} ${path} HTTP/1.1\r\nHost: ${this.#host}:${this.#port}\r\n` +
        (payload ? `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n` : "") +
        "\r\n";
      await this.#writeAll(conn, encoder.encode(head));
      if (payload) await this.#writeAll(conn, payload);
      return await this.#readResponse(conn);
    } catch (e) {
      this.close();
      if (timedOut) throw new Error(`timeout after ${timeoutMs} ms: ${method} ${path}`);
      throw e;
    } finally {
      clearTimeout(timer);
      this.#busy = false;
    }
  }

  /** Closes the connection; the next request opens a new one. */
  close(): void {
    const conn = this.#conn;
    this.#conn = undefined;
    this.#buf = new Uint8Array(0);
    if (conn) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }

  async #connect(): Promise<Deno.TcpConn> {
    const conn = await Deno.connect({ hostname: this.#host, port: this.#port });
    conn.setNoDelay(true);
    this.#conn = conn;
    return conn;
  }

  async #writeAll(conn: Deno.TcpConn, data: Uint8Array): Promise<void> {
    let at = 0;
    while (at < data.length) at += await conn.write(data.subarray(at));
  }

  /** Reads more bytes into the buffer; false at end of stream. */
  async #fill(conn: Deno.TcpConn): Promise<boolean> {
    const n = await conn.read(this.#chunk);
    if (n === null) return false;
    const merged = new Uint8Array(this.#buf.length + n);
    merged.set(this.#buf, 0);
    merged.set(this.#chunk.subarray(0, n), this.#buf.length);
    this.#buf = merged;
    return true;
  }

  async #need(conn: Deno.TcpConn, bytes: number): Promise<void> {
    while (this.#buf.length < bytes) {
      if (!await this.#fill(conn)) throw new Error("connection closed mid-response");
    }
  }

  #take(bytes: number): Uint8Array {
    const out = this.#buf.subarray(0, bytes);
    this.#buf = this.#buf.subarray(bytes);
    return out;
  }

  async #readResponse(conn: Deno.TcpConn): Promise<HttpResponse> {
    let end = indexOfHeaderEnd(this.#buf, 0);
    while (end < 0) {
      const scanned = this.#buf.length - 3;
      if (!await this.#fill(conn)) throw new Error("connection closed before a response");
      end = indexOfHeaderEnd(this.#buf, scanned);
    }
    const lines = decoder.decode(this.#take(end + 4)).split("\r\n");
    const status = Number.parseInt(lines[0]?.split(" ")[1] ?? "", 10);
    if (!Number.isFinite(status)) throw new Error(`bad status line '${lines[0]}'`);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon > 0) {
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
    }
    let body: Uint8Array;
    const length = headers.get("content-length");
    if (length !== undefined) {
      const n = Number.parseInt(length, 10);
      await this.#need(conn, n);
      body = this.#take(n).slice();
    } else if (headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) {
      body = await this.#readChunked(conn);
    } else if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = new Uint8Array(0);
    } else {
      while (await this.#fill(conn)) { /* read to end of stream */ }
      body = this.#take(this.#buf.length).slice();
      this.close();
    }
    if (headers.get("connection")?.toLowerCase() === "close") this.close();
    return { status, body: decoder.decode(body) };
  }

  async #readChunked(conn: Deno.TcpConn): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      let eol = indexOfCrlf(this.#buf, 0);
      while (eol < 0) {
        if (!await this.#fill(conn)) throw new Error("connection closed in a chunk header");
        eol = indexOfCrlf(this.#buf, 0);
      }
      const size = Number.parseInt(decoder.decode(this.#take(eol + 2)), 16);
      if (!Number.isFinite(size)) throw new Error("bad chunk size");
      if (size === 0) {
        // Trailers end with an empty line.
        for (;;) {
          let lineEnd = indexOfCrlf(this.#buf, 0);
          while (lineEnd < 0) {
            if (!await this.#fill(conn)) throw new Error("connection closed in trailers");
            lineEnd = indexOfCrlf(this.#buf, 0);
          }
          this.#take(lineEnd + 2);
          if (lineEnd === 0) break;
        }
        break;
      }
      await this.#need(conn, size + 2);
      parts.push(this.#take(size).slice());
      this.#take(2);
      total += size;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}
