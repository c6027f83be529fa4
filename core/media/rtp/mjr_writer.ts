/**
 * Janus's structured recording format (MJR, `record.c` of Janus 1.1.2), so that Janus's own
 * `janus-pp-rec` converts what we write: the 8-byte `MJR00002` magic, then before the first
 * frame a big-endian 16-bit length and a JSON info header (`t` kind, `c` codec, optional `f`
 * fmtp, `d` description and `x` extmaps, `s` creation and `u` first-frame times in µs), then
 * per RTP packet `MEET`, a 32-bit time in ms since the first frame, a 16-bit length and the
 * packet as received. A data recording (`t` `d`, codec `text` or `binary`) frames each
 * data-channel message as Janus does: its length counts an 8-byte big-endian wall-clock time
 * in µs written before the message (how `janus-pp-rec` times its `.srt` lines).
 *
 * Frames are buffered and written synchronously in whole frames (at `flushBytes`, on `flush`
 * and on `close`); a failed write truncates the file back to the last complete frame and stops
 * the recording, so what was written stays readable.
 *
 * @module
 */
import { dirname } from "node:path";

/** Where a writer's bytes go: a file, or a test's sink. */
export interface MjrSink {
  /** Writes some of `bytes` and returns how many (as `Deno.FsFile.writeSync`). */
  write(bytes: Uint8Array): number;
  /** Cuts the file back to `length` bytes. */
  truncate(length: number): void;
  close(): void;
}

/** What the info header says about the stream. */
export interface MjrInfo {
  kind: "audio" | "video" | "data";
  /** Codec name as Janus writes it (`opus`, `vp8`, ...; `text` or `binary` for data). */
  codec: string;
  fmtp?: string;
  description?: string;
  /** RTP header extensions kept in the packets: id -> URI. */
  extensions?: ReadonlyMap<number, string>;
}

const MAGIC = new TextEncoder().encode("MJR00002");
const FRAME_MAGIC = new TextEncoder().encode("MEET");
/** A frame's fixed part: `MEET`, time, length. */
const FRAME_HEADER = 10;
const DEFAULT_FLUSH_BYTES = 64 * 1024;

/** A file sink; the folder is made when missing (as Janus's `janus_mkdir`). */
export function openMjrFile(path: string): MjrSink {
  Deno.mkdirSync(dirname(path), { recursive: true });
  const file = Deno.openSync(path, { write: true, create: true, truncate: true });
  return {
    write: (bytes) => file.writeSync(bytes),
    truncate: (length) => file.truncateSync(length),
    close: () => file.close(),
  };
}

/** Janus's info header, in its key order and jansson's default spacing. */
export function mjrInfoJson(info: MjrInfo, createdUs: number, firstUs: number): string {
  const parts = [
    `"t": ${JSON.stringify(info.kind[0])}`,
    `"c": ${JSON.stringify(info.codec)}`,
  ];
  if (info.fmtp) parts.push(`"f": ${JSON.stringify(info.fmtp)}`);
  if (info.description) parts.push(`"d": ${JSON.stringify(info.description)}`);
  const ext = [...(info.extensions ?? [])].filter(([id]) => id > 0 && id < 16);
  if (ext.length > 0) {
    parts.push(`"x": {${ext.map(([id, uri]) => `"${id}": ${JSON.stringify(uri)}`).join(", ")}}`);
  }
  parts.push(`"s": ${createdUs}`, `"u": ${firstUs}`);
  return `{${parts.join(", ")}}`;
}

/** One MJR file being written. */
export class MjrWriter {
  readonly #sink: MjrSink;
  readonly #info: MjrInfo;
  readonly #createdUs: number;
  readonly #flushBytes: number;
  #buffer: Uint8Array;
  #used = 0;
  /** Bytes on disk that end on a frame boundary. */
  #committed = 0;
  #startedMs: number | undefined;
  #error: Error | undefined;
  #closed = false;
  packets = 0;

  /** Writes the magic at once: a folder that cannot be written fails here. */
  constructor(sink: MjrSink, info: MjrInfo, options: { flushBytes?: number } = {}) {
    this.#sink = sink;
    this.#info = info;
    this.#createdUs = Date.now() * 1000;
    this.#flushBytes = options.flushBytes ?? DEFAULT_FLUSH_BYTES;
    this.#buffer = new Uint8Array(this.#flushBytes + 2048);
    this.#append(MAGIC);
    this.flush();
    if (this.#error) {
      sink.close();
      throw this.#error;
    }
  }

  /** The write error that stopped the recording, if any. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Bytes in the file (complete frames), not counting what is still buffered. */
  get bytesWritten(): number {
    return this.#committed;
  }

  /** Adds one RTP packet (`buf[0, length)`) received at `nowMs` (monotonic). */
  writeRtp(buf: Uint8Array, length: number, nowMs: number): void {
    if (this.#closed || this.#error || length <= 0 || length > 0xffff) return;
    const at = this.#frame(length, nowMs);
    this.#buffer.set(buf.subarray(0, length), at);
    this.#used = at + length;
    this.packets++;
    if (this.#used >= this.#flushBytes) this.flush();
  }

  /**
   * Adds one data-channel message received at `nowMs` (monotonic), after its wall-clock time
   * (`nowUs`, µs since the epoch) as `record.c` writes it.
   */
  writeData(message: Uint8Array, nowMs: number, nowUs = Date.now() * 1000): void {
    const length = message.length + 8;
    if (this.#closed || this.#error || message.length === 0 || length > 0xffff) return;
    let at = this.#frame(length, nowMs);
    new DataView(this.#buffer.buffer, this.#buffer.byteOffset)
      .setBigUint64(at, BigInt(Math.floor(nowUs)));
    at += 8;
    this.#buffer.set(message, at);
    this.#used = at + message.length;
    this.packets++;
    if (this.#used >= this.#flushBytes) this.flush();
  }

  /** The info header before the first frame, then a frame's fixed part: where its body goes. */
  #frame(length: number, nowMs: number): number {
    if (this.#startedMs === undefined) {
      this.#startedMs = nowMs;
      const json = new TextEncoder().encode(
        mjrInfoJson(this.#info, this.#createdUs, Date.now() * 1000),
      );
      const size = new Uint8Array([json.length >> 8, json.length & 0xff]);
      this.#append(size);
      this.#append(json);
    }
    const ms = Math.max(0, Math.floor(nowMs - this.#startedMs)) >>> 0;
    this.#reserve(FRAME_HEADER + length);
    const b = this.#buffer;
    let at = this.#used;
    b.set(FRAME_MAGIC, at);
    at += 4;
    b[at++] = ms >>> 24;
    b[at++] = (ms >>> 16) & 0xff;
    b[at++] = (ms >>> 8) & 0xff;
    b[at++] = ms & 0xff;
    b[at++] = length >> 8;
    b[at++] = length & 0xff;
    return at;
  }

  /** Writes what is buffered (whole frames). */
  flush(): void {
    if (this.#used === 0 || this.#error) return;
    const data = this.#buffer.subarray(0, this.#used);
    let done = 0;
    try {
      while (done < data.length) {
        const n = this.#sink.write(data.subarray(done));
        if (n <= 0) throw new Error("Short write");
        done += n;
      }
      this.#committed += data.length;
    } catch (e) {
      this.#error = e instanceof Error ? e : new Error(String(e));
      // A partial frame would end the file mid-packet: cut back to the last whole one.
      try {
        this.#sink.truncate(this.#committed);
      } catch { /* the file keeps its tail; janus-pp-rec stops at it */ }
    }
    this.#used = 0;
  }

  /** Flushes and closes the file; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    try {
      this.#sink.close();
    } catch { /* already closed */ }
  }

  #append(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  #reserve(n: number): void {
    if (this.#used + n <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.#used + n));
    grown.set(this.#buffer.subarray(0, this.#used));
    this.#buffer = grown;
  }
}
