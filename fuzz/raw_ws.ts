/**
 * A raw WebSocket client over TCP: it writes any frame (fragments, continuation
 * frames, bad opcodes, unmasked or oversized frames) and reads the server's frames.
 *
 * @module
 */
import { concat } from "./raw_http.ts";

/** One frame to send. */
export interface Frame {
  opcode: number;
  payload: Uint8Array;
  fin?: boolean;
  /** Client frames must be masked; false sends a protocol violation. */
  masked?: boolean;
  rsv?: number;
}

/** What the server sent back. */
export interface WsResult {
  /** The handshake status (101 when upgraded). */
  status: number;
  handshake: string;
  texts: string[];
  /** Binary data frames (the gateway never sends them). */
  binaries: number;
  closeCode?: number;
  closed: boolean;
  timedOut: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes one client frame. */
export function encodeFrame(frame: Frame): Uint8Array {
  const { opcode, payload } = frame;
  const masked = frame.masked ?? true;
  const n = payload.length;
  const head: number[] = [((frame.fin ?? true) ? 0x80 : 0) | ((frame.rsv ?? 0) << 4) | opcode];
  const maskBit = masked ? 0x80 : 0;
  if (n < 126) head.push(maskBit | n);
  else if (n < 65536) head.push(maskBit | 126, n >> 8, n & 255);
  else {
    head.push(maskBit | 127, 0, 0, 0, 0);
    head.push((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
  }
  if (!masked) return concat([new Uint8Array(head), payload]);
  const key = crypto.getRandomValues(new Uint8Array(4));
  const body = new Uint8Array(n);
  for (let i = 0; i < n; i++) body[i] = payload[i]! ^ key[i & 3]!;
  return concat([new Uint8Array(head), key, body]);
}

/** A text message split into `parts` frames (text, then continuations). */
export function fragments(text: string | Uint8Array, parts: number, opcode = 1): Frame[] {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  const size = Math.max(1, Math.ceil(bytes.length / parts));
  const frames: Frame[] = [];
  for (let i = 0; i < bytes.length || frames.length === 0; i += size) {
    frames.push({
      opcode: frames.length === 0 ? opcode : 0,
      payload: bytes.subarray(i, i + size),
      fin: i + size >= bytes.length,
    });
  }
  return frames;
}

/** Parses server frames from `bytes` at `at`; returns the new offset. */
function readFrames(bytes: Uint8Array, at: number, result: WsResult): number {
  for (;;) {
    if (bytes.length < at + 2) return at;
    const opcode = bytes[at]! & 0x0f;
    let len = bytes[at + 1]! & 0x7f;
    let pos = at + 2;
    if (len === 126) {
      if (bytes.length < pos + 2) return at;
      len = (bytes[pos]! << 8) | bytes[pos + 1]!;
      pos += 2;
    } else if (len === 127) {
      if (bytes.length < pos + 8) return at;
      len = (bytes[pos + 4]! * 2 ** 24) + ((bytes[pos + 5]! << 16) | (bytes[pos + 6]! << 8) |
        bytes[pos + 7]!);
      pos += 8;
    }
    if (bytes.length < pos + len) return at;
    const payload = bytes.subarray(pos, pos + len);
    if (opcode === 1) result.texts.push(decoder.decode(payload));
    else if (opcode === 2) result.binaries++;
    else if (opcode === 8) result.closeCode = len >= 2 ? (payload[0]! << 8) | payload[1]! : 1005;
    at = pos + len;
  }
}

/** Opens a WebSocket to `port` with `protocol`, sends `frames`, and reads until `expect` texts. */
export async function wsExchange(
  port: number,
  protocol: string,
  frames: Frame[],
  options: { expect: number; timeoutMs: number; abandon?: boolean },
): Promise<WsResult> {
  const result: WsResult = {
    status: 0,
    handshake: "",
    texts: [],
    binaries: 0,
    closed: false,
    timedOut: false,
  };
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const upgrade = `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
    `Sec-WebSocket-Protocol: ${protocol}\r\n\r\n`;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), options.timeoutMs);
  });
  let buffer = new Uint8Array(0);
  let at = 0;
  const chunk = new Uint8Array(64 * 1024);
  const read = async (): Promise<boolean> => {
    const n = await Promise.race([conn.read(chunk), timeout]).catch(() => null);
    if (n === "timeout") {
      result.timedOut = true;
      return false;
    }
    if (n === null) {
      result.closed = true;
      return false;
    }
    const grown = new Uint8Array(buffer.length + n);
    grown.set(buffer);
    grown.set(chunk.subarray(0, n), buffer.length);
    buffer = grown;
    return true;
  };
  try {
    await conn.write(encoder.encode(upgrade));
    // The handshake reply.
    for (;;) {
      const end = decoder.decode(buffer).indexOf("\r\n\r\n");
      if (end >= 0) {
        result.handshake = decoder.decode(buffer.subarray(0, end));
        result.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(result.handshake)?.[1] ?? 0);
        at = encoder.encode(decoder.decode(buffer).slice(0, end + 4)).length;
        break;
      }
      if (!(await read())) return result;
    }
    if (result.status !== 101) return result;
    const writing = (async () => {
      for (const frame of frames) {
        const data = encodeFrame(frame);
        let sent = 0;
        while (sent < data.length) sent += await conn.write(data.subarray(sent));
      }
    })().catch(() => {});
    if (options.abandon) {
      await writing;
      return result;
    }
    for (;;) {
      at = readFrames(buffer, at, result);
      if (result.texts.length >= options.expect || result.closeCode !== undefined) break;
      if (!(await read())) break;
    }
    await writing;
  } catch {
    result.closed = true;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
  return result;
}
