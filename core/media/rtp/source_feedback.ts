/**
 * What an RTP source stream does besides fanning packets out (`rtp_source.ts`): a tap on its
 * packets that learns the source's SSRC and keeps the last keyframe (`videobufferkf`, sent
 * first to a line that starts, as janus_streaming.c does on setup_media), and the RTCP port of
 * an RTCP-capable source (`videortcpport`): the source's address is learnt from what it sends
 * there, and keyframe requests go back to it as a PLI (only: janus_streaming.c sends no FIR), at most one a second
 * (`KeyframeLimiter`; a held-back request goes out when due). Viewers' REMBs are relayed too.
 * No receiver reports: janus_streaming.c sends such a source PLIs and REMBs only (Janus 1.1.2
 * sent it nothing else, measured).
 *
 * @module
 */
import dgram from "node:dgram";
import { marker, setSsrc, ssrc, timestamp } from "./header.ts";
import { KeyframeLimiter } from "./keyframe_limiter.ts";
import { type KeyframeTest, startsKeyframe } from "./keyframes.ts";
import { buildPli, buildRemb, parseRtcp } from "./rtcp.ts";
import { randomSsrc } from "./rtp_send.ts";
import type { SendLine } from "./send_lines.ts";

type Socket = ReturnType<typeof dgram.createSocket>;

/** What a source stream's packets go to: a viewer's line, or a tap. */
export interface PacketSink {
  send(buf: Uint8Array, length: number, nowMs: number): void;
  detach(): void;
}

/** How often a held-back keyframe request is checked. */
const DUE_CHECK_MS = 100;

/** The source's SSRC and (given its codec's keyframe test) its last complete keyframe. */
export class StreamTap implements PacketSink {
  /** The SSRC of the source's last packet (0 before one). */
  ssrc = 0;
  readonly #isKeyframe: KeyframeTest | undefined;
  #latest: Uint8Array[] = [];
  #pending: Uint8Array[] = [];
  #pendingTs = -1;

  /** `isKeyframe`: keeps the last keyframe (`videobufferkf`); undefined keeps none. */
  constructor(isKeyframe: KeyframeTest | undefined) {
    this.#isKeyframe = isKeyframe;
  }

  /** Packets of the last complete keyframe. */
  get keyframePackets(): number {
    return this.#latest.length;
  }

  send(buf: Uint8Array, length: number): void {
    this.ssrc = ssrc(buf);
    const isKeyframe = this.#isKeyframe;
    if (!isKeyframe) return;
    const ts = timestamp(buf);
    if (this.#pendingTs >= 0) {
      if (ts === this.#pendingTs) {
        this.#pending.push(buf.slice(0, length));
        if (marker(buf)) this.#complete();
        return;
      }
      // A packet of the next frame ends the keyframe (the reference's rule, for a lost marker).
      this.#complete();
    }
    if (!startsKeyframe(isKeyframe, buf, length)) return;
    this.#pendingTs = ts;
    this.#pending = [buf.slice(0, length)];
    if (marker(buf)) this.#complete();
  }

  detach(): void {}

  /**
   * Sends the kept keyframe to `line` (which starts on it). Under another SSRC than the
   * source's, so that the line's rewriter starts a new run with the live packets after it:
   * their sequence numbers and timestamps then follow on, as if the keyframe had just come.
   */
  replay(line: SendLine, nowMs: number): void {
    const other = (this.ssrc ^ 1) >>> 0;
    for (const packet of this.#latest) {
      const copy = packet.slice();
      setSsrc(copy, other);
      line.send(copy, copy.length, nowMs);
    }
  }

  #complete(): void {
    this.#latest = this.#pending;
    this.#pending = [];
    this.#pendingTs = -1;
  }
}

/** The RTCP side of an RTCP-capable source stream. */
export class SourceRtcp {
  readonly port: number;
  /** RTCP packets received from the source, keyframe requests sent to it. */
  received = 0;
  requestsSent = 0;
  rembsSent = 0;
  readonly #socket: Socket;
  readonly #mediaSsrc: () => number;
  readonly #limiter = new KeyframeLimiter();
  readonly #ssrc = randomSsrc();
  #remote: { address: string; port: number } | undefined;
  /** The source's SSRC from its sender reports (RTP may not have come yet). */
  #reportedSsrc = 0;
  /** The lowest viewer REMB since the last one relayed (0: none), and when that was. */
  #lowestBps = 0;
  #rembAtMs = 0;
  #rembTimer: ReturnType<typeof setTimeout> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  private constructor(socket: Socket, mediaSsrc: () => number) {
    this.#socket = socket;
    this.#mediaSsrc = mediaSsrc;
    this.port = socket.address().port;
    socket.on("message", (buf: Uint8Array, from: { address: string; port: number }) => {
      this.received++;
      const remote = this.#remote;
      if (!remote || remote.address !== from.address || remote.port !== from.port) {
        this.#remote = { address: from.address, port: from.port };
      }
      for (const p of parseRtcp(buf) ?? []) if (p.type === "sr") this.#reportedSsrc = p.ssrc;
    });
  }

  /** Binds `port` (0: a free one in `range`) on `host`. */
  static async open(
    host: string,
    port: number,
    range: { min: number; max: number },
    mediaSsrc: () => number,
  ): Promise<SourceRtcp> {
    return new SourceRtcp(await bindSourceSocket(host, port, range), mediaSsrc);
  }

  /** A keyframe is wanted: a PLI now, or when the limiter allows. */
  requestKeyframe(nowMs: number): void {
    if (this.#limiter.request(nowMs)) this.#send();
    else this.#timer ??= setInterval(() => this.#due(), DUE_CHECK_MS);
  }

  /**
   * A viewer's REMB: the lowest since the last relay goes to the source at most once a second
   * (janus_streaming.c: the first one starts the clock and goes out a second later).
   */
  receiverEstimate(bps: number, nowMs: number): void {
    // Until the source's RTCP is heard there is nowhere to send (janus_streaming.c ignores them).
    if (bps <= 0 || !this.#remote) return;
    if (this.#lowestBps === 0 || bps < this.#lowestBps) this.#lowestBps = bps;
    if (this.#rembAtMs === 0) this.#rembAtMs = nowMs;
    const wait = this.#rembAtMs + 1000 - nowMs;
    if (wait <= 0 || this.#rembTimer !== undefined) {
      if (wait <= 0) this.#sendRemb(nowMs);
      return;
    }
    this.#rembTimer = setTimeout(() => {
      this.#rembTimer = undefined;
      this.#sendRemb(performance.now());
    }, wait);
  }

  #sendRemb(nowMs: number): void {
    const remote = this.#remote;
    if (this.#lowestBps === 0 || !remote) return;
    this.#rembAtMs = nowMs;
    const media = this.#mediaSsrc() || this.#reportedSsrc;
    this.#socket.send(buildRemb(this.#ssrc, this.#lowestBps, [media]), remote.port, remote.address);
    this.rembsSent++;
    this.#lowestBps = 0;
  }

  keyframeReceived(): void {
    this.#limiter.keyframeReceived();
  }

  close(): void {
    clearTimeout(this.#rembTimer);
    this.#rembTimer = undefined;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#socket.close();
  }

  #due(): void {
    if (this.#limiter.due(performance.now())) this.#send();
    if (!this.#limiter.pending) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #send(): void {
    const remote = this.#remote;
    // Nothing came from the source yet: there is nowhere to send (the reference's rule too).
    if (!remote) return;
    const media = this.#mediaSsrc() || this.#reportedSsrc;
    this.requestsSent++;
    this.#socket.send(buildPli(this.#ssrc, media), remote.port, remote.address);
  }
}

/** Ports tried for one `port: 0` socket before giving up. */
const PORT_ATTEMPTS = 64;
let nextPort = 0;

/**
 * A node:dgram socket bound on `host:port` (0: the next free one in `range`), for the
 * low-rate sockets of a source (RTCP, data).
 */
export async function bindSourceSocket(
  host: string,
  port: number,
  range: { min: number; max: number },
): Promise<Socket> {
  if (port !== 0) return await bindOne(host, port);
  const size = range.max - range.min + 1;
  let last: unknown;
  for (let i = 0; i < Math.min(PORT_ATTEMPTS, size); i++) {
    try {
      return await bindOne(host, range.min + ((nextPort++) % size));
    } catch (e) {
      last = e;
    }
  }
  throw new Error(`No free port in ${range.min}-${range.max}: ${String(last)}`);
}

function bindOne(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: host.includes(":") ? "udp6" : "udp4" });
    const failed = (e: Error) => {
      try {
        socket.close();
      } catch {
        // Never bound: nothing to close.
      }
      reject(e);
    };
    socket.once("error", failed);
    try {
      socket.bind(port, host, () => {
        socket.off("error", failed);
        resolve(socket);
      });
    } catch (e) {
      failed(e instanceof Error ? e : new Error(String(e)));
    }
  });
}
