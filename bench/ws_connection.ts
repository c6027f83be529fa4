/**
 * A minimal WebSocket client (RFC 6455, text frames) over one TCP connection.
 * Deno's `WebSocket` costs the load generator about as much CPU per message as
 * the server under test spends; on a 2-core machine that would make the client,
 * not the server, set the figures. Frames written while a write is in flight
 * are batched into the next write.
 *
 * @module
 */

import { writeAll } from "./http_client.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;

function headerEnd(buf: Uint8Array, length: number): number {
  for (let i = 0; i + 3 < length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

/** Builds one masked client frame. */
function frame(opcode: number, payload: Uint8Array, mask: Uint8Array): Uint8Array {
  const n = payload.length;
  const extra = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + extra + 4 + n);
  out[0] = 0x80 | opcode;
  if (extra === 0) {
    out[1] = 0x80 | n;
  } else if (extra === 2) {
    out[1] = 0x80 | 126;
    out[2] = n >> 8;
    out[3] = n & 0xff;
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(n));
  }
  const at = 2 + extra;
  out.set(mask, at);
  for (let i = 0; i < n; i++) out[at + 4 + i] = (payload[i] ?? 0) ^ (mask[i & 3] ?? 0);
  return out;
}

/** One client WebSocket: `send` text, `onmessage` gets each text message. */
export class WsConnection {
  /** Called with each complete text message. */
  onmessage: (text: string) => void = () => {};
  /** Called once when the connection ends, whoever ended it. */
  onclose: () => void = () => {};
  /** Settles when the connection has ended. */
  readonly closed: Promise<void>;

  readonly #conn: Deno.TcpConn;
  readonly #mask = crypto.getRandomValues(new Uint8Array(4));
  #buf = new Uint8Array(4096);
  #len = 0;
  #fragments: Uint8Array[] = [];
  #pending: Uint8Array[] = [];
  #flushing = false;
  #closing = false;
  #ended = false;
  readonly #endedSignal = Promise.withResolvers<void>();

  private constructor(conn: Deno.TcpConn, leftover: Uint8Array) {
    this.#conn = conn;
    this.closed = this.#endedSignal.promise;
    this.#append(leftover);
  }

  /**
   * Connects to `ws://host:port/path` asking for `protocol`; rejects when the
   * server does not switch protocols within `timeoutMs`.
   */
  static async open(url: string, protocol: string, timeoutMs: number): Promise<WsConnection> {
    const u = new URL(url);
    if (u.protocol !== "ws:") throw new Error(`only ws:// URLs, got ${url}`);
    const port = Number(u.port || "80");
    const conn = await Deno.connect({ hostname: u.hostname, port });
    conn.setNoDelay(true);
    const timer = setTimeout(() => conn.close(), timeoutMs);
    try {
      const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
      const request = `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n` +
        `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`;
      await writeAll(conn, encoder.encode(request));
      let buf = new Uint8Array(4096);
      let len = 0;
      for (;;) {
        if (len === buf.length) {
          const grown = new Uint8Array(buf.length * 2);
          grown.set(buf);
          buf = grown;
        }
        const n = await conn.read(buf.subarray(len));
        if (n === null) throw new Error("connection closed during the WebSocket handshake");
        len += n;
        const end = headerEnd(buf, len);
        if (end < 0) continue;
        const head = decoder.decode(buf.subarray(0, end));
        if (!/^HTTP\/1\.1 101 /.test(head)) {
          throw new Error(`WebSocket handshake refused: ${head.split("\r\n")[0]}`);
        }
        return new WsConnection(conn, buf.slice(end + 4, len));
      }
    } catch (e) {
      try {
        conn.close();
      } catch {
        // Closed by the timer.
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts reading; call once the handlers are set. */
  start(): void {
    this.#parse();
    void this.#readLoop();
  }

  /** Sends one text message (batched with others sent meanwhile). */
  send(text: string): void {
    this.#write(frame(OP_TEXT, encoder.encode(text), this.#mask));
  }

  /** Sends a close frame and ends the connection. */
  close(): void {
    if (this.#ended || this.#closing) return;
    this.#write(frame(OP_CLOSE, new Uint8Array([0x03, 0xe8]), this.#mask));
    // The flush ends the connection once the close frame is written.
    this.#closing = true;
  }

  #write(bytes: Uint8Array): void {
    if (this.#ended) return;
    this.#pending.push(bytes);
    if (!this.#flushing) void this.#flush();
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#pending.length > 0 && !this.#ended) {
        const parts = this.#pending;
        this.#pending = [];
        await writeAll(this.#conn, parts.length === 1 && parts[0] ? parts[0] : concat(parts));
      }
    } catch {
      this.#end();
    } finally {
      this.#flushing = false;
      if (this.#closing) this.#end();
    }
  }

  async #readLoop(): Promise<void> {
    const chunk = new Uint8Array(16 * 1024);
    try {
      while (!this.#ended) {
        const n = await this.#conn.read(chunk);
        if (n === null) break;
        this.#append(chunk.subarray(0, n));
        this.#parse();
      }
    } catch {
      // Reset or closed locally: either way the connection is over.
    }
    this.#end();
  }

  #append(bytes: Uint8Array): void {
    if (this.#len + bytes.length > this.#buf.length) {
      const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + bytes.length));
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
  }

  /** Handles every complete frame in the buffer. */
  #parse(): void {
    let at = 0;
    while (!this.#ended && this.#len - at >= 2) {
      const b0 = this.#buf[at] ?? 0;
      const b1 = this.#buf[at + 1] ?? 0;
      let length = b1 & 0x7f;
      let head = 2;
      if (length === 126) {
        if (this.#len - at < 4) break;
        length = ((this.#buf[at + 2] ?? 0) << 8) | (this.#buf[at + 3] ?? 0);
        head = 4;
      } else if (length === 127) {
        if (this.#len - at < 10) break;
        length = Number(new DataView(this.#buf.buffer, at + 2, 8).getBigUint64(0));
        head = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      if (masked) head += 4;
      if (this.#len - at < head + length) break;
      const payload = this.#buf.slice(at + head, at + head + length);
      if (masked) {
        const key = this.#buf.subarray(at + head - 4, at + head);
        for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] ?? 0) ^ (key[i & 3] ?? 0);
      }
      at += head + length;
      this.#frame((b0 & 0x80) !== 0, b0 & 0x0f, payload);
    }
    if (at > 0) {
      this.#buf.copyWithin(0, at, this.#len);
      this.#len -= at;
    }
  }

  #frame(fin: boolean, opcode: number, payload: Uint8Array): void {
    if (opcode === OP_TEXT || opcode === OP_CONTINUATION) {
      if (!fin) {
        this.#fragments.push(payload);
        return;
      }
      const whole = this.#fragments.length === 0 ? payload : concat([...this.#fragments, payload]);
      this.#fragments = [];
      this.onmessage(decoder.decode(whole));
    } else if (opcode === OP_PING) {
      this.#write(frame(0xa, payload, this.#mask));
    } else if (opcode === OP_CLOSE) {
      this.close();
    }
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    this.onclose();
    this.#endedSignal.resolve();
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
