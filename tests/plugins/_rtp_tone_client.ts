/**
 * A plain-RTP AudioBridge test client on loopback: sends a tone as Opus RTP every 20 ms (with
 * an RFC 6464 level extension when asked) and keeps the last second of the mix it gets back.
 *
 * @module
 */
import dgram from "node:dgram";
import type { AddressInfo } from "node:net";
import { OpusDecoder, OpusEncoder } from "../../core/media/opus_codec.ts";
import assert from "node:assert/strict";
import type { JsonObject } from "../../core/protocol.ts";
import { goertzel } from "../media/_client.ts";

const RATE = 48000;
const FRAME = RATE / 50;
/** The payload type it sends and expects. */
export const PT = 111;

/** A plain-RTP client: sends a tone as Opus RTP every 20 ms, keeps the last second it gets. */
export class RtpToneClient {
  readonly socket = dgram.createSocket("udp4");
  readonly tone: number;
  /** Packets received from the gateway. */
  packets = 0;
  /** An RFC 6464 level extension on every packet sent, with this id (0: none) and level. */
  levelExt = 0;
  level = 127;
  /**
   * A second frequency (0: none) the tone hops to and back every 125 ms, as speech changes:
   * Opus's voice detector takes a steady tone for background noise after a while, and then
   * adds no FEC.
   */
  hop = 0;
  /** Drops every n-th packet instead of sending it (0: none), as a lossy network would. */
  dropEvery = 0;
  /** The last payloads received (up to 100), oldest first. */
  readonly payloads: Uint8Array[] = [];
  readonly #encoder = new OpusEncoder(RATE);
  readonly #decoder = new OpusDecoder(RATE, 1);
  readonly #received = new Float32Array(RATE);
  #write = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(tone: number) {
    this.tone = tone;
    this.socket.on("message", (packet: Uint8Array) => {
      this.packets++;
      const offset = 12 + 4 * (packet[0]! & 0x0f);
      this.payloads.push(packet.slice(offset));
      if (this.payloads.length > 100) this.payloads.shift();
      for (const s of this.#decoder.decode(packet.subarray(offset))) {
        this.#received[this.#write] = s * 32768;
        this.#write = (this.#write + 1) % RATE;
      }
    });
  }

  async bind(): Promise<number> {
    await new Promise<void>((resolve) => this.socket.bind(0, "127.0.0.1", () => resolve()));
    return (this.socket.address() as AddressInfo).port;
  }

  /** Sends the tone to `port` from now on, paced by the clock. */
  start(port: number): void {
    const ssrc = 0x1234abcd;
    const started = performance.now();
    let sent = 0;
    let phase = 0;
    this.#timer = setInterval(() => {
      while (sent < Math.floor((performance.now() - started) / 20)) {
        const pcm = new Int16Array(FRAME);
        for (let i = 0; i < FRAME; i++) {
          const hopped = this.hop > 0 && Math.floor((sent * FRAME + i) / (RATE / 8)) % 2 === 1;
          pcm[i] = Math.round(8000 * Math.sin(phase));
          phase += (2 * Math.PI * (hopped ? this.hop : this.tone)) / RATE;
        }
        const payload = this.#encoder.encode(pcm);
        // A one-byte-header extension block (RFC 8285) of one element: the level, V set.
        const ext = this.levelExt > 0
          ? [0xbe, 0xde, 0, 1, this.levelExt << 4, 0x80 | this.level, 0, 0]
          : [];
        const packet = new Uint8Array(12 + ext.length + payload.length);
        const v = new DataView(packet.buffer);
        packet[0] = ext.length > 0 ? 0x90 : 0x80;
        packet.set(ext, 12);
        packet[1] = PT;
        v.setUint16(2, sent & 0xffff);
        v.setUint32(4, (sent * FRAME) >>> 0);
        v.setUint32(8, ssrc);
        packet.set(payload, 12 + ext.length);
        sent++;
        if (this.dropEvery > 0 && sent % this.dropEvery === 0) continue;
        this.socket.send(packet, port, "127.0.0.1");
      }
    }, 10);
  }

  /** Its encoder adds in-band FEC sized for `lossPercent` (the stream a `fec` join promises). */
  sendFec(lossPercent: number): void {
    this.#encoder.setFec(true, lossPercent);
  }

  /** Power of `f` in each 20 ms of the last second received. */
  blocks(f: number): number[] {
    const last = this.#last();
    const out: number[] = [];
    for (let b = 0; b < 50; b++) {
      out.push(goertzel(last.slice(b * FRAME, (b + 1) * FRAME), RATE, f));
    }
    return out;
  }

  #last(): number[] {
    return [
      ...this.#received.subarray(this.#write),
      ...this.#received.subarray(0, this.#write),
    ];
  }

  /** Power of `f` in the last second received (mean over 100 ms blocks). */
  power(f: number): number {
    const last = this.#last();
    const block = RATE / 10;
    let sum = 0;
    for (let b = 0; b < 10; b++) sum += goertzel(last.slice(b * block, (b + 1) * block), RATE, f);
    return sum / 10;
  }

  close(): void {
    clearInterval(this.#timer);
    this.#encoder.close();
    this.#decoder.close();
    try {
      this.socket.close();
    } catch {
      // Closed already.
    }
  }
}

/**
 * Joins `client` through `h` as a plain-RTP participant (`body`: room, id and the like; `rtp`:
 * fields added to its own address and payload type) and starts its tone towards the port the
 * gateway bound; resolves that port.
 */
export async function joinRtp(
  h: { ask(body: JsonObject): Promise<{ data: JsonObject }> },
  client: RtpToneClient,
  body: JsonObject,
  rtp: JsonObject = {},
): Promise<number> {
  const port = await client.bind();
  const joined = await h.ask({
    request: "join",
    ...body,
    rtp: { ip: "127.0.0.1", port, payload_type: PT, ...rtp },
  });
  assert.equal(joined.data.audiobridge, "joined", JSON.stringify(joined.data));
  const bound = (joined.data.rtp as JsonObject).port as number;
  client.start(bound);
  return bound;
}
