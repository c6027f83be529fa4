/**
 * Test tools around recordings and plain RTP: real RTP captured from ffmpeg (VP8 from a test
 * pattern, Opus from a sine) on a loopback UDP socket, Janus's `janus-pp-rec` to convert an
 * MJR file, and ffprobe to read the result (Debian packages `janus-tools` and `ffmpeg`).
 *
 * @module
 */
import dgram from "node:dgram";
import type { AddressInfo } from "node:net";

/** One captured datagram and when it came (performance.now()). */
export interface Captured {
  packet: Uint8Array;
  atMs: number;
}

/** Fails naming the Debian package when a tool is missing. */
export async function requireTool(name: string, pkg: string): Promise<void> {
  const { success } = await new Deno.Command("sh", { args: ["-c", `command -v ${name}`] })
    .output();
  if (!success) throw new Error(`${name} is missing: apt-get install -y ${pkg}`);
}

/** A UDP socket on 127.0.0.1 that keeps what it receives. */
export class UdpSink {
  readonly received: Captured[] = [];
  readonly #socket = dgram.createSocket("udp4");
  #port = 0;

  static async open(): Promise<UdpSink> {
    const sink = new UdpSink();
    await new Promise<void>((resolve) => sink.#socket.bind(0, "127.0.0.1", () => resolve()));
    sink.#port = (sink.#socket.address() as AddressInfo).port;
    sink.#socket.on("message", (msg: Uint8Array) => {
      sink.received.push({ packet: new Uint8Array(msg), atMs: performance.now() });
    });
    return sink;
  }

  get port(): number {
    return this.#port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}

/**
 * Real-time RTP from ffmpeg for `seconds`: VP8 640x480 at 30 fps (keyframe every second) or
 * Opus 48 kHz, payload type `pt`; SRTP-protected with `srtp`.
 */
export async function ffmpegRtp(
  kind: "audio" | "video",
  seconds: number,
  pt: number,
  /** SRTP instead: the suite's name (e.g. AES_CM_128_HMAC_SHA1_80) and base64 master key. */
  srtp?: { suite: string; key: string },
): Promise<Captured[]> {
  const sink = await UdpSink.open();
  const input = kind === "video"
    ? ["-f", "lavfi", "-i", `testsrc=size=640x480:rate=30:duration=${seconds}`]
    : ["-f", "lavfi", "-i", `sine=frequency=440:sample_rate=48000:duration=${seconds}`];
  const codec = kind === "video"
    ? ["-c:v", "libvpx", "-b:v", "800k", "-g", "30", "-deadline", "realtime"]
    : ["-c:a", "libopus", "-b:a", "48k"];
  const out = await new Deno.Command("ffmpeg", {
    args: [
      "-hide_banner",
      "-loglevel",
      "error",
      "-re",
      ...input,
      ...codec,
      "-payload_type",
      String(pt),
      "-f",
      "rtp",
      ...(srtp ? ["-srtp_out_suite", srtp.suite, "-srtp_out_params", srtp.key] : []),
      `${srtp ? "srtp" : "rtp"}://127.0.0.1:${sink.port}?pkt_size=1200`,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  await new Promise((resolve) => setTimeout(resolve, 100));
  await sink.close();
  if (!out.success) throw new Error(`ffmpeg: ${new TextDecoder().decode(out.stderr)}`);
  // RTCP (SRs) goes to port+1: only RTP is here.
  return sink.received;
}

/** Converts an MJR file with janus-pp-rec; resolves its report and the output's path. */
export async function janusPpRec(
  mjr: string,
  target: string,
): Promise<{ success: boolean; log: string }> {
  const out = await new Deno.Command("janus-pp-rec", {
    args: ["-o", mjr, target],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const log = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { success: out.success, log };
}

/** What ffprobe reads of a media file. */
export interface Probe {
  duration: number;
  streams: { codec_name: string; codec_type: string; width?: number; height?: number }[];
}

/** ffprobe's duration (seconds) and streams of `path`. */
export async function ffprobe(path: string): Promise<Probe> {
  const out = await new Deno.Command("ffprobe", {
    args: ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`ffprobe: ${new TextDecoder().decode(out.stderr)}`);
  const json = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    format: { duration?: string };
    streams: Probe["streams"];
  };
  return { duration: Number(json.format.duration ?? "NaN"), streams: json.streams };
}

/** Video frames ffmpeg decodes from `path` (a media file or an SDP): framecrc lines. */
export async function decodedFrames(path: string, extra: string[] = []): Promise<number> {
  const out = await new Deno.Command("ffmpeg", {
    args: [
      "-hide_banner",
      "-loglevel",
      "error",
      "-protocol_whitelist",
      "file,udp,rtp",
      ...extra,
      "-i",
      path,
      "-map",
      "0:v:0",
      "-f",
      "framecrc",
      "-",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).split("\n");
  return lines.filter((l) => l !== "" && !l.startsWith("#")).length;
}

/** One (S)RTP stream for ffmpeg to receive on 127.0.0.1, as payload type 100. */
export interface SdpStream {
  kind: "audio" | "video";
  port: number;
  /** PT 100's rtpmap, e.g. `VP8/90000`. */
  rtpmap: string;
  /** SRTP: the suite's SDES name (e.g. AES_CM_128_HMAC_SHA1_80) and base64 key. */
  crypto?: { suite: string; key: string };
}

/** Writes to `path` the SDP file that has ffmpeg receive `stream`. */
export async function writeStreamSdp(path: string, stream: SdpStream): Promise<void> {
  const { kind, port, rtpmap, crypto } = stream;
  await Deno.writeTextFile(
    path,
    [
      "v=0",
      "o=- 0 0 IN IP4 127.0.0.1",
      "s=stream",
      "c=IN IP4 127.0.0.1",
      "t=0 0",
      `m=${kind} ${port} ${crypto ? "RTP/SAVP" : "RTP/AVP"} 100`,
      `a=rtpmap:100 ${rtpmap}`,
      ...(crypto ? [`a=crypto:1 ${crypto.suite} inline:${crypto.key}`] : []),
      "",
    ].join("\n"),
  );
}

/** ffmpeg decoding what the SDP file `sdp` describes, written as `output` says. */
export function ffmpegFromSdp(
  sdp: string,
  output: string[],
  signal: AbortSignal,
): Promise<Deno.CommandOutput> {
  return new Deno.Command("ffmpeg", {
    args: [
      ...["-hide_banner", "-loglevel", "error"],
      ...["-protocol_whitelist", "file,udp,rtp,srtp", "-i", sdp],
      ...output,
    ],
    stdout: "piped",
    stderr: "piped",
    signal,
  }).output();
}

/** Frames in ffmpeg's `-f framecrc -` output. */
export function framecrcFrames(out: Deno.CommandOutput): number {
  return new TextDecoder().decode(out.stdout).split("\n")
    .filter((l) => l !== "" && !l.startsWith("#")).length;
}
